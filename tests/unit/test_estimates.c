/* Unit tests of the patient-facing estimates (server/estimates.c): which milestones get one, the
 * words of the summary and the basis, the too-few case and clamped times, from rows built with
 * libpq's PQsetvalue as Q_PATIENT_STUDY would return them. */
#include "../../server/estimates.c"

#include <stdint.h>

#include "testhelp.h"

static const char *const columns[] = {
    "stage",          "modality",     "priority",       "site",       "ef_level",
    "ef_sample_size", "ef_p50_at",    "ef_p90_at",      "ef_enough",  "ef_elapsed_s",
    "ef_window_days", "ea_level",     "ea_sample_size", "ea_p50_at",  "ea_p90_at",
    "ea_enough",      "ea_elapsed_s", "ea_window_days", "ef_theta50", "ef_theta90",
    "ea_theta50",     "ea_theta90",
};
#define NCOL (sizeof(columns) / sizeof(columns[0]))

/* One row; values[i] NULL is SQL NULL. */
static PGresult *row(const char *const values[NCOL])
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc attrs[NCOL];
    memset(attrs, 0, sizeof(attrs));
    for (size_t i = 0; i < NCOL; i++) {
        attrs[i].name = (char *)(uintptr_t)columns[i];
        attrs[i].typid = 25;
        attrs[i].typlen = -1;
    }
    PQsetResultAttrs(r, NCOL, attrs);
    for (size_t i = 0; i < NCOL; i++)
        PQsetvalue(r, 0, (int)i, values[i] ? (char *)(uintptr_t)values[i] : NULL,
                   values[i] ? (int)strlen(values[i]) : -1);
    return r;
}

static void test_span_words(void)
{
    char b[32];
    span_words(b, sizeof(b), 120, LANG_EN);
    CHECK_STR(b, "a few minutes");
    span_words(b, sizeof(b), 22 * 60, LANG_EN);
    CHECK_STR(b, "25 minutes");
    span_words(b, sizeof(b), 70 * 60, LANG_EN);
    CHECK_STR(b, "an hour");
    span_words(b, sizeof(b), 6.4 * 3600, LANG_EN);
    CHECK_STR(b, "6 hours");
    span_words(b, sizeof(b), 20 * 3600, LANG_EN);
    CHECK_STR(b, "20 hours");
    span_words(b, sizeof(b), 60 * 3600, LANG_EN);
    CHECK_STR(b, "3 days");
}

/* Every template of every milestone, in every language, takes exactly the English one's values
 * (fill replaces "%s" in order): none is left over, none is dropped. */
static int count_s(const char *t)
{
    int n = 0;
    for (; (t = strstr(t, "%s")); t += 2)
        n++;
    return n;
}

static void test_templates_in_every_language(void)
{
    char err[160];
    CHECK(i18n_init(err, sizeof(err)) == 0);
    for (size_t i = 0; i < sizeof(milestone_texts) / sizeof(milestone_texts[0]); i++) {
        const struct milestone_text *m = &milestone_texts[i];
        const char *const all[] = {m->too_few,     m->soon[0],    m->soon[1],  m->waiting[0],
                                   m->waiting[1],  m->usual[0],   m->usual[1], m->adjusted[0],
                                   m->adjusted[1], m->adjusted[2]};
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            for (int l = 0; l < LANG_COUNT; l++) {
                const char *t = i18n_text((enum lang)l, all[k]);
                CHECK(l == LANG_EN || strcmp(t, all[k]) != 0); /* translated */
                CHECK(count_s(t) == count_s(all[k]));
                const char *const args[3] = {"<1>", "<2>", "<3>"};
                char out[600];
                fill(out, sizeof(out), t, count_s(all[k]), args);
                CHECK(strstr(out, "%s") == NULL);
                for (int a = 0; a < count_s(all[k]); a++)
                    CHECK(strstr(out, args[a]) != NULL);
            }
    }
    for (int l = 1; l < LANG_COUNT; l++)
        CHECK(strcmp(i18n_text((enum lang)l, ", adjusted by how recent estimates held"),
                     ", adjusted by how recent estimates held") != 0);
    char b[48];
    span_words(b, sizeof(b), 6.4 * 3600, LANG_ES);
    CHECK_STR(b, "6 horas");
    span_words(b, sizeof(b), 60 * 3600, LANG_FR);
    CHECK_STR(b, "3 jours");
    /* fill stops at the buffer's end and still ends the string. */
    const char *const one[1] = {"abcdefgh"};
    fill(b, 6, "x%sy", 1, one);
    CHECK_STR(b, "xabcd");
}

