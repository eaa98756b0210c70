/* The patient's endpoints: own studies, one study (with the report once released), and asking to
 * talk the results over. Another patient's study answers 404 exactly like a missing one
 * (CONTRACT invariant 3), because every query, and every kept page, is keyed by the token's patient
 * id. Pages are kept (page_cache.h) and served again after one primary-key read of their version
 * stamps instead of the whole statement; a page with a report after one call that also checks the
 * release and audits the read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "page_cache.h"
#include "patient_view.h"
#include "timefmt.h"
#include "validate.h"

#define MAX_PREFERRED_TIMES 10
#define MESSAGE_MAX_BYTES   2000

/* The stamps of a row of the patient's page statements or of Q_PAGE_STAMP; -1 where a stamp is
 * missing (the global row deleted by hand), which no kept page is stored or served with. */
static struct page_stamp stamp_of(const PGresult *res, int row)
{
    const char *patient = db_value(res, row, "patient_version");
    const char *global = db_value(res, row, "global_version");
    return (struct page_stamp){patient ? atoll(patient) : -1, global ? atoll(global) : -1, 0};
}

static bool stamp_usable(struct page_stamp s)
{
    return s.patient >= 0 && s.global >= 0;
}

/* Whether a kept page may be served as it is: its stamps are still the database's, and for a page
 * with a report the database has also checked the release and audited this read (one call). */
static int still_current(struct req *rq, const char *study, struct page_stamp kept, bool *current)
{
    PGresult *res;
    int s;
    if (kept.report_version > 0) {
        char version[16], pstamp[24], gstamp[24];
        snprintf(version, sizeof(version), "%d", kept.report_version);
        snprintf(pstamp, sizeof(pstamp), "%lld", kept.patient);
        snprintf(gstamp, sizeof(gstamp), "%lld", kept.global);
        const char *p[7] = {rq->who.sub, study,          version,        pstamp,
                            gstamp,      rq->request_id, rq->client_addr};
        if ((s = req_run(rq, Q_REREAD_RELEASED, 7, p, &res)))
            return s;
        const char *reread = db_value(res, 0, "reread");
        *current = reread && strcmp(reread, "t") == 0;
        return 0;
    }
    const char *p[1] = {rq->who.sub};
    if ((s = req_run(rq, Q_PAGE_STAMP, 1, p, &res)))
        return s;
    struct page_stamp now = stamp_of(res, 0);
    *current = stamp_usable(now) && now.patient == kept.patient && now.global == kept.global;
    return 0;
}

/* The kept page of the patient's study (NULL: the list) when it is still current; NULL otherwise,
 * or with *status set when the database could not say. */
static char *reuse_page(struct req *rq, const char *study, size_t *len, int *status)
{
    struct page_stamp kept;
    *status = 0;
    if (!page_cache_enabled())
        return NULL;
    unsigned long long generation = page_cache_generation();
    char *page = page_cache_get(rq->who.sub, study, rq->lang, &kept, len);
    if (!page) {
        page_cache_note(PAGE_MISS);
        return NULL;
    }
    bool current = false;
    *status = still_current(rq, study, kept, &current);
    /* A reconnect while checking (db_on_connect clears the cache) may have reached another
     * server, whose stamps prove nothing about this page. */
    if (!*status && page_cache_generation() != generation)
        current = false;
    if (*status || !current) {
        if (!*status)
            page_cache_note(PAGE_STALE);
        free(page);
        return NULL;
    }
    page_cache_note(PAGE_HIT);
    return page;
}

/* Answers body as built, keeping its text for reuse when keep is set. */
static int answer_page(struct req *rq, const char *study, json_t *body, bool keep,
                       struct page_stamp stamp, unsigned long long generation)
{
    if (!body)
        return req_problem(rq, 500, "Out of memory.");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return req_problem(rq, 500, "Out of memory.");
    size_t len = strlen(text);
    if (keep && stamp_usable(stamp))
        page_cache_put(rq->who.sub, study, rq->lang, stamp, text, len, generation);
    return req_raw(rq, 200, "application/json", text, len);
}

int h_patient_studies(struct req *rq)
{
    size_t len;
    int s;
    char *page = reuse_page(rq, NULL, &len, &s);
    if (page)
        return req_raw(rq, 200, "application/json", page, len);
    if (s)
        return s;
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    unsigned long long generation = page_cache_generation();
    if ((s = req_run(rq, Q_PATIENT_STUDIES, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *study = patient_view_study(res, i, rq->lang);
        if (!study || json_array_append_new(list, study) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    /* An empty list carries no stamps to check it by later. */
    bool keep = PQntuples(res) > 0;
    return answer_page(rq, NULL, list ? json_pack("{s:o}", "studies", list) : NULL, keep,
                       keep ? stamp_of(res, 0) : (struct page_stamp){0, 0, 0}, generation);
}

int h_patient_study(struct req *rq)
{
    size_t len;
    int s;
    char *page = reuse_page(rq, rq->id, &len, &s);
    if (page)
        return req_raw(rq, 200, "application/json", page, len);
    if (s)
        return s;
    const char *p[4] = {rq->who.sub, rq->id, rq->request_id, rq->client_addr};
    PGresult *res;
    unsigned long long generation = page_cache_generation();
    if ((s = req_run(rq, Q_PATIENT_STUDY, 4, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such study.");
    json_t *study = patient_view_study(res, 0, rq->lang);
    if (!study)
        return req_problem(rq, 500, "Out of memory.");
    /* The report columns are non-NULL only when the gate function returned the released
     * version to this patient. */
    bool has_report = db_value(res, 0, "findings") != NULL;
    if (has_report) {
        PGresult *history = NULL;
        const char *version = db_value(res, 0, "version");
        if (version && strcmp(version, "1") != 0) {
            const char *hp[1] = {rq->id};
            if ((s = req_run(rq, Q_RELEASE_HISTORY, 1, hp, &history))) {
                json_decref(study);
                return s;
            }
        }
        if (patient_view_add_report(study, res, 0, history, rq->lang) < 0) {
            json_decref(study);
            return req_problem(rq, 500, "Out of memory.");
        }
    }
    /* A page with a report is kept with the version it shows, so its reuse is checked against
     * the release and audited; a released study whose report the gate did not give is not kept. */
    struct page_stamp stamp = stamp_of(res, 0);
    if (has_report)
        stamp.report_version = atoi(db_value(res, 0, "version"));
    bool keep = has_report ? stamp.report_version > 0 : !db_value(res, 0, "released_version");
    return answer_page(rq, rq->id, study, keep, stamp, generation);
}

int h_patient_discussion(struct req *rq)
{
    static const char *const fields[] = {"preferred_times", "message", NULL};
    struct validation v = {0};
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
            if (v.errors.count)
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
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    const char *p[6] = {rq->who.sub, rq->id, literal, message, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_REQUEST_DISCUSSION, 6, p, &res)))
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
