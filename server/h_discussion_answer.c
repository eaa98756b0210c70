/* Answering a patient's call-back request over HTTP: the referring physician answers the requests
 * made to them (h_physician_discussion_answer), the front desk lists and answers any
 * (h_staff_discussions, h_staff_discussion_answer). Both translate the same body into
 * discussion.h's core, which checks whose request it is and audits. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "discussion.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "timefmt.h"
#include "validate.h"

/* Strings have no length limit here: discussion.c applies its own. */
#define ANY_LENGTH SIZE_MAX

static int answer_as(struct req *rq, const char *actor_role)
{
    static const char *const fields[] = {"state", "scheduled_for", "reply", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    struct discussion_answer a = {.discussion_id = rq->id};
    a.state = v_string(&v, rq->in, "", "state", true, ANY_LENGTH);
    a.scheduled_for = v_string(&v, rq->in, "", "scheduled_for", false, ANY_LENGTH);
    a.reply = v_string(&v, rq->in, "", "reply", false, ANY_LENGTH);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct origin from = {.transport = "http",
                          .request_id = rq->request_id,
                          .client_addr = rq->client_addr,
                          .cfg = rq->cfg,
                          .actor_role = actor_role,
                          .actor_id = rq->who.sub};
    struct discussion_answer_result result;
    struct outcome o = {0};
    if (discussion_answer_apply(&a, &from, &result, &o))
        return req_fail(rq, &o);
    if (!req_keep(rq, result.row))
        return req_problem(rq, 500, "Out of memory.");
    json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "id", result.id, "study_id", result.study_id,
                            "state", result.state, "changed", result.changed);
    if (out && result.reply)
        json_object_set_new(out, "reply", json_string(result.reply));
    timefmt_json_set(out, "scheduled_for", result.scheduled_for);
    timefmt_json_set(out, "answered_at", result.updated_at);
    return req_json(rq, 200, out);
}

int h_physician_discussion_answer(struct req *rq)
{
    return answer_as(rq, "physician");
}

int h_staff_discussion_answer(struct req *rq)
{
    return answer_as(rq, role_name(rq->who.role));
}

/* The requests still to answer at the site, oldest first: who asked, about which exam, whose
 * patient, when they would like a call and what they wrote. No report text. The list is audited,
 * since it names patients. */
int h_staff_discussions(struct req *rq)
{
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_STAFF_DISCUSSIONS, 0, NULL, &res)))
        return s;
    char detail[48];
    snprintf(detail, sizeof(detail), "{\"listed\": %d}", PQntuples(res));
    const char *ap[7] = {
        role_name(rq->who.role), rq->who.sub,   "staff.discussions.list", NULL, detail,
        rq->client_addr,         rq->request_id};
    PGresult *audited;
    if ((s = req_run(rq, Q_AUDIT, 7, ap, &audited)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *pref = json_loads(db_value(res, i, "preferred_times"), 0, NULL);
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s?, s:s?}, s:{s:s, s:s}, s:o, s:s?, s:s, s:i}",
            "id", db_value(res, i, "id"), "study_id", db_value(res, i, "study_id"), "accession",
            db_value(res, i, "accession"), "modality", db_value(res, i, "modality"), "description",
            db_value(res, i, "description"), "patient", "name", db_value(res, i, "patient_name"),
            "email", db_value(res, i, "patient_email"), "phone", db_value(res, i, "patient_phone"),
            "physician", "id", db_value(res, i, "physician_id"), "name",
            db_value(res, i, "physician_name"), "preferred_times", pref ? pref : json_array(),
            "message", db_value(res, i, "message"), "state", db_value(res, i, "state"),
            "report_version", atoi(db_value(res, i, "report_version")));
        if (e && db_value(res, i, "reply"))
            json_object_set_new(e, "reply", json_string(db_value(res, i, "reply")));
        if (!e || timefmt_json_set(e, "created_at", db_value(res, i, "created_at")) < 0 ||
            timefmt_json_set(e, "scheduled_for", db_value(res, i, "scheduled_for")) < 0 ||
            timefmt_json_set(e, "answered_at", db_value(res, i, "updated_at")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "requests", list) : NULL);
}