static void test_ahead(void)
{
    CHECK(ahead("reading", "report_final") && ahead("reading", "available"));
    CHECK(!ahead("physician_review", "report_final") && ahead("physician_review", "available"));
    CHECK(!ahead("available", "available") && !ahead("cancelled", "report_final"));
    CHECK(!ahead(NULL, "available"));
}

static void test_pg_time(void)
{
    CHECK(pg_time("1970-01-02 00:00:00+00") == 86400);
    CHECK(pg_time("2026-11-20 14:05:00.123+00") == 1795183500);
    CHECK(pg_time("garbage") == -1 && pg_time(NULL) == -1);
}

static void test_two_estimates_with_words(void)
{
    /* now = 2026-11-20 14:05:00; report p50 in 6 h, p90 in 20 h. */
    time_t now = 1795183500;
    const char *v[NCOL] = {
        "awaiting_read",          "CT", "routine", "main", "0", "412", "2026-11-20 20:05:00+00",
        "2026-11-21 10:05:00+00", "t",  "0",       "90",   "2", "398", "2026-11-22 14:05:00+00",
        "2026-11-26 14:05:00+00", "t",  "0",       "90"};
    PGresult *r = row(v);
    json_t *list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 2);
    json_t *f = json_array_get(list, 0), *a = json_array_get(list, 1);
    CHECK_STR(json_string_value(json_object_get(f, "milestone")), "report_final");
    CHECK_STR(json_string_value(json_object_get(f, "p50_at")), "2026-11-20T20:05:00Z");
    CHECK_STR(json_string_value(json_object_get(f, "p90_at")), "2026-11-21T10:05:00Z");
    CHECK(json_integer_value(json_object_get(f, "sample_size")) == 412);
    CHECK_STR(json_string_value(json_object_get(f, "basis")),
              "CT, routine, main site, last 90 days, timed by the hours of the week reports are "
              "signed here");
    CHECK_STR(json_string_value(json_object_get(f, "summary")),
              "Most CT reports here are signed within 6 hours from now, and 9 in 10 within 20 "
              "hours.");
    CHECK_STR(json_string_value(json_object_get(a, "basis")),
              "CT, all priorities and sites, those waiting at this hour of the week after a "
              "similar wait, last 90 days");
    CHECK_STR(json_string_value(json_object_get(a, "summary")),
              "Most CT results here are shared by the doctor within 2 days from now, and 9 in 10 "
              "within 6 days.");
    json_decref(list);
    PQclear(r);
}

/* Times the calibration stretched are told as an allowance for how recent estimates held, not as
 * what history says; a stretch under 5 % is not told. */
