/* The referring physician's endpoints: the worklist of final reports, a study with its full
 * report, release and hold (translated into release.h's core), and discussion requests. Every
 * query is keyed by the token's physician id, so another physician's study is a 404. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "release.h"
#include "req_db.h"
#include "timefmt.h"
#include "validate.h"

/* Strings have no length limit here: release.c applies its own. */
#define ANY_LENGTH SIZE_MAX

static int set_int(json_t *obj, const char *key, const char *text)
{
    return text ? json_object_set_new(obj, key, json_integer(atoi(text))) : 0;
}

int h_physician_worklist(struct req *rq)
{
    static const char *const states[] = {"awaiting_review", "released", "held", "all", NULL};
    const char *state = req_query(rq, "state");
    if (!state)
        state = "awaiting_review";
    bool known = false;
    for (const char *const *s = states; *s; s++)
        known |= strcmp(*s, state) == 0;
    if (!known)
        return req_problem(rq, 422, "state: must be one of awaiting_review, released, held, all");

    const char *p[2] = {rq->who.sub, state};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_WORKLIST, 2, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:b}", "id",
            db_value(res, i, "id"), "accession", db_value(res, i, "accession"), "modality",
            db_value(res, i, "modality"), "description", db_value(res, i, "description"),
            "priority", db_value(res, i, "priority"), "stage", db_value(res, i, "stage"), "state",
            db_value(res, i, "state"), "patient", "name", db_value(res, i, "patient_name"), "mrn",
            db_value(res, i, "mrn"), "birth_date", db_value(res, i, "birth_date"), "report_status",
            db_value(res, i, "report_status"), "overdue",
            /* Past the p90 of its stage (portal.study_overdue). */
            db_value(res, i, "overdue") && strcmp(db_value(res, i, "overdue"), "t") == 0);
        if (!e || set_int(e, "report_version", db_value(res, i, "reviewable_version")) < 0 ||
            set_int(e, "released_version", db_value(res, i, "released_version")) < 0 ||
            timefmt_json_set(e, "final_at", db_value(res, i, "final_at")) < 0 ||
            timefmt_json_set(e, "released_at", db_value(res, i, "released_at")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
            break;
        }
        if (db_value(res, i, "hold_reason")) {
            json_t *h = json_pack("{s:s, s:s?}", "reason", db_value(res, i, "hold_reason"),
                                  "reason_code", db_value(res, i, "hold_reason_code"));
            timefmt_json_set(h, "placed_at", db_value(res, i, "hold_placed_at"));
            timefmt_json_set(h, "ends_at", db_value(res, i, "hold_ends_at"));
            json_object_set_new(e, "hold", h);
        }
        /* Release policies: how a released report went out, and when an unreleased one will go
         * out by itself (absent: only the physician releases it). */
        if (db_value(res, i, "released_how"))
            json_object_set_new(e, "released_how", json_string(db_value(res, i, "released_how")));
        if (strcmp(db_value(res, i, "state"), "released") != 0)
            timefmt_json_set(e, "auto_release_at", db_value(res, i, "auto_release_at"));
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "studies", list) : NULL);
}

int h_physician_study(struct req *rq)
{
    const char *p[4] = {rq->who.sub, rq->id, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PHYSICIAN_STUDY, 4, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such study.");
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "id",
                          db_value(res, 0, "id"), "accession", db_value(res, 0, "accession"),
                          "modality", db_value(res, 0, "modality"), "description",
                          db_value(res, 0, "description"), "priority", db_value(res, 0, "priority"),
                          "site", db_value(res, 0, "site"), "stage", db_value(res, 0, "stage"),
                          "patient", "name", db_value(res, 0, "patient_name"), "mrn",
                          db_value(res, 0, "mrn"), "birth_date", db_value(res, 0, "birth_date"));
    if (!o)
        return req_problem(rq, 500, "Out of memory.");
    timefmt_json_set(o, "final_at", db_value(res, 0, "final_at"));
    if (db_value(res, 0, "findings")) {
        json_t *r =
            json_pack("{s:s, s:s, s:s, s:s}", "status", db_value(res, 0, "status"), "findings",
                      db_value(res, 0, "findings"), "impression", db_value(res, 0, "impression"),
                      "radiologist", db_value(res, 0, "radiologist"));
        set_int(r, "version", db_value(res, 0, "version"));
        timefmt_json_set(r, "signed_at", db_value(res, 0, "signed_at"));
        json_object_set_new(o, "report", r);
    }
    const char *released = db_value(res, 0, "released_version");
    const char *reviewable = db_value(res, 0, "reviewable_version");
    if (released) {
        json_t *rel = json_pack(
            "{s:s?, s:s?, s:s?}", "released_by", db_value(res, 0, "released_by_name"), "how",
            db_value(res, 0, "released_how"), "note", db_value(res, 0, "release_note"));
        set_int(rel, "version", released);
        timefmt_json_set(rel, "released_at", db_value(res, 0, "released_at"));
        timefmt_json_set(rel, "note_added_at", db_value(res, 0, "release_noted_at"));
        json_object_set_new(o, "release", rel);
    }
    if (db_value(res, 0, "hold_reason")) {
        json_t *h = json_pack("{s:s, s:s?}", "reason", db_value(res, 0, "hold_reason"),
                              "reason_code", db_value(res, 0, "hold_reason_code"));
        timefmt_json_set(h, "placed_at", db_value(res, 0, "hold_placed_at"));
        timefmt_json_set(h, "ends_at", db_value(res, 0, "hold_ends_at"));
        json_object_set_new(o, "hold", h);
    }
    /* Which release rule governs this study and, while the current version is unreleased, when
     * the policy will release it (auto_release_at absent: only the physician will). */
    json_t *plan = json_pack("{s:s?, s:s?}", "mode", db_value(res, 0, "plan_mode"), "basis",
                             db_value(res, 0, "plan_basis"));
    if (plan && !(released && reviewable && strcmp(released, reviewable) == 0))
        timefmt_json_set(plan, "auto_release_at", db_value(res, 0, "plan_due_at"));
    json_object_set_new(o, "release_policy", plan);
    const char *state = !reviewable                                       ? "no_final_report"
                        : (released && strcmp(released, reviewable) == 0) ? "released"
                        : db_value(res, 0, "hold_reason")                 ? "held"
                                                                          : "awaiting_review";
    json_object_set_new(o, "state", json_string(state));
    const char *nfp = db_value(res, 0, "not_for_proxies");
    json_object_set_new(o, "not_for_proxies", json_boolean(nfp && strcmp(nfp, "t") == 0));
    return req_json(rq, 200, o);
}

