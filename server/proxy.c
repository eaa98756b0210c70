/* Proxy access, the domain calls: a proxy's own code and the links that let them act for a
 * patient. Values are checked here, every rule between them (a caregiver's end, a guardian only
 * for a minor, whose link it is) and the audit row by the database functions called. */
#include "proxy.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "origin.h"
#include "revocation.h"
#include "router.h"
#include "timefmt.h"

#define NAME_MAX_BYTES  200
#define EMAIL_MAX_BYTES 254

static const char *actor_of(const struct origin *from)
{
    return from->actor_id ? from->actor_id : "operator";
}

static const char *actor_role_of(const struct origin *from)
{
    return from->actor_role ? from->actor_role : "operator";
}

static void check_person(const struct proxy_person *p, struct field_errors *fe)
{
    if (!p->name || !*p->name || strlen(p->name) > NAME_MAX_BYTES)
        field_error_add(fe, "", "name", "is required, at most 200 bytes");
    if (!p->birth_date || !timefmt_is_date(p->birth_date))
        field_error_add(fe, "", "birth_date", "must be a date, YYYY-MM-DD");
    if (p->email && (strlen(p->email) > EMAIL_MAX_BYTES || !strchr(p->email, '@')))
        field_error_add(fe, "", "email", "must be an email address");
}

/* The link's own values; who the proxy and the patient are is checked by the caller. */
static void check_link(const struct proxy_grant *g, struct field_errors *fe)
{
    if (!g->kind || (strcmp(g->kind, "guardian") != 0 && strcmp(g->kind, "caregiver") != 0))
        field_error_add(fe, "", "kind", "must be guardian or caregiver");
    if (g->starts_at && !timefmt_is_rfc3339(g->starts_at))
        field_error_add(fe, "", "starts_at", "must be an RFC 3339 timestamp");
    if (g->ends_at && !timefmt_is_rfc3339(g->ends_at))
        field_error_add(fe, "", "ends_at", "must be an RFC 3339 timestamp");
}

