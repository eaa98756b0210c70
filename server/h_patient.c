/* The patient's endpoints: own studies, one study (with the report once released), and asking to
 * talk the results over. Another patient's study answers 404 exactly like a missing one
 * (CONTRACT invariant 3), because every query is keyed by the token's patient id. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "patient_view.h"
#include "timefmt.h"
#include "validate.h"

#define MAX_PREFERRED_TIMES 10
#define MESSAGE_MAX_BYTES   2000

int h_patient_studies(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = db_run(rq, Q_PATIENT_STUDIES, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *study = patient_view_study(res, i);
        if (!study || json_array_append_new(list, study) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "studies", list) : NULL);
}

int h_patient_study(struct req *rq)
{
    const char *p[4] = {rq->who.sub, rq->id, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = db_run(rq, Q_PATIENT_STUDY, 4, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such study.");
    json_t *study = patient_view_study(res, 0);
    if (!study)
        return req_problem(rq, 500, "Out of memory.");
    /* The report columns are non-NULL only when the gate function returned the released
     * version to this patient. */
    if (db_value(res, 0, "findings")) {
        PGresult *history = NULL;
        const char *version = db_value(res, 0, "version");
        if (version && strcmp(version, "1") != 0) {
            const char *hp[1] = {rq->id};
            if ((s = db_run(rq, Q_RELEASE_HISTORY, 1, hp, &history))) {
                json_decref(study);
                return s;
            }
        }
        if (patient_view_add_report(study, res, 0, history) < 0) {
            json_decref(study);
            return req_problem(rq, 500, "Out of memory.");
        }
    }
    return req_json(rq, 200, study);
}

int h_patient_discussion(struct req *rq)
{
    static const char *const fields[] = {"preferred_times", "message", NULL};
    struct validation v = {rq, 0};
    v_only(&v, rq->in, "", fields);
    const char *message = v_string(&v, rq->in, "", "message", false, MESSAGE_MAX_BYTES);
    json_t *times = json_object_get(rq->in, "preferred_times");
    /* A PostgreSQL array literal of validated timestamps (they hold no quotes or commas). */
    char literal[MAX_PREFERRED_TIMES * 40 + 8] = "{";
    if (times && !json_is_null(times)) {
        if (!json_is_array(times))
            v_fail(&v, "", "preferred_times", "must be a list of RFC 3339 timestamps");
        else if (json_array_size(times) > MAX_PREFERRED_TIMES)
            v_fail(&v, "", "preferred_times", "may hold at most 10 times");
        size_t i;
        json_t *t;
        json_array_foreach(times, i, t)
        {
            if (v.status)
                break;
            const char *ts = json_string_value(t);
            if (!ts || !timefmt_is_rfc3339(ts)) {
                v_fail(&v, "", "preferred_times", "must be a list of RFC 3339 timestamps");
                break;
            }
            if (i)
                strcat(literal, ",");
            strcat(literal, ts);
        }
    }
    strcat(literal, "}");
    if (v.status)
        return v.status;

    const char *p[6] = {rq->who.sub, rq->id, literal, message, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = db_run(rq, Q_REQUEST_DISCUSSION, 6, p, &res)))
        return s;
    char created_at[TIMEFMT_RFC3339_LEN];
    json_t *pref = json_loads(db_value(res, 0, "preferred_times"), 0, NULL);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:o*, s:s?, s:s}", "id", db_value(res, 0, "id"), "study_id",
                  rq->id, "state", db_value(res, 0, "state"), "preferred_times",
                  pref ? pref : json_array(), "message", db_value(res, 0, "message"), "created_at",
                  timefmt_pg_to_rfc3339(db_value(res, 0, "created_at"), created_at));
    bool created = strcmp(db_value(res, 0, "created"), "t") == 0;
    return req_json(rq, created ? 201 : 200, body);
}
