/* libFuzzer harness for the router (server/router.c over the real table, server/routes.c): any
 * method and path. A match names a row whose method is the one asked for, and its {id} is a
 * canonical UUID (its {fid} a FHIR id) taken from the path, or empty for a pattern without one; a
 * wrong method lists in Allow only methods the table has. The first byte splits method from path.
 */
#include "../../server/fhir_resources.c"
#include "../../server/router.c"
#include "../../server/routes.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The handlers are never called here; the table only needs their addresses. */
#define STUB(name)                                                                                 \
    int name(struct req *rq)                                                                       \
    {                                                                                              \
        (void)rq;                                                                                  \
        return 500;                                                                                \
    }
STUB(h_healthz)
STUB(h_readyz)
STUB(h_metrics)
STUB(h_ingest_event)
STUB(h_ingest_report)
STUB(h_session_create)
STUB(h_session_delete)
STUB(h_patient_studies)
STUB(h_patient_study)
STUB(h_language)
STUB(h_patient_language_get)
STUB(h_patient_language_put)
STUB(h_patient_discussion)
STUB(h_physician_worklist)
STUB(h_physician_study)
STUB(h_physician_release)
STUB(h_physician_hold)
STUB(h_physician_discussions)
STUB(h_physician_discussion_answer)
STUB(h_staff_discussions)
STUB(h_staff_discussion_answer)
STUB(h_physician_session_create)
STUB(h_patient_preference_get)
STUB(h_patient_preference_put)
STUB(h_patient_study_preference)
STUB(h_admin_holds)
STUB(h_admin_notifications)
STUB(h_fhir_metadata)
STUB(h_fhir_read)
STUB(h_fhir_search)
STUB(h_fhir_smart_configuration)
STUB(h_notify_unsubscribe)
STUB(h_patient_contact_get)
STUB(h_patient_contact_put)
STUB(h_physician_notifications_put)
STUB(h_staff_session_create)
STUB(h_staff_me)
STUB(h_admin_policies)
STUB(h_admin_policy_preview)
STUB(h_admin_policy_save)
STUB(h_staff_patients)
STUB(h_staff_access_code)
STUB(h_staff_patient_contact_put)
STUB(h_staff_proxy_links)
STUB(h_staff_proxy_add)
STUB(h_staff_proxy_link_grant)
STUB(h_staff_proxy_code)
STUB(h_staff_proxy_link_renew)
STUB(h_staff_proxy_link_end)
STUB(h_staff_proxy_patient)
STUB(h_admin_physicians)
STUB(h_admin_physician_invitation)
STUB(h_admin_physician_status)
STUB(h_physician_invitation_accept)
STUB(h_admin_closed_days)
STUB(h_admin_closed_day_put)
STUB(h_admin_closed_day_delete)
STUB(h_admin_overdue)
STUB(h_admin_config)
STUB(h_proxy_session_create)
STUB(h_proxy_patients)
STUB(h_proxy_patient_studies)
STUB(h_proxy_study)
STUB(h_proxy_access_log)
STUB(h_proxy_own_record_get)
STUB(h_proxy_own_record)
STUB(h_patient_family_access_get)
STUB(h_patient_family_access)
STUB(h_patient_access_log)
STUB(h_patient_proxies)
STUB(h_patient_proxy_end)
STUB(h_physician_proxy_access)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024)
        return 0;
    size_t split = (size_t)data[0] % 12;
    if (split > size - 1)
        split = size - 1;
    char method[16], *path = malloc(size);
    memcpy(method, data + 1, split);
    method[split] = '\0';
    memcpy(path, data + 1 + split, size - 1 - split);
    path[size - 1 - split] = '\0';
    const struct route *r = NULL;
    char id[ROUTER_MAX_ID], allow[128];
    enum router_result res = router_match(method, path, &r, id, allow, sizeof(allow));
    if (res == ROUTER_FOUND) {
        if (!r || strcmp(r->method, method) != 0)
            __builtin_trap();
        bool has_uuid = strstr(r->pattern, "{id}") != NULL;
        bool has_fid = strstr(r->pattern, "{fid}") != NULL;
        if ((has_uuid || has_fid) != (id[0] != '\0'))
            __builtin_trap();
        if (has_uuid && (!router_is_uuid(id, strlen(id)) || !strstr(path, id)))
            __builtin_trap();
        if (has_fid && (!fhir_id_valid(id, strlen(id)) || !strstr(path, id)))
            __builtin_trap();
    } else if (res == ROUTER_BAD_METHOD) {
        if (r || !allow[0])
            __builtin_trap();
        char *save = NULL;
        for (char *m = strtok_r(allow, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
            bool known = false;
            for (const struct route *t = routes; t->method; t++)
                known |= strcmp(t->method, m) == 0;
            if (!known || strcmp(m, method) == 0)
                __builtin_trap();
        }
    } else if (r) {
        __builtin_trap();
    }
    free(path);
    return 0;
}
