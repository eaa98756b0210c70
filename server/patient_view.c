/* The patient's view of a study. Built only from columns that hold no report content (stage and
 * lifecycle times), plus the report itself once the release gate in the database returned it
 * (CONTRACT invariant 2). */
#include "patient_view.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "estimates.h"
#include "i18n.h"
#include "timefmt.h"

struct stage_text {
    const char *stage;
    const char *label;
    const char *explanation;
};

/* Written for patients: who is doing what now, and what comes next. */
static const struct stage_text stage_texts[] = {
    {"ordered", N_("Your exam has been ordered"),
     N_("Your doctor has asked for this imaging exam. The imaging centre will contact you to book "
        "a time.")},
    {"scheduled", N_("Your exam is booked"),
     N_("Your appointment is booked. Please arrive a little early and bring a photo ID.")},
    {"checked_in", N_("You have checked in"),
     N_("You are at the imaging centre. A technologist will call you in for your exam soon.")},
    {"imaging", N_("Your images are being taken"),
     N_("A technologist is taking your images. Technologists run the scanner; they do not read the "
        "images and cannot give you results.")},
    {"awaiting_read", N_("Your images are waiting for a radiologist"),
     N_("Your exam is finished. A radiologist, a doctor who specialises in reading medical images, "
        "will look at them next.")},
    {"reading", N_("A radiologist is reading your images"),
     N_("A radiologist is examining your images and writing a report for your doctor.")},
    {"physician_review", N_("Your doctor is reviewing the report"),
     N_("The radiologist's report has gone to your doctor, who will review it and talk the results "
        "over with you.")},
    {"available", N_("Your results are ready"),
     N_("Your doctor has reviewed the report. You can read it now and schedule a time to talk it "
        "over.")},
    {"cancelled", N_("This exam was cancelled"),
     N_("This exam was cancelled. If you did not expect this, please contact your doctor's "
        "office.")},
};

/* Release policies (docs/release-policies.md). A report the policy released (at once, at a
 * deadline, or when a hold ended) was shared without waiting for the physician; a held one is held
 * by the physician (never said why), and when the hold ends it is shared only where the policy
 * would have shared it by then: auto_release_at says when. */
static const char released_unreviewed_text[] = N_(
    "Your report is ready. It was shared with you automatically, without waiting for your doctor, "
    "so your doctor may not have reviewed it yet. You can read it now and schedule a time to talk "
    "it over.");
static const char held_text[] =
    N_("Your doctor has put a hold on sharing this report for now. It will be shared with you when "
       "your doctor releases it.");
static const char held_then_automatic_text[] =
    N_("Your doctor has put a hold on sharing this report for now. It will be shared with you when "
       "your doctor releases it, or automatically when the hold ends.");

/* A release by policy names no physician: sql/definitions/40_release.sql stores one of these as its
 * releaser's name, which the patient reads in their language. */
static const char patient_preference_releaser[] = N_("Released automatically (patient preference)");
static const char *const policy_releasers[] = {
    patient_preference_releaser,
    N_("Released automatically (site policy)"),
};

static const char *releaser_words(const char *name, enum lang lang)
{
    for (size_t i = 0; name && i < sizeof(policy_releasers) / sizeof(policy_releasers[0]); i++)
        if (strcmp(name, policy_releasers[i]) == 0)
            return i18n_text(lang, policy_releasers[i]);
    return name;
}

/* Who released a version, for the pages to say it in a whole sentence rather than after "by":
 * "physician", or for a release by policy (how = 'policy') on what basis, which
 * portal.release_if_due records only in the releaser's name. */
static const char *releaser_kind(const char *how, const char *name)
{
    if (!how || strcmp(how, "policy") != 0)
        return "physician";
    return name && strcmp(name, patient_preference_releaser) == 0 ? "patient_preference"
                                                                  : "site_policy";
}

static bool is_true(const char *v)
{
    return v && strcmp(v, "t") == 0;
}

static const struct stage_text *stage_text(const char *stage)
{
    for (size_t i = 0; stage && i < sizeof(stage_texts) / sizeof(stage_texts[0]); i++)
        if (strcmp(stage_texts[i].stage, stage) == 0)
            return &stage_texts[i];
    return NULL;
}

const char *patient_view_stage_label(const char *stage, enum lang lang)
{
    const struct stage_text *t = stage_text(stage);
    return t ? i18n_text(lang, t->label) : NULL;
}