static void test_adjusted_by_recent_estimates(void)
{
    time_t now = 1795183500;
    const char *v[NCOL] = {"awaiting_read",
                           "CT",
                           "routine",
                           "main",
                           "0",
                           "412",
                           "2026-11-20 20:05:00+00",
                           "2026-11-21 10:05:00+00",
                           "t",
                           "3600",
                           "90",
                           "2",
                           "398",
                           "2026-11-22 14:05:00+00",
                           "2026-11-26 14:05:00+00",
                           "t",
                           "0",
                           "90",
                           "0.2",
                           "0.1",
                           "0.02",
                           "-0.3"};
    PGresult *r = row(v);
    json_t *list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 2);
    json_t *f = json_array_get(list, 0), *a = json_array_get(list, 1);
    CHECK_STR(json_string_value(json_object_get(f, "summary")),
              "Lately reports have been signed later than usual, so we have allowed "
              "more time: most should be signed within 6 hours from now, and 9 in 10 within 20 "
              "hours.");
    CHECK_STR(json_string_value(json_object_get(f, "basis")),
              "CT, routine, main site, those still waiting after a similar wait, last 90 days, "
              "timed by the hours of the week reports are signed here, adjusted by how recent "
              "estimates held");
    CHECK_STR(json_string_value(json_object_get(a, "summary")),
              "Lately results have been shared sooner than usual, so we have allowed "
              "less time: most should be shared by the doctor within 2 days from now, and 9 in 10 "
              "within 6 days.");
    json_decref(list);
    PQclear(r);
    /* One quantile lengthened, the other shortened: neither "later" nor "sooner" is true. */
    const char *both[NCOL] = {
        "awaiting_read",          "CT", "routine", "main", "0",    "412", "2026-11-20 20:05:00+00",
        "2026-11-21 10:05:00+00", "t",  "0",       "90",   "2",    "398", "2026-11-22 14:05:00+00",
        "2026-11-26 14:05:00+00", "t",  "0",       "90",   "-0.3", "0.5"};
    r = row(both);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "summary")),
              "Lately our estimates of when reports are signed have not held as usual, so we have "
              "adjusted them: most should be signed within 6 hours from now, and 9 in 10 within 20 "
              "hours.");
    json_decref(list);
    PQclear(r);
    /* Too few waited this long: no times, so no adjustment is said either. */
    const char *few[NCOL] = {"reading", "CT", "routine", "main", "0",   "412", NULL,
                             NULL,      "f",  "3600",    "90",   NULL,  NULL,  NULL,
                             NULL,      NULL, NULL,      NULL,   "0.4", "0.4"};
    r = row(few);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) >= 1);
    json_t *f0 = json_array_get(list, 0);
    CHECK(json_object_get(f0, "p50_at") == NULL);
    CHECK(strstr(json_string_value(json_object_get(f0, "basis")), "adjusted") == NULL);
    json_decref(list);
    PQclear(r);
    const char *small[NCOL] = {
        "awaiting_read",          "CT", "routine", "main", "0",    "412",  "2026-11-20 20:05:00+00",
        "2026-11-21 10:05:00+00", "t",  "0",       "90",   "2",    "398",  "2026-11-22 14:05:00+00",
        "2026-11-26 14:05:00+00", "t",  "0",       "90",   "0.04", "-0.04"};
    r = row(small);
    list = estimates_json(r, 0, now, LANG_ES);
    CHECK(list && json_array_size(list) == 2);
    f = json_array_get(list, 0);
    CHECK(strncmp(json_string_value(json_object_get(f, "summary")), "La mayoría", 11) == 0);
    CHECK(strstr(json_string_value(json_object_get(f, "basis")), "ajustado") == NULL);
    json_decref(list);
    PQclear(r);
}

/* The results' model says sooner than the report's: the results are never estimated before the
 * report, quantile by quantile, and the summary's spans follow the times given. */
static void test_results_never_before_the_report(void)
{
    time_t now = 1795183500;
    const char *v[NCOL] = {"reading",
                           "CT",
                           "routine",
                           "main",
                           "0",
                           "412",
                           "2026-11-20 20:05:00+00",
                           "2026-11-21 10:05:00+00",
                           "t",
                           "0",
                           "90",
                           "2",
                           "398",
                           "2026-11-20 17:05:00+00",
                           "2026-11-22 14:05:00+00",
                           "t",
                           "0",
                           "90"};
    PGresult *r = row(v);
    json_t *list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 2);
    json_t *a = json_array_get(list, 1);
    CHECK_STR(json_string_value(json_object_get(a, "milestone")), "available");
    CHECK_STR(json_string_value(json_object_get(a, "p50_at")), "2026-11-20T20:05:00Z");
    CHECK_STR(json_string_value(json_object_get(a, "p90_at")), "2026-11-22T14:05:00Z");
    CHECK_STR(json_string_value(json_object_get(a, "summary")),
              "Most CT results here are shared by the doctor within 6 hours from now, and 9 in 10 "
              "within 2 days.");
    json_decref(list);
    PQclear(r);
}

