/* The administrators' physicians: who has reports waiting longest, an invitation (a one-time code,
 * hashed at rest, expiring) with which a physician sets their own password on the physician page,
 * a reset (the same, with the password removed and every session ended), and disabling (sign-in
 * refused, sessions ended through the revocation table). The SQL writes and audits
 * (sql/definitions/85_staff.sql). No report text is read. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_code.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "revocation.h"
#include "timefmt.h"
#include "validate.h"

#define PHYSICIAN_ID_MAX 64
/* Long enough to reach someone over a weekend, short enough that a lost email goes stale. */
#define INVITATION_VALID_HOURS "72"

int h_admin_physicians(struct req *rq)
{
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_ADMIN_PHYSICIANS, 0, NULL, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s, s:s, s:s?, s:b, s:b, s:I}", "physician_id",
                              db_value(res, i, "physician_id"), "name", db_value(res, i, "name"),
                              "email", db_value(res, i, "email"), "has_password",
                              strcmp(db_value(res, i, "has_password"), "t") == 0, "disabled",
                              strcmp(db_value(res, i, "disabled"), "t") == 0, "waiting",
                              (json_int_t)atoll(db_value(res, i, "waiting")));
        if (e)
            timefmt_json_set(e, "oldest_waiting_since", db_value(res, i, "oldest_waiting_since"));
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "physicians", items) : NULL);
}

int h_admin_physician_invitation(struct req *rq)
{
    static const char *const fields[] = {"physician_id", "reset", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "physician_id", true, PHYSICIAN_ID_MAX);
    json_t *reset = json_object_get(rq->in, "reset");
    if (reset && !json_is_boolean(reset))
        v_fail(&v, "", "reset", "must be true or false");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct access_code code;
    if (access_code_new(&code) < 0)
        return req_problem(rq, 500, "No randomness for an invitation.");
    const char *p[9] = {id,
                        code.selector,
                        code.hash,
                        INVITATION_VALID_HOURS,
                        json_is_true(reset) ? "true" : "false",
                        role_name(rq->who.role),
                        rq->who.sub,
                        rq->request_id,
                        rq->client_addr};
    PGresult *res;
    int s = req_run(rq, Q_INVITE_PHYSICIAN, 9, p, &res);
    if (s) {
        memset(&code, 0, sizeof(code));
        return s;
    }
    /* The code travels in the fragment, which browsers never send: it reaches no server log. */
    char url[600] = "";
    if (rq->cfg->public_url)
        snprintf(url, sizeof(url), "%s/invitation.html#code=%s", rq->cfg->public_url, code.code);
    json_t *body = json_pack("{s:s, s:s, s:s?}", "physician_id", id, "invitation_code", code.code,
                             "url", url[0] ? url : NULL);
    if (body)
        timefmt_json_set(body, "expires_at", db_value(res, 0, "expires_at"));
    if (json_is_true(reset))
        revocation_caught_up(ROLE_PHYSICIAN, id, rq->request_id);
    memset(&code, 0, sizeof(code));
    memset(url, 0, sizeof(url));
    return req_json(rq, 201, body);
}

int h_admin_physician_status(struct req *rq)
{
    static const char *const fields[] = {"physician_id", "disabled", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "physician_id", true, PHYSICIAN_ID_MAX);
    json_t *disabled = json_object_get(rq->in, "disabled");
    if (!json_is_boolean(disabled))
        v_fail(&v, "", "disabled", "is required: true or false");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[6] = {id,
                        json_is_true(disabled) ? "true" : "false",
                        role_name(rq->who.role),
                        rq->who.sub,
                        rq->request_id,
                        rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SET_PHYSICIAN_DISABLED, 6, p, &res)))
        return s;
    if (json_is_true(disabled))
        revocation_caught_up(ROLE_PHYSICIAN, id, rq->request_id);
    return req_json(rq, 200,
                    json_pack("{s:s, s:b}", "physician_id", id, "disabled",
                              strcmp(db_value(res, 0, "disabled"), "true") == 0));
}