const char *patient_view_stage_explanation(const char *stage, enum lang lang)
{
    const struct stage_text *t = stage_text(stage);
    return t ? i18n_text(lang, t->explanation) : NULL;
}

/* The stages reached, each at the time it was first reached, in time order. */
static json_t *timeline(const PGresult *res, int row)
{
    static const struct {
        const char *stage;
        const char *column;
    } marks[] = {
        {"ordered", "ordered_at"},
        {"scheduled", "scheduled_at"},
        {"checked_in", "arrived_at"},
        {"imaging", "exam_started_at"},
        {"awaiting_read", "exam_completed_at"},
        {"reading", "read_started_at"},
        {"physician_review", "final_at"},
        {"available", "released_at"},
        {"cancelled", "cancelled_at"},
    };
    const size_t n = sizeof(marks) / sizeof(marks[0]);
    const char *at[sizeof(marks) / sizeof(marks[0])];
    for (size_t i = 0; i < n; i++)
        at[i] = db_value(res, row, marks[i].column);
    /* A preliminary report means reading had begun, even if no read_started event came. */
    const char *prelim = db_value(res, row, "preliminary_at");
    if (prelim && (!at[5] || strcmp(prelim, at[5]) < 0))
        at[5] = prelim;

    json_t *list = json_array();
    bool used[sizeof(marks) / sizeof(marks[0])] = {false};
    for (size_t k = 0; list && k < n; k++) {
        /* Selection by time; the text form of UTC timestamps sorts like the times. Ties keep
         * the lifecycle order. */
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (at[i] && !used[i] && (best == n || strcmp(at[i], at[best]) < 0))
                best = i;
        if (best == n)
            break;
        used[best] = true;
        json_t *e = json_pack("{s:s}", "stage", marks[best].stage);
        if (!e || timefmt_json_set(e, "at", at[best]) < 0 || json_array_append_new(list, e) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* "held", the patient's release choice, and the explanations that fit them. */
static int add_release_policy(json_t *o, const PGresult *res, int row, const char *stage,
                              enum lang lang)
{
    const char *held = db_value(res, row, "held");
    if (held && json_object_set_new(o, "held", json_boolean(is_true(held))) < 0)
        return -1;
    const char *explanation = NULL;
    const char *automatic = db_value(res, row, "auto_release_at");
    if (timefmt_json_set(o, "auto_release_at", automatic) < 0)
        return -1;
    if (is_true(held) && stage && strcmp(stage, "physician_review") == 0)
        explanation = automatic ? held_then_automatic_text : held_text;
    else if (is_true(db_value(res, row, "released_unreviewed")) && stage &&
             strcmp(stage, "available") == 0)
        explanation = released_unreviewed_text;
    if (explanation &&
        json_object_set_new(o, "stage_explanation", json_string(i18n_text(lang, explanation))) < 0)
        return -1;
    const char *pref = db_value(res, row, "release_preference");
    if (pref) {
        json_t *p = json_loads(pref, 0, NULL);
        if (!p || json_object_set_new(o, "release_preference", p) < 0)
            return -1;
    }
    return 0;
}

json_t *patient_view_study(const PGresult *res, int row, enum lang lang)
{
    const char *stage = db_value(res, row, "stage");
    const struct stage_text *t = stage_text(stage);
    const char *released = db_value(res, row, "released_version");
    /* Turnaround estimates: precomputed numbers joined into the same query (server/estimates.c). */
    json_t *estimates = estimates_json(res, row, time(NULL), lang);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, s:b}", "id", db_value(res, row, "id"),
                  "accession", db_value(res, row, "accession"), "modality",
                  db_value(res, row, "modality"), "description", db_value(res, row, "description"),
                  "stage", stage, "stage_label", t ? i18n_text(lang, t->label) : NULL,
                  "stage_explanation", t ? i18n_text(lang, t->explanation) : NULL, "estimates",
                  estimates, "report_available", released != NULL);
    if (!o)
        return NULL;
    json_t *tl = timeline(res, row);
    if (!tl || json_object_set_new(o, "timeline", tl) < 0 ||
        timefmt_json_set(o, "scheduled_for", db_value(res, row, "scheduled_for")) < 0) {
        json_decref(o);
        return NULL;
    }
    if (add_release_policy(o, res, row, stage, lang) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int patient_view_add_report(json_t *study, const PGresult *res, int row, const PGresult *history,
                            enum lang lang)
{
    const char *id = db_value(res, row, "id");
    const char *status = db_value(res, row, "status");
    const char *physician = db_value(res, row, "physician_name");
    const char *pending = db_value(res, row, "newer_version_pending");
    json_t *report =
        json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:s, s:s?, s:b, s:b}", "version",
                  atoi(db_value(res, row, "version")), "status", status, "findings",
                  db_value(res, row, "findings"), "impression", db_value(res, row, "impression"),
                  "radiologist", db_value(res, row, "radiologist"), "released_by",
                  releaser_words(db_value(res, row, "released_by"), lang), "released_by_kind",
                  releaser_kind(db_value(res, row, "how"), db_value(res, row, "released_by")),
                  "physician_note", db_value(res, row, "physician_note"), "amended",
                  strcmp(status, "amended") == 0, "newer_version_pending",
                  pending && strcmp(pending, "t") == 0);
    if (!report)
        return -1;
    if (timefmt_json_set(report, "signed_at", db_value(res, row, "signed_at")) < 0 ||
        timefmt_json_set(report, "released_at", db_value(res, row, "report_released_at")) < 0) {
        json_decref(report);
        return -1;
    }
    if (history && PQntuples(history) > 1) {
        json_t *h = json_array();
        for (int i = 0; h && i < PQntuples(history); i++) {
            json_t *e = json_pack(
                "{s:i, s:s, s:s, s:s}", "version", atoi(db_value(history, i, "version")), "status",
                db_value(history, i, "status"), "released_by",
                releaser_words(db_value(history, i, "released_by_name"), lang), "released_by_kind",
                releaser_kind(db_value(history, i, "how"),
                              db_value(history, i, "released_by_name")));
            if (!e || timefmt_json_set(e, "released_at", db_value(history, i, "released_at")) < 0 ||
                json_array_append_new(h, e) < 0) {
                json_decref(e);
                json_decref(h);
                h = NULL;
            }
        }
        if (!h || json_object_set_new(report, "history", h) < 0) {
            json_decref(report);
            return -1;
        }
    }
    if (json_object_set_new(study, "report", report) < 0)
        return -1;

    char prompt[300];
    const char *how = db_value(res, row, "how");
    if (how && strcmp(how, "policy") == 0 && !db_value(res, row, "physician_note"))
        snprintf(prompt, sizeof(prompt),
                 i18n_text(lang, "Your results were shared with you automatically, without "
                                 "waiting for your doctor. Schedule a time with %s to talk them "
                                 "over."),
                 physician);
    else
        snprintf(
            prompt, sizeof(prompt),
            i18n_text(lang, "%s has reviewed your results. Schedule a time to talk them over."),
            physician);
    char url[128];
    snprintf(url, sizeof(url), "/api/v1/patient/studies/%s/discussion-requests", id);
    const char *dstate = db_value(res, row, "discussion_state");
    /* A request concerns the version released when it was made; once an amended report is
     * released the patient may ask again, and still sees how the last request went. */
    const char *asked_about = db_value(res, row, "discussion_report_version");
    const char *released = db_value(res, row, "released_version");
    bool may_ask = !dstate || (asked_about && released && atoi(released) > atoi(asked_about));
    json_t *request = json_pack("{s:s, s:s, s:b}", "state", dstate ? dstate : "none", "url", url,
                                "may_request", may_ask);
    if (request && dstate) {
        json_object_set_new(request, "id", json_string(db_value(res, row, "discussion_id")));
        if (asked_about)
            json_object_set_new(request, "report_version", json_integer(atoi(asked_about)));
        timefmt_json_set(request, "created_at", db_value(res, row, "discussion_created_at"));
        timefmt_json_set(request, "scheduled_for", db_value(res, row, "discussion_scheduled_for"));
        timefmt_json_set(request, "answered_at", db_value(res, row, "discussion_updated_at"));
        const char *reply = db_value(res, row, "discussion_reply");
        if (reply)
            json_object_set_new(request, "reply", json_string(reply));
    }
    json_t *discussion =
        request
            ? json_pack("{s:s, s:{s:s, s:s?, s:s?}, s:o}", "prompt", prompt, "physician", "name",
                        physician, "phone", db_value(res, row, "physician_phone"), "scheduling_url",
                        db_value(res, row, "scheduling_url"), "request", request)
            : NULL;
    if (!discussion)
        return -1;
    return json_object_set_new(study, "discussion", discussion);
}