static int new_code(const char *proxy_id, const struct proxy_person *p, const struct origin *from,
                    struct proxy_code *out, struct outcome *o)
{
    struct access_code code;
    if (access_code_new(&code) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Could not make an access code.");
    const char *params[10] = {
        proxy_id,         p ? p->name : NULL, p ? p->birth_date : NULL, p ? p->email : NULL,
        code.selector,    code.hash,          actor_role_of(from),      actor_of(from),
        from->request_id, from->client_addr};
    PGresult *r;
    int s;
    if ((s = db_exec(Q_PROXY_SET_CODE, 10, params, &r, o, from->request_id)))
        return s;
    const char *id = db_value(r, 0, "id");
    if (!id) {
        PQclear(r);
        return outcome_fail(o, FAIL_REFUSED, 404, "No such proxy.");
    }
    snprintf(out->proxy_id, sizeof(out->proxy_id), "%s", id);
    snprintf(out->code, sizeof(out->code), "%s", code.code);
    PQclear(r);
    return 0;
}

int proxy_create(const struct proxy_person *p, const struct origin *from, struct proxy_code *out,
                 struct outcome *o)
{
    struct field_errors fe = {0};
    check_person(p, &fe);
    if (fe.count)
        return outcome_invalid(o, &fe);
    if (!p->patient_mrn)
        return new_code(NULL, p, from, out, o);
    /* Also a patient of the site: one statement, so a refused patient keeps no proxy. */
    struct access_code code;
    if (access_code_new(&code) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Could not make an access code.");
    const char *params[12] = {NULL,
                              p->name,
                              p->birth_date,
                              p->email,
                              code.selector,
                              code.hash,
                              actor_role_of(from),
                              actor_of(from),
                              from->request_id,
                              from->client_addr,
                              p->patient_mrn,
                              p->patient_authority};
    PGresult *r;
    int s;
    if ((s = db_exec(Q_PROXY_CREATE_SAME_PERSON, 12, params, &r, o, from->request_id)))
        return s;
    snprintf(out->proxy_id, sizeof(out->proxy_id), "%s", db_value(r, 0, "id"));
    snprintf(out->code, sizeof(out->code), "%s", code.code);
    PQclear(r);
    memset(&code, 0, sizeof(code));
    return 0;
}

int proxy_create_linked(const struct proxy_person *p, const struct proxy_grant *g,
                        const struct origin *from, struct proxy_code *out,
                        char link_id[PROXY_ID_LEN + 1], struct outcome *o)
{
    if (!g->patient_id || !router_is_uuid(g->patient_id, strlen(g->patient_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such patient.");
    struct field_errors fe = {0};
    check_person(p, &fe);
    check_link(g, &fe);
    if (fe.count)
        return outcome_invalid(o, &fe);
    struct access_code code;
    if (access_code_new(&code) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Could not make an access code.");
    const char *params[13] = {p->name,        p->birth_date,    p->email,
                              code.selector,  code.hash,        actor_role_of(from),
                              actor_of(from), from->request_id, from->client_addr,
                              g->patient_id,  g->kind,          g->starts_at,
                              g->ends_at};
    PGresult *r;
    int s;
    if ((s = db_exec(Q_PROXY_CREATE_LINKED, 13, params, &r, o, from->request_id)))
        return s;
    snprintf(out->proxy_id, sizeof(out->proxy_id), "%s", db_value(r, 0, "proxy_id"));
    snprintf(out->code, sizeof(out->code), "%s", code.code);
    snprintf(link_id, PROXY_ID_LEN + 1, "%s", db_value(r, 0, "link_id"));
    PQclear(r);
    memset(&code, 0, sizeof(code));
    return 0;
}

int proxy_new_code(const char *proxy_id, const struct origin *from, struct proxy_code *out,
                   struct outcome *o)
{
    if (!proxy_id || !router_is_uuid(proxy_id, strlen(proxy_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such proxy.");
    return new_code(proxy_id, NULL, from, out, o);
}

int proxy_set_patient(const char *proxy_id, const char *patient_id, const char *mrn,
                      const char *authority, const struct origin *from, struct outcome *o)
{
    if (!proxy_id || !router_is_uuid(proxy_id, strlen(proxy_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such proxy.");
    if (patient_id && !router_is_uuid(patient_id, strlen(patient_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such patient.");
    if (mrn && !*mrn) {
        struct field_errors fe = {0};
        field_error_add(&fe, "", "mrn", "must not be empty");
        return outcome_invalid(o, &fe);
    }
    const char *params[8] = {proxy_id,
                             patient_id,
                             patient_id ? NULL : mrn,
                             patient_id ? NULL : authority,
                             actor_role_of(from),
                             actor_of(from),
                             from->request_id,
                             from->client_addr};
    PGresult *r;
    int s;
    if ((s = db_exec(Q_PROXY_SET_PATIENT, 8, params, &r, o, from->request_id)))
        return s;
    /* The earlier patient's sessions were ended in the same statement (one may have been opened by
     * switching from this proxy): refused here before the answer goes out. */
    const char *before = db_value(r, 0, "before"), *after = db_value(r, 0, "patient_id");
    if (before && (!after || strcmp(before, after) != 0))
        revocation_caught_up(ROLE_PATIENT, before, from->request_id);
    PQclear(r);
    return 0;
}

int proxy_link_grant(const struct proxy_grant *g, const struct origin *from,
                     char link_id[PROXY_ID_LEN + 1], struct outcome *o)
{
    if (g->patient_id && !router_is_uuid(g->patient_id, strlen(g->patient_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such patient.");
    struct field_errors fe = {0};
    if (!g->proxy_id || !router_is_uuid(g->proxy_id, strlen(g->proxy_id)))
        field_error_add(&fe, "", "proxy_id", "must be a proxy's id");
    if (!g->patient_id && (!g->mrn || !*g->mrn))
        field_error_add(&fe, "", "mrn", "is required");
    check_link(g, &fe);
    if (fe.count)
        return outcome_invalid(o, &fe);
    const char *params[11] = {g->proxy_id,
                              g->patient_id,
                              g->patient_id ? NULL : g->mrn,
                              g->patient_id ? NULL : g->assigning_authority,
                              g->kind,
                              g->starts_at,
                              g->ends_at,
                              actor_role_of(from),
                              actor_of(from),
                              from->request_id,
                              from->client_addr};
    PGresult *r;
    int s;
    if ((s = db_exec(Q_PROXY_GRANT, 11, params, &r, o, from->request_id)))
        return s;
    snprintf(link_id, PROXY_ID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* Runs a statement whose function raises PT404 when there is no link in force to change. */
static int run_link_change(enum query q, int n, const char *const *params,
                           const struct origin *from, struct outcome *o)
{
    PGresult *r;
    int s = db_exec(q, n, params, &r, o, from->request_id);
    if (!s)
        PQclear(r);
    return s;
}

int proxy_link_renew(const char *link_id, const char *ends_at, const struct origin *from,
                     struct outcome *o)
{
    struct field_errors fe = {0};
    if (!ends_at || !timefmt_is_rfc3339(ends_at))
        field_error_add(&fe, "", "ends_at", "must be an RFC 3339 timestamp");
    if (fe.count)
        return outcome_invalid(o, &fe);
    if (!link_id || !router_is_uuid(link_id, strlen(link_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such link in force.");
    const char *params[6] = {link_id,        ends_at,          actor_role_of(from),
                             actor_of(from), from->request_id, from->client_addr};
    return run_link_change(Q_PROXY_RENEW, 6, params, from, o);
}

int proxy_link_end(const char *link_id, const char *patient_id, const struct origin *from,
                   struct outcome *o)
{
    if (!link_id || !router_is_uuid(link_id, strlen(link_id)))
        return outcome_fail(o, FAIL_REFUSED, 404, "No such link in force.");
    const char *params[6] = {link_id,        patient_id,       actor_role_of(from),
                             actor_of(from), from->request_id, from->client_addr};
    return run_link_change(Q_PROXY_END, 6, params, from, o);
}
