/* The front desk's proxy links (issue 17): a patient's links, a new proxy with their first code
 * and link, another link for a proxy who exists, a new code, a renewal and an early end. Thin
 * translators into proxy.c, the core `portald proxy-*` calls too; the origin carries the staff
 * member and the request id into the audit rows. A code is answered once, for the print page,
 * and never logged. */
#include <jansson.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "origin.h"
#include "outcome.h"
#include "proxy.h"
#include "req_db.h"
#include "revocation.h"
#include "timefmt.h"
#include "validate.h"

#define PROXY_NAME_MAX  200
#define PROXY_EMAIL_MAX 254

static const char *const link_kinds[] = {"guardian", "caregiver", NULL};

static struct origin staff_origin(const struct req *rq)
{
    return (struct origin){.transport = "http",
                           .request_id = rq->request_id,
                           .client_addr = rq->client_addr,
                           .cfg = rq->cfg,
                           .actor_role = role_name(rq->who.role),
                           .actor_id = rq->who.sub};
}

/* The patient named by the path, or a status (404 when there is none). */
static int find_patient(struct req *rq, PGresult **patient)
{
    const char *ip[1] = {rq->id};
    int s;
    if ((s = req_run(rq, Q_STAFF_PATIENT, 1, ip, patient)))
        return s;
    if (PQntuples(*patient) != 1)
        return req_problem(rq, 404, "No such patient.");
    return 0;
}

int h_staff_proxy_links(struct req *rq)
{
    PGresult *patient, *res;
    int s;
    if ((s = find_patient(rq, &patient)))
        return s;
    const char *p[1] = {rq->id};
    if ((s = req_run(rq, Q_STAFF_PROXY_LINKS, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s, s:b, s:s, s:s?}", "id", db_value(res, i, "link_id"), "proxy_id",
            db_value(res, i, "proxy_id"), "name", db_value(res, i, "proxy_name"), "kind",
            db_value(res, i, "kind"), "active", strcmp(db_value(res, i, "active"), "t") == 0,
            "granted_by", db_value(res, i, "granted_by"), "ended_by", db_value(res, i, "ended_by"));
        if (!e || timefmt_json_set(e, "starts_at", db_value(res, i, "starts_at")) < 0 ||
            timefmt_json_set(e, "ends_at", db_value(res, i, "ends_at")) < 0 ||
            timefmt_json_set(e, "ended_at", db_value(res, i, "ended_at")) < 0 ||
            timefmt_json_set(e, "granted_at", db_value(res, i, "granted_at")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200,
                    list ? json_pack("{s:o, s:s}", "links", list, "language",
                                     staff_sheet_language(rq, db_value(patient, 0, "language")))
                         : NULL);
}

/* kind, starts_at and ends_at of a link in the body. */
static void read_link(struct validation *v, json_t *in, struct proxy_grant *g)
{
    g->kind = v_choice(v, in, "", "kind", true, link_kinds);
    g->starts_at = v_timestamp(v, in, "", "starts_at", false);
    g->ends_at = v_timestamp(v, in, "", "ends_at", false);
}

int h_staff_proxy_add(struct req *rq)
{
    static const char *const fields[] = {"name",      "birth_date", "email", "kind",
                                         "starts_at", "ends_at",    NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    struct proxy_person person = {.name = v_string(&v, rq->in, "", "name", true, PROXY_NAME_MAX),
                                  .birth_date = v_date(&v, rq->in, "", "birth_date", true),
                                  .email =
                                      v_string(&v, rq->in, "", "email", false, PROXY_EMAIL_MAX)};
    struct proxy_grant g = {.patient_id = rq->id};
    read_link(&v, rq->in, &g);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    PGresult *patient;
    int s;
    if ((s = find_patient(rq, &patient)))
        return s;
    struct origin from = staff_origin(rq);
    struct proxy_code code;
    char link_id[PROXY_ID_LEN + 1];
    struct outcome o = {0};
    if (proxy_create_linked(&person, &g, &from, &code, link_id, &o))
        return req_fail(rq, &o);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "proxy_id", code.proxy_id,
                             "link_id", link_id, "access_code", code.code, "name", person.name,
                             "language", staff_sheet_language(rq, db_value(patient, 0, "language")),
                             "portal_url", rq->cfg->public_url);
    memset(&code, 0, sizeof(code));
    return req_json(rq, 201, body);
}

int h_staff_proxy_link_grant(struct req *rq)
{
    static const char *const fields[] = {"proxy_id", "kind", "starts_at", "ends_at", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    struct proxy_grant g = {.patient_id = rq->id,
                            .proxy_id = v_string(&v, rq->in, "", "proxy_id", true, PROXY_ID_LEN)};
    read_link(&v, rq->in, &g);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    /* A patient who does not exist is portal.proxy_grant's PT404. */
    struct origin from = staff_origin(rq);
    char link_id[PROXY_ID_LEN + 1];
    struct outcome o = {0};
    if (proxy_link_grant(&g, &from, link_id, &o))
        return req_fail(rq, &o);
    return req_json(rq, 201, json_pack("{s:s, s:s}", "link_id", link_id, "proxy_id", g.proxy_id));
}

int h_staff_proxy_code(struct req *rq)
{
    struct origin from = staff_origin(rq);
    struct proxy_code code;
    struct outcome o = {0};
    int s = proxy_new_code(rq->id, &from, &code, &o);
    if (s == 404)
        return req_problem(rq, 404, "No such proxy.");
    if (s)
        return req_fail(rq, &o);
    /* The old code's sessions were ended in the same statement; refuse them here before answering.
     */
    revocation_caught_up(ROLE_PROXY, code.proxy_id, rq->request_id);
    json_t *body = json_pack("{s:s, s:s, s:s?}", "proxy_id", code.proxy_id, "access_code",
                             code.code, "portal_url", rq->cfg->public_url);
    memset(&code, 0, sizeof(code));
    return req_json(rq, 201, body);
}

int h_staff_proxy_link_renew(struct req *rq)
{
    static const char *const fields[] = {"ends_at", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *ends_at = v_timestamp(&v, rq->in, "", "ends_at", true);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct origin from = staff_origin(rq);
    struct outcome o = {0};
    if (proxy_link_renew(rq->id, ends_at, &from, &o))
        return req_fail(rq, &o);
    return req_json(rq, 200, json_pack("{s:s, s:s}", "id", rq->id, "ends_at", ends_at));
}

int h_staff_proxy_link_end(struct req *rq)
{
    struct origin from = staff_origin(rq);
    struct outcome o = {0};
    if (proxy_link_end(rq->id, NULL, &from, &o))
        return req_fail(rq, &o);
    return req_json(rq, 200, json_pack("{s:s, s:s}", "id", rq->id, "status", "ended"));
}

/* The proxy is also this patient of the site (their own record), or, with null, no patient here:
 * one sign-in then switches between the two (h_session_switch.c). */
int h_staff_proxy_patient(struct req *rq)
{
    static const char *const fields[] = {"patient_id", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    json_t *given = json_object_get(rq->in, "patient_id");
    const char *patient_id = NULL;
    if (!given)
        v_fail(&v, "", "patient_id", "is required (null: not a patient here)");
    else if (!json_is_null(given))
        patient_id = v_string(&v, rq->in, "", "patient_id", true, PROXY_ID_LEN);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct origin from = staff_origin(rq);
    struct outcome o = {0};
    if (proxy_set_patient(rq->id, patient_id, NULL, NULL, &from, &o))
        return req_fail(rq, &o);
    return req_json(rq, 200,
                    json_pack("{s:s, s:s?}", "proxy_id", rq->id, "patient_id", patient_id));
}
