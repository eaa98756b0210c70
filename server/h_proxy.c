/* The proxy's endpoints (role proxy, sub = the proxy's id): the patients they act for, each
 * patient's studies and one study with its report. Every row comes through portal.proxy_studies
 * and portal.proxy_report (sql/definitions/65_proxies.sql), which check the link, its dates, the
 * age rule and the physician's mark, and give a hidden study as one that is only ordered: the
 * view here is the patient's (patient_view.c) minus what a proxy may not change or ask for. No
 * page of a proxy is kept in the page cache, which holds pages by patient. */
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "patient_view.h"
#include "req_db.h"
#include "timefmt.h"

/* The patient's release choice and whether a hold is in force are the patient's: a proxy changes
 * neither, and a hold's presence would tell a hidden study apart. The request link is for the
 * patient's own token. */
static void proxy_trim(json_t *study)
{
    json_object_del(study, "held");
    json_object_del(study, "release_preference");
    json_t *discussion = json_object_get(study, "discussion");
    if (discussion)
        json_object_del(discussion, "request");
}

int h_proxy_patients(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PROXY_PATIENTS, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:b}", "id", db_value(res, i, "patient_id"), "name",
                              db_value(res, i, "name"), "relation", db_value(res, i, "relation"),
                              "access_log", strcmp(db_value(res, i, "sees_log"), "t") == 0);
        if (!e || timefmt_json_set(e, "ends_at", db_value(res, i, "ends_at")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "patients", list) : NULL);
}

int h_proxy_patient_studies(struct req *rq)
{
    const char *p[2] = {rq->who.sub, rq->id};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PROXY_STUDIES, 2, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *study = patient_view_study(res, i, rq->lang);
        if (study)
            proxy_trim(study);
        if (!study || json_array_append_new(list, study) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "studies", list) : NULL);
}

int h_proxy_study(struct req *rq)
{
    const char *p[4] = {rq->who.sub, rq->id, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PROXY_STUDY, 4, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such study.");
    json_t *study = patient_view_study(res, 0, rq->lang);
    if (!study)
        return req_problem(rq, 500, "Out of memory.");
    if (db_value(res, 0, "findings")) {
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
    proxy_trim(study);
    return req_json(rq, 200, study);
}
