/* The proxy's endpoints (role proxy, sub = the proxy's id): the patients they act for, each
 * patient's studies and one study with its report. Every row comes through portal.proxy_studies
 * and portal.proxy_report (sql/definitions/65_proxies.sql), which check the link, its dates, the
 * age rule and the physician's mark, and give a hidden study as one that is only ordered: the
 * view here is the patient's (patient_view.c) minus what a proxy may not change or ask for. No
 * page of a proxy is kept in the page cache, which holds pages by patient. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "i18n.h"
#include "patient_view.h"
#include "req_db.h"
#include "timefmt.h"

/* The stages in words for the person following someone else's exam: the patient's own texts say
 * "your exam", "your doctor", "you can schedule a talk", none of which is true of a proxy. The same
 * words for every study at a stage, whatever its hold or how it was released (those are the
 * patient's, and the patient's explanations of them would tell a proxy what the API leaves out). */
static const struct {
    const char *stage;
    const char *label;
    const char *explanation;
} proxy_stage_texts[] = {
    {"ordered", N_("The exam has been ordered"),
     N_("Their doctor has asked for this imaging exam. The imaging centre will be in touch to book "
        "a time.")},
    {"scheduled", N_("The exam is booked"),
     N_("The appointment is booked. Please arrive a little early and bring a photo ID.")},
    {"checked_in", N_("They have checked in"),
     N_("They are at the imaging centre. A technologist will call them in for the exam soon.")},
    {"imaging", N_("The images are being taken"),
     N_("A technologist is taking the images. Technologists run the scanner; they do not read the "
        "images and cannot give results.")},
    {"awaiting_read", N_("The images are waiting for a radiologist"),
     N_("The exam is finished. A radiologist, a doctor who specialises in reading medical images, "
        "will look at the images next.")},
    {"reading", N_("A radiologist is reading the images"),
     N_("A radiologist is examining the images and writing a report for their doctor.")},
    {"physician_review", N_("The report is with their doctor"),
     N_("The radiologist's report has gone to their doctor. It is shown here once it has been "
        "shared.")},
    {"available", N_("The results are ready"),
     N_("The report has been shared and can be read here. To talk it over, contact their doctor's "
        "office.")},
    {"cancelled", N_("This exam was cancelled"),
     N_("This exam was cancelled. If this was not expected, please contact their doctor's "
        "office.")},
};

/* The patient's release choice and whether a hold is in force are the patient's: a proxy changes
 * neither, and a hold's presence would tell a hidden study apart. The request link is for the
 * patient's own token. The words are a proxy's (above). Returns 0, or -1 when memory ran out. */
static int proxy_trim(json_t *study, enum lang lang)
{
    json_object_del(study, "held");
    json_object_del(study, "release_preference");
    const char *stage = json_string_value(json_object_get(study, "stage"));
    for (size_t i = 0; stage && i < sizeof(proxy_stage_texts) / sizeof(proxy_stage_texts[0]); i++)
        if (strcmp(proxy_stage_texts[i].stage, stage) == 0 &&
            (json_object_set_new(study, "stage_label",
                                 json_string(i18n_text(lang, proxy_stage_texts[i].label))) < 0 ||
             json_object_set_new(study, "stage_explanation",
                                 json_string(i18n_text(lang, proxy_stage_texts[i].explanation))) <
                 0))
            return -1;
    json_t *discussion = json_object_get(study, "discussion");
    if (!discussion)
        return 0;
    json_object_del(discussion, "request");
    const char *physician =
        json_string_value(json_object_get(json_object_get(discussion, "physician"), "name"));
    char prompt[300];
    snprintf(prompt, sizeof(prompt),
             i18n_text(lang, "To talk these results over, contact the office of %s."),
             physician ? physician : "");
    return json_object_set_new(discussion, "prompt", json_string(prompt));
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
        if (study && proxy_trim(study, rq->lang) < 0) {
            json_decref(study);
            study = NULL;
        }
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
    if (proxy_trim(study, rq->lang) < 0) {
        json_decref(study);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_json(rq, 200, study);
}