static void test_conditional_too_few_and_finished(void)
{
    time_t now = 1795183500;
    /* Reading for a day: report too few (no times), release conditional at rung 18 h, all
     * exams. */
    const char *v[NCOL] = {"reading",
                           "MR",
                           "urgent",
                           "north",
                           "3",
                           "12",
                           NULL,
                           NULL,
                           "f",
                           "64800",
                           "90",
                           "3",
                           "57",
                           "2026-11-20 14:05:00+00",
                           "2026-11-20 14:05:00+00",
                           "t",
                           "64800",
                           "90"};
    PGresult *r = row(v);
    json_t *list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 2);
    json_t *f = json_array_get(list, 0), *a = json_array_get(list, 1);
    CHECK(!json_object_get(f, "p50_at") && !json_object_get(f, "p90_at"));
    CHECK(json_integer_value(json_object_get(f, "sample_size")) == 12);
    CHECK(strstr(json_string_value(json_object_get(f, "summary")), "Too few similar exams"));
    CHECK_STR(
        json_string_value(json_object_get(a, "basis")),
        "all exams, those waiting at this hour of the week after a similar wait, last 90 days");
    /* The release model had enough, but the results wait for the report, which too few say when:
     * no date for the results either, and the sentence says why (never "we cannot say when the
     * report is signed" beside a date for the results). */
    CHECK(!json_object_get(a, "p50_at") && !json_object_get(a, "p90_at"));
    CHECK(json_integer_value(json_object_get(a, "sample_size")) == 57);
    CHECK_STR(json_string_value(json_object_get(a, "summary")),
              "Your doctor can share the results only after the report is signed. As we cannot "
              "estimate yet when the report will be signed, we cannot estimate this either.");
    json_decref(list);
    PQclear(r);

    /* The same wait once the report is signed (physician review): the release's own times, both
     * clamped to now: "soon", never a time gone by. */
    v[0] = "physician_review";
    r = row(v);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 1);
    a = json_array_get(list, 0);
    CHECK_STR(json_string_value(json_object_get(a, "p50_at")), "2026-11-20T14:05:00Z");
    CHECK(strstr(json_string_value(json_object_get(a, "summary")), "should come soon"));
    json_decref(list);
    PQclear(r);

    /* In physician review: only "available"; too few on entry: nothing at all. */
    const char *w[NCOL] = {"physician_review",
                           "XR",
                           "routine",
                           "main",
                           "0",
                           "400",
                           "2026-11-21 14:05:00+00",
                           "2026-11-22 14:05:00+00",
                           "t",
                           "0",
                           "90",
                           "3",
                           "9",
                           NULL,
                           NULL,
                           "f",
                           "0",
                           "90"};
    r = row(w);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 0);
    json_decref(list);
    PQclear(r);

    /* Booked for next week (a wait rung below 0), too few for both: nothing, not "taking longer
     * than usual". */
    const char *b[NCOL] = {"scheduled", "MR", "routine", "main", "3",  "4",  NULL, NULL,      "f",
                           "0",         "90", "3",       "7",    NULL, NULL, "f",  "-259200", "90"};
    r = row(b);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 0);
    json_decref(list);
    PQclear(r);

    /* The release from the rung's band at this hour (no rung): the basis claims no similar wait. */
    const char *h[NCOL] = {
        "physician_review",       "XR", "routine", "main", "0", "400", "2026-11-21 14:05:00+00",
        "2026-11-22 14:05:00+00", "t",  "0",       "90",   "3", "75",  "2026-11-21 02:05:00+00",
        "2026-11-23 14:05:00+00", "t",  NULL,      "90"};
    r = row(h);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "basis")),
              "all exams, those waiting at this hour of the week, last 90 days");
    json_decref(list);
    PQclear(r);

    /* No row from the lookup (no history at all), and a released study: nothing. */
    const char *x[NCOL] = {"available",
                           "XR",
                           "routine",
                           "main",
                           "0",
                           "400",
                           "2026-11-21 14:05:00+00",
                           "2026-11-22 14:05:00+00",
                           "t",
                           "0",
                           "90"};
    r = row(x);
    list = estimates_json(r, 0, now, LANG_EN);
    CHECK(list && json_array_size(list) == 0);
    json_decref(list);
    PQclear(r);
}

/* The task's rounds come at most ROUND_MAX_S apart, the model is rebuilt about once per interval.
 */
static void test_rounds_and_rebuilds(void)
{
    CHECK(round_seconds(1) == 1 && fresh_model_seconds(1) == 0);
    CHECK(round_seconds(300) == 300 && fresh_model_seconds(300) == 150);
    CHECK(round_seconds(3600) == 300 && fresh_model_seconds(3600) == 3450);
    CHECK(round_seconds(86400) == 300 && fresh_model_seconds(86400) == 86250);
    /* Rebuilt by the round nearest the interval's end: the interval lies within half a round. */
    for (int interval = 301; interval <= 86400; interval += 997) {
        int round_s = round_seconds(interval), fresh = fresh_model_seconds(interval);
        int rounds = (fresh + round_s - 1) / round_s; /* the first round not fresh any more */
        CHECK(rounds * round_s >= interval - round_s / 2 &&
              rounds * round_s <= interval + round_s / 2 + 1);
    }
}

int main(void)
{
    test_rounds_and_rebuilds();
    test_span_words();
    test_ahead();
    test_templates_in_every_language();
    test_pg_time();
    test_two_estimates_with_words();
    test_results_never_before_the_report();
    test_adjusted_by_recent_estimates();
    test_conditional_too_few_and_finished();
    return testhelp_done();
}