/* The physician's mark that a study's report is not for the patient's proxies (issue 16). The
 * rule it sets is applied by the proxy gate (sql/definitions/65_proxies.sql). */
int h_physician_proxy_access(struct req *rq)
{
    static const char *const fields[] = {"not_for_proxies", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    json_t *flag = json_object_get(rq->in, "not_for_proxies");
    if (!json_is_boolean(flag))
        v_fail(&v, "", "not_for_proxies", "must be true or false");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[5] = {rq->who.sub, rq->id, json_is_true(flag) ? "t" : "f", rq->request_id,
                        rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SET_NOT_FOR_PROXIES, 5, p, &res)))
        return s;
    return req_json(rq, 200,
                    json_pack("{s:s, s:b}", "study_id", rq->id, "not_for_proxies",
                              strcmp(db_value(res, 0, "flag"), "t") == 0));
}

int h_physician_release(struct req *rq)
{
    static const char *const fields[] = {"note", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    struct release_request r = {.study_id = rq->id, .physician_id = rq->who.sub};
    r.note = v_string(&v, rq->in, "", "note", false, ANY_LENGTH);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct origin from = {.transport = "http",
                          .request_id = rq->request_id,
                          .client_addr = rq->client_addr,
                          .cfg = rq->cfg};
    struct release_result result;
    struct outcome o = {0};
    if (release_apply(&r, &from, &result, &o))
        return req_fail(rq, &o);
    if (!req_keep(rq, result.row))
        return req_problem(rq, 500, "Out of memory.");
    json_t *out = json_object();
    timefmt_json_set(out, "released_at", result.released_at);
    set_int(out, "report_version", result.report_version);
    return req_json(rq, 200, out);
}

int h_physician_hold(struct req *rq)
{
    static const char *const fields[] = {"reason", "reason_code", "until", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    /* One statement each: the order of the failures found is the order of the fields. */
    struct hold_request h = {.study_id = rq->id, .physician_id = rq->who.sub};
    h.reason = v_string(&v, rq->in, "", "reason", true, ANY_LENGTH);
    h.reason_code = v_string(&v, rq->in, "", "reason_code", false, ANY_LENGTH);
    h.until = v_string(&v, rq->in, "", "until", false, ANY_LENGTH);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct origin from = {.transport = "http",
                          .request_id = rq->request_id,
                          .client_addr = rq->client_addr,
                          .cfg = rq->cfg};
    struct hold_result result;
    struct outcome o = {0};
    if (hold_apply(&h, &from, &result, &o))
        return req_fail(rq, &o);
    if (!req_keep(rq, result.row))
        return req_problem(rq, 500, "Out of memory.");
    json_t *out = json_pack("{s:s, s:s, s:s}", "state", "held", "reason", result.reason,
                            "reason_code", result.reason_code);
    timefmt_json_set(out, "placed_at", result.placed_at);
    timefmt_json_set(out, "ends_at", result.ends_at);
    return req_json(rq, result.created ? 201 : 200, out);
}

int h_physician_discussions(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PHYSICIAN_DISCUSSIONS, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *pref = json_loads(db_value(res, i, "preferred_times"), 0, NULL);
        json_t *e =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s?}, s:o, s:s?, s:s}", "id",
                      db_value(res, i, "id"), "study_id", db_value(res, i, "study_id"), "accession",
                      db_value(res, i, "accession"), "modality", db_value(res, i, "modality"),
                      "description", db_value(res, i, "description"), "patient", "name",
                      db_value(res, i, "patient_name"), "email", db_value(res, i, "patient_email"),
                      "preferred_times", pref ? pref : json_array(), "message",
                      db_value(res, i, "message"), "state", db_value(res, i, "state"));
        if (e && db_value(res, i, "reply"))
            json_object_set_new(e, "reply", json_string(db_value(res, i, "reply")));
        if (!e || timefmt_json_set(e, "created_at", db_value(res, i, "created_at")) < 0 ||
            timefmt_json_set(e, "scheduled_for", db_value(res, i, "scheduled_for")) < 0 ||
            timefmt_json_set(e, "answered_at", db_value(res, i, "updated_at")) < 0 ||
            set_int(e, "report_version", db_value(res, i, "report_version")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "requests", list) : NULL);
}
