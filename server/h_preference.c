/* The patient's choice of when results are shared (release policies, docs/release-policies.md):
 * a standing choice for every study not yet final, and a choice per study before its report is
 * final. The database refuses the choice where the site's policy offers none (409) and once the
 * report is final (409). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "timefmt.h"
#include "validate.h"

/* No policy may allow a longer wait; the site's own maximum is checked in the database. */
#define WAIT_DAYS_MAX 365

struct choice {
    const char *release;
    char wait_days[16]; /* empty: none sent */
};

/* Validates {"release", "wait_days"?}; returns 0 or the 422 status. */
static int read_choice(struct req *rq, struct choice *c)
{
    static const char *const fields[] = {"release", "wait_days", NULL};
    static const char *const releases[] = {"immediate", "wait_for_physician", "site_default", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    c->release = v_choice(&v, rq->in, "", "release", true, releases);
    c->wait_days[0] = '\0';
    json_t *days = json_object_get(rq->in, "wait_days");
    if (!v.errors.count && days && !json_is_null(days)) {
        json_int_t n = json_is_integer(days) ? json_integer_value(days) : 0;
        if (strcmp(c->release, "wait_for_physician") != 0)
            v_fail(&v, "", "wait_days", "may be sent only with release wait_for_physician");
        else if (n < 1 || n > WAIT_DAYS_MAX)
            v_fail(&v, "", "wait_days", "must be a whole number of days from 1 to 365");
        else
            snprintf(c->wait_days, sizeof(c->wait_days), "%lld", (long long)n);
    }
    return v.errors.count ? req_invalid(rq, &v.errors) : 0;
}

static json_t *preference_body(const PGresult *res)
{
    json_t *o = json_pack("{s:s}", "release", db_value(res, 0, "release"));
    const char *days = db_value(res, 0, "wait_days");
    if (o && days)
        json_object_set_new(o, "wait_days", json_integer(atoi(days)));
    if (o)
        timefmt_json_set(o, "chosen_at", db_value(res, 0, "chosen_at"));
    return o;
}

int h_patient_preference_get(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PATIENT_PREFERENCE, 1, p, &res)))
        return s;
    json_t *o = preference_body(res);
    if (!o)
        return req_problem(rq, 500, "Out of memory.");
    const char *allowed = db_value(res, 0, "allowed");
    json_object_set_new(o, "allowed", json_boolean(allowed && strcmp(allowed, "t") == 0));
    const char *max = db_value(res, 0, "max_wait_days");
    if (max)
        json_object_set_new(o, "max_wait_days", json_integer(atoi(max)));
    return req_json(rq, 200, o);
}

int h_patient_preference_put(struct req *rq)
{
    struct choice c;
    int s;
    if ((s = read_choice(rq, &c)))
        return s;
    const char *p[5] = {rq->who.sub, c.release, c.wait_days[0] ? c.wait_days : NULL, rq->request_id,
                        rq->client_addr};
    PGresult *res;
    if ((s = req_run(rq, Q_SET_PATIENT_PREFERENCE, 5, p, &res)))
        return s;
    json_t *o = preference_body(res);
    if (o)
        json_object_set_new(o, "set_for", json_string("all_studies"));
    return req_json(rq, 200, o);
}

int h_patient_study_preference(struct req *rq)
{
    struct choice c;
    int s;
    if ((s = read_choice(rq, &c)))
        return s;
    const char *p[6] = {rq->who.sub,    rq->id,
                        c.release,      c.wait_days[0] ? c.wait_days : NULL,
                        rq->request_id, rq->client_addr};
    PGresult *res;
    if ((s = req_run(rq, Q_SET_STUDY_PREFERENCE, 6, p, &res)))
        return s;
    const char *text = db_value(res, 0, "preference");
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    return req_json(rq, 200, o);
}
