/* The admin's release policies: the table as JSON (intervals in seconds), a preview of how many
 * waiting reports one proposed policy would release at once (the sweep's own rule, counted in a
 * rolled-back block: sql/definitions/85_staff.sql), and saving one with a required reason, audited
 * with the row before and after. Nothing here reads a report. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "validate.h"

#define POLICY_SITE_MAX   64
#define POLICY_REASON_MAX 2000
/* Ten years: longer than any rule a site could mean, short enough for any interval. */
#define POLICY_SECONDS_MAX 315360000LL

/* One proposed policy as the SQL functions' first eight text parameters (NULL: the table's
 * default). */
struct policy_params {
    const char *p[8];
    char seconds[4][24];
};

static const char *const modalities[] = {"*", "CT", "MR", "XR", "US", "MG", "NM", "PET", NULL};
static const char *const modes[] = {"physician_review", "immediate", NULL};

/* An optional whole number of seconds from 1 to POLICY_SECONDS_MAX; null and absent are the
 * default. */
static const char *seconds(struct validation *v, json_t *in, const char *key, char out[24])
{
    json_t *j = json_object_get(in, key);
    if (!j || json_is_null(j))
        return NULL;
    if (!json_is_integer(j) || json_integer_value(j) < 1 ||
        json_integer_value(j) > POLICY_SECONDS_MAX) {
        v_fail(v, "", key, "must be a whole number of seconds from 1 to 315360000, or null");
        return NULL;
    }
    snprintf(out, 24, "%lld", (long long)json_integer_value(j));
    return out;
}

/* Reads the policy members of the body; the fields of a release_policies row (README, issue 17),
 * site and modality defaulting like the table's columns to '*'. */
static void read_policy(struct validation *v, json_t *in, struct policy_params *pp)
{
    const char *site = v_string(v, in, "", "site", false, POLICY_SITE_MAX);
    const char *modality = v_choice(v, in, "", "modality", false, modalities);
    pp->p[0] = site ? site : "*";
    pp->p[1] = modality ? modality : "*";
    pp->p[2] = v_choice(v, in, "", "mode", false, modes);
    pp->p[3] = seconds(v, in, "auto_release_after_seconds", pp->seconds[0]);
    json_t *allowed = json_object_get(in, "patient_preference_allowed");
    pp->p[4] = NULL;
    if (allowed && !json_is_null(allowed)) {
        if (json_is_boolean(allowed))
            pp->p[4] = json_is_true(allowed) ? "true" : "false";
        else
            v_fail(v, "", "patient_preference_allowed", "must be true, false or null");
    }
    pp->p[5] = seconds(v, in, "max_patient_delay_seconds", pp->seconds[1]);
    pp->p[6] = seconds(v, in, "hold_default_seconds", pp->seconds[2]);
    pp->p[7] = seconds(v, in, "hold_max_seconds", pp->seconds[3]);
}

#define POLICY_FIELDS                                                                              \
    "site", "modality", "mode", "auto_release_after_seconds", "patient_preference_allowed",        \
        "max_patient_delay_seconds", "hold_default_seconds", "hold_max_seconds"

/* A jsonb text the SQL built into the answer's JSON. */
static json_t *parsed(const char *text)
{
    return text ? json_loads(text, 0, NULL) : json_null();
}

int h_admin_policies(struct req *rq)
{
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_POLICIES_LIST, 0, NULL, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++)
        if (json_array_append_new(items, parsed(db_value(res, i, "policy"))) < 0) {
            json_decref(items);
            items = NULL;
        }
    return req_json(rq, 200, items ? json_pack("{s:o}", "policies", items) : NULL);
}

int h_admin_policy_preview(struct req *rq)
{
    static const char *const fields[] = {POLICY_FIELDS, NULL};
    struct validation v = {0};
    struct policy_params pp = {0};
    v_only(&v, rq->in, "", fields);
    read_policy(&v, rq->in, &pp);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_POLICY_PREVIEW, 8, pp.p, &res)))
        return s;
    const char *n = db_value(res, 0, "would_release");
    /* A preview changes nothing, but who looked at what is still the audit's. */
    json_t *d = json_pack("{s:O, s:s}", "policy", rq->in, "would_release", n);
    char *dtext = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    const char *ap[7] = {role_name(rq->who.role), rq->who.sub,   "policy.preview", NULL, dtext,
                         rq->client_addr,         rq->request_id};
    PGresult *audited;
    s = dtext ? req_run(rq, Q_AUDIT, 7, ap, &audited) : req_problem(rq, 500, "Out of memory.");
    free(dtext);
    if (s)
        return s;
    return req_json(rq, 200, json_pack("{s:I}", "would_release", (json_int_t)atoll(n)));
}

int h_admin_policy_save(struct req *rq)
{
    static const char *const fields[] = {POLICY_FIELDS, "reason", NULL};
    struct validation v = {0};
    struct policy_params pp = {0};
    v_only(&v, rq->in, "", fields);
    read_policy(&v, rq->in, &pp);
    const char *reason = v_string(&v, rq->in, "", "reason", true, POLICY_REASON_MAX);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[13] = {
        pp.p[0],     pp.p[1],        pp.p[2],        pp.p[3], pp.p[4],
        pp.p[5],     pp.p[6],        pp.p[7],        reason,  role_name(rq->who.role),
        rq->who.sub, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_POLICY_SAVE, 13, p, &res)))
        return s;
    return req_json(rq, 200, parsed(db_value(res, 0, "policy")));
}
