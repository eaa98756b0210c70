/* The estimates refresh: one thread per portald instance asks portal.refresh_estimates_if_due to
 * rebuild the model every PORTAL_ESTIMATES_REFRESH seconds. The database arbitrates between
 * instances (a transaction-level advisory lock, and a model younger than the interval less half a
 * round counts as done), so several instances refresh about once per interval between them. The
 * thread's rounds come at most ROUND_MAX_S apart whatever the interval: each also counts the
 * studies past their p90 for /metrics, and computes again the estimates kept per study
 * (sql/definitions/54_study_estimates.sql) that a refresh or the clock has made stale, which
 * cannot wait an hour for a model that need not be rebuilt more often. */
#include "estimates.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "periodic.h"
#include "queries.h"
#include "timefmt.h"

/* After a failure (the database restarting, say) the next try comes sooner than the interval. */
#define RETRY_AFTER_FAILURE_S 5
/* The kept estimates (portal.study_estimates) are computed again in batches of this many rows,
 * each its own transaction (short row locks), for at most the budget below per round: a refresh
 * of the model at 1,000,000 studies leaves more than one round's work, and the rest waits for the
 * next round (pages use the live lookup meanwhile). */
#define STUDY_ESTIMATES_BATCH    1000
#define STUDY_ESTIMATES_BUDGET_S 30
/* The longest wait between two rounds (overdue counts, kept estimates), whatever the interval. */
#define ROUND_MAX_S 300

struct estimates_task {
    struct periodic *thread;
    int interval_s; /* between rebuilds of the model */
    int round_s;    /* between rounds: the interval, or ROUND_MAX_S if that is shorter */
    int window_days;
    bool failing; /* the last round failed: log the recovery once */
};

static int refresh_round(void *arg);

static int round_seconds(int interval_s)
{
    return interval_s < ROUND_MAX_S ? interval_s : ROUND_MAX_S;
}

/* A model younger than this is fresh: half the interval when every round may rebuild it (as before
 * rounds and rebuilds were apart), else the interval less half a round, so the round nearest each
 * interval's end rebuilds it. */
static int fresh_model_seconds(int interval_s)
{
    int round_s = round_seconds(interval_s);
    return round_s == interval_s ? interval_s / 2 : interval_s - round_s / 2;
}
static bool refresh_once(struct estimates_task *t);
static bool recompute_kept(const struct estimates_task *t);
static double seconds_since(const struct timespec *t0);

struct estimates_task *estimates_start(int interval_s, int window_days)
{
    struct estimates_task *t = calloc(1, sizeof(*t));
    if (!t) {
        log_msg(LOG_ERROR, "estimates: out of memory; estimates will not be refreshed");
        return NULL;
    }
    t->interval_s = interval_s;
    t->round_s = round_seconds(interval_s);
    t->window_days = window_days;
    t->thread = periodic_start("estimates", "estimates will not be refreshed", refresh_round, t);
    if (!t->thread) {
        free(t);
        return NULL;
    }
    log_msg(LOG_INFO, "estimates: refresh every %d s over the last %d days (rounds every %d s)",
            interval_s, window_days, t->round_s);
    return t;
}

void estimates_stop(struct estimates_task *t)
{
    if (!t)
        return;
    periodic_stop(t->thread);
    free(t);
}

static int refresh_round(void *arg)
{
    struct estimates_task *t = arg;
    struct timespec t0, end;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool ok = refresh_once(t);
    clock_gettime(CLOCK_REALTIME, &end);
    metrics_set_estimates_round((double)end.tv_sec + (double)end.tv_nsec / 1e9, seconds_since(&t0));
    return ok || t->round_s < RETRY_AFTER_FAILURE_S ? t->round_s : RETRY_AFTER_FAILURE_S;
}

/* Runs one statement; failures are logged by db_exec (by SQLSTATE only) and a dead connection is
 * dropped there, so the next call reconnects. Returns the result or NULL. */
static PGresult *run(enum query q, int n, const char *const *params)
{
    PGresult *r;
    struct outcome o = {0};
    return db_exec(q, n, params, &r, &o, "estimates") ? NULL : r;
}

/* One round: refresh if due, then count overdue studies. Returns false when the database could
 * not be reached or refused. */
static bool refresh_once(struct estimates_task *t)
{
    char window[16], min_age[16];
    snprintf(window, sizeof(window), "%d", t->window_days);
    snprintf(min_age, sizeof(min_age), "%d", fresh_model_seconds(t->interval_s));
    const char *params[2] = {window, min_age};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PGresult *r = run(Q_ESTIMATES_REFRESH, 2, params);
    /* A statement on a connection the database dropped (a restart) fails once; try a fresh one. */
    if (!r)
        r = run(Q_ESTIMATES_REFRESH, 2, params);
    if (!r) {
        t->failing = true;
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const char *outcome = PQgetvalue(r, 0, 0);
    if (strcmp(outcome, "refreshed") == 0) {
        metrics_set_estimates_refreshed((double)time(NULL));
        log_msg(LOG_INFO, "estimates: refreshed in %ld ms%s",
                (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
                t->failing ? " (database reachable again)" : "");
    } else if (t->failing) {
        log_msg(LOG_INFO, "estimates: database reachable again (%s)", outcome);
    }
    t->failing = false;
    PQclear(r);

    PGresult *counts = run(Q_OVERDUE_COUNTS, 0, NULL);
    if (!counts)
        return false;
    metrics_clear_overdue();
    for (int i = 0; i < PQntuples(counts); i++)
        metrics_set_overdue(PQgetvalue(counts, i, 0), atoll(PQgetvalue(counts, i, 1)));
    PQclear(counts);
    PGresult *stretch = run(Q_ESTIMATES_STRETCH, 0, NULL);
    if (!stretch)
        return false;
    for (int i = 0; i < PQntuples(stretch); i++)
        metrics_set_estimates_stretch(PQgetvalue(stretch, i, 0), atof(PQgetvalue(stretch, i, 1)),
                                      atof(PQgetvalue(stretch, i, 2)));
    PQclear(stretch);
    return recompute_kept(t);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs one batch statement of the kept estimates until it returns fewer rows than a batch, the
 * budget (seconds since t0) is spent or the server is stopping; adds the rows to *total. Returns
 * false when the database refused. */
static bool kept_batches(enum query q, const struct timespec *t0, double budget, long *total)
{
    char batch[16];
    snprintf(batch, sizeof(batch), "%d", STUDY_ESTIMATES_BATCH);
    const char *params[1] = {batch};
    while (seconds_since(t0) < budget && !periodic_stop_requested()) {
        PGresult *r = run(q, 1, params);
        if (!r)
            return false;
        long n = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        *total += n;
        if (n < STUDY_ESTIMATES_BATCH)
            break;
    }
    return true;
}

/* The kept estimates of a model older than the one now in force, or whose time is up (the wait
 * reached the next rung, or an hour mark), computed again; then, with what is left of the round's
 * budget, the rows that follow those whose time comes soon, computed ahead, so that when it comes
 * the pages read a valid row at once (the hour mark that outdates every kept release estimate
 * together: docs/performance.md). Returns false when the database refused. */
static bool recompute_kept(const struct estimates_task *t)
{
    double budget =
        t->round_s / 2 < STUDY_ESTIMATES_BUDGET_S ? t->round_s / 2 : STUDY_ESTIMATES_BUDGET_S;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long due = 0, ahead = 0;
    if (!kept_batches(Q_STUDY_ESTIMATES_REFRESH, &t0, budget, &due) ||
        !kept_batches(Q_STUDY_ESTIMATES_PREPARE, &t0, budget, &ahead))
        return false;
    if (due > 0 || ahead > 0)
        log_msg(LOG_INFO,
                "estimates: kept study estimates: %ld replaced, %ld computed ahead, in %.0f ms",
                due, ahead, seconds_since(&t0) * 1000);
    return true;
}

/* ---- The patient's view of an estimate ---- */

/* Whole sentences per milestone, with and without the modality's name, so that a translation
 * never has to agree with words it cannot see (docs/languages.md). */
struct milestone_text {
    const char *milestone;
    const char *prefix;      /* column prefix in PATIENT_STUDY_COLUMNS (server/queries.c) */
    const char *too_few;     /* too few waited this long to say anything */
    const char *soon[2];     /* past the usual time: [0] no modality, [1] with it */
    const char *waiting[2];  /* conditional: among those still waiting as long */
    const char *usual[2];    /* on entering the stage */
    const char *clock;       /* "..., timed by <clock>": what the site's clock counts; NULL for
                              * a milestone estimated from those waiting at the same hour of the
                              * week (no clock) */
    const char *adjusted[3]; /* the times stretched by the calibration: [ADJUSTED_LATER], ... */
};

static const struct milestone_text milestone_texts[] = {
    {"report_final",
     "ef",
     N_("This is taking longer than usual. Too few similar exams here have waited this long for "
        "us to estimate when the report will be signed."),
     {N_("This is taking longer than usual; most similar reports had been signed by now, so it "
         "should come soon."),
      N_("This is taking longer than usual; most similar %s reports had been signed by now, so "
         "it should come soon.")},
     {N_("Of the reports here still waiting at this point, most were signed within %s more, and "
         "9 in 10 within %s."),
      N_("Of the %s reports here still waiting at this point, most were signed within %s more, "
         "and 9 in 10 within %s.")},
     {N_("Most reports here are signed within %s from now, and 9 in 10 within %s."),
      N_("Most %s reports here are signed within %s from now, and 9 in 10 within %s.")},
     N_("the hours of the week reports are signed here"),
     {N_("Lately reports have been signed later than usual, so we have allowed more "
         "time: most should be signed within %s from now, and 9 in 10 within %s."),
      N_("Lately reports have been signed sooner than usual, so we have allowed less "
         "time: most should be signed within %s from now, and 9 in 10 within %s."),
      N_("Lately our estimates of when reports are signed have not held as usual, so we have "
         "adjusted them: most should be signed within %s from now, and 9 in 10 within %s.")}},
    {"available",
     "ea",
     N_("This is taking longer than usual. Too few similar exams here have waited this long for "
        "us to estimate when your doctor will share the results."),
     {N_("This is taking longer than usual; most similar results had been shared by the doctor "
         "by now, so it should come soon."),
      N_("This is taking longer than usual; most similar %s results had been shared by the "
         "doctor by now, so it should come soon.")},
     {N_("Of the results here still waiting at this point, most were shared by the doctor within "
         "%s more, and 9 in 10 within %s."),
      N_("Of the %s results here still waiting at this point, most were shared by the doctor "
         "within %s more, and 9 in 10 within %s.")},
     {N_("Most results here are shared by the doctor within %s from now, and 9 in 10 within %s."),
      N_("Most %s results here are shared by the doctor within %s from now, and 9 in 10 within "
         "%s.")},
     NULL,
     {N_("Lately results have been shared later than usual, so we have allowed more "
         "time: most should be shared by the doctor within %s from now, and 9 in 10 within %s."),
      N_("Lately results have been shared sooner than usual, so we have allowed less "
         "time: most should be shared by the doctor within %s from now, and 9 in 10 within %s."),
      N_("Lately our estimates of when results are shared have not held as usual, so we have "
         "adjusted them: most should be shared by the doctor within %s from now, and 9 in 10 "
         "within %s.")}},
};

/* Whether the milestone is still ahead of a study in this stage (portal.milestone_ahead). */
static bool ahead(const char *stage, const char *milestone)
{
    static const char *const before_final[] = {"ordered", "scheduled",     "checked_in",
                                               "imaging", "awaiting_read", "reading"};
    if (!stage)
        return false;
    for (size_t i = 0; i < sizeof(before_final) / sizeof(before_final[0]); i++)
        if (strcmp(before_final[i], stage) == 0)
            return true;
    return strcmp(milestone, "available") == 0 && strcmp(stage, "physician_review") == 0;
}

static const char *modality_words(const char *m, enum lang lang)
{
    static const char *const names[][2] = {
        {"CT", N_("CT")},         {"MR", N_("MRI")},       {"XR", N_("X-ray")},
        {"US", N_("ultrasound")}, {"MG", N_("mammogram")}, {"NM", N_("nuclear medicine")},
        {"PET", N_("PET")},
    };
    for (size_t i = 0; m && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], m) == 0)
            return i18n_text(lang, names[i][1]);
    return m ? m : "";
}

static const char *priority_words(const char *p, enum lang lang)
{
    static const char *const names[][2] = {
        {"routine", N_("routine")}, {"urgent", N_("urgent")}, {"stat", N_("stat")}};
    for (size_t i = 0; p && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], p) == 0)
            return i18n_text(lang, names[i][1]);
    return p ? p : "";
}

/* "2026-11-20 14:05:00.123+00" (a session in UTC) to a time_t; -1 when unreadable. */
static time_t pg_time(const char *pg)
{
    struct tm tm = {0};
    if (!pg || sscanf(pg, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* A span of time in words read at a glance: rounded, never falsely precise. */
static void span_words(char *out, size_t len, double seconds, enum lang lang)
{
    /* Every count here is at least 2 (10 minutes, 2 hours, 2 days), so one plural form serves
     * English, Spanish and French alike. */
    double min = seconds / 60, h = seconds / 3600;
    if (min < 10)
        snprintf(out, len, "%s", i18n_text(lang, "a few minutes"));
    else if (min < 55)
        snprintf(out, len, i18n_text(lang, "%d minutes"), ((int)(min + 4) / 5) * 5);
    else if (h < 1.5)
        snprintf(out, len, "%s", i18n_text(lang, "an hour"));
    else if (h < 36)
        snprintf(out, len, i18n_text(lang, "%d hours"), (int)(h + 0.5));
    else
        snprintf(out, len, i18n_text(lang, "%d days"), (int)(h / 24 + 0.5));
}

static const char *col(const PGresult *res, int row, const char *prefix, const char *name)
{
    char c[48];
    snprintf(c, sizeof(c), "%s_%s", prefix, name);
    return db_value(res, row, c);
}

/* Which past studies the numbers come from and how time is counted, as the lookup
 * (sql/definitions/50_estimates.sql) computed them. report_final: "CT, routine, main site, last
 * 90 days, timed by the hours of the week reports are signed here": quantiles of durations on the
 * site's reading clock, among those that waited as long on it when the wait rung is above 0 (the
 * wait is measured on the clock, not in plain hours, so it is not given as a number of hours).
 * available: "CT, routine, main site, those waiting at this hour of the week after a similar
 * wait, last 90 days": the remaining wait of the past studies that were waiting at the same hour
 * of the week (the last hour mark) after a wait in the same rung; without "after a similar wait"
 * when that rung had too few and its band (waits up to a day, or longer) answered, which the
 * lookup marks with no rung. Levels as in
 * portal.turnaround_estimates. */
static void basis_words(char *out, size_t len, const PGresult *res, int row,
                        const struct milestone_text *m, bool adjusted, enum lang lang)
{
    const char *prefix = m->prefix;
    const char *modality = db_value(res, row, "modality");
    const char *priority = priority_words(db_value(res, row, "priority"), lang);
    const char *site = db_value(res, row, "site");
    const char *lv = col(res, row, prefix, "level");
    const char *rung = col(res, row, prefix, "elapsed_s");
    const char *window = col(res, row, prefix, "window_days");
    int level = lv ? atoi(lv) : 3;
    char group[160];
    if (level == 0)
        snprintf(group, sizeof(group), i18n_text(lang, "%s, %s, %s site"), modality, priority,
                 site);
    else if (level == 1)
        snprintf(group, sizeof(group), i18n_text(lang, "%s, %s, all sites"), modality, priority);
    else if (level == 2)
        snprintf(group, sizeof(group), i18n_text(lang, "%s, all priorities and sites"), modality);
    else
        snprintf(group, sizeof(group), "%s", i18n_text(lang, "all exams"));
    if (!m->clock && !rung)
        snprintf(out, len,
                 i18n_text(lang, "%s, those waiting at this hour of the week, last %s days"), group,
                 window ? window : "?");
    else if (!m->clock)
        snprintf(out, len,
                 i18n_text(lang, "%s, those waiting at this hour of the week after a similar "
                                 "wait, last %s days"),
                 group, window ? window : "?");
    else if (rung && atoi(rung) > 0)
        snprintf(out, len,
                 i18n_text(lang, "%s, those still waiting after a similar wait, last %s days, "
                                 "timed by %s"),
                 group, window ? window : "?", i18n_text(lang, m->clock));
    else
        snprintf(out, len, i18n_text(lang, "%s, last %s days, timed by %s"), group,
                 window ? window : "?", i18n_text(lang, m->clock));
    size_t used = strlen(out);
    if (adjusted && used < len)
        snprintf(out + used, len - used, "%s",
                 i18n_text(lang, ", adjusted by how recent estimates held"));
}

/* Copies a template of this file's tables into out, each "%s" replaced by the next of args (and
 * "%%" by "%"). The templates are translated, so they are not printf formats the compiler could
 * check; msgfmt --check holds every translation to the English one's conversions, and the
 * catalogue test formats each of them. */
static void fill(char *out, size_t len, const char *tmpl, int nargs, const char *const args[])
{
    size_t o = 0;
    int used = 0;
    for (const char *t = tmpl; *t && o + 1 < len; t++) {
        const char *piece = NULL;
        if (t[0] == '%' && t[1] == 's') {
            piece = used < nargs ? args[used++] : "";
            t++;
        } else if (t[0] == '%' && t[1] == '%') {
            t++;
        }
        if (!piece) {
            out[o++] = *t;
            continue;
        }
        for (; *piece && o + 1 < len; piece++)
            out[o++] = *piece;
    }
    if (len)
        out[o] = '\0';
}

/* How the calibration (portal.estimate_calibration) moved a milestone's times: NOT_ADJUSTED when
 * neither quantile moved by 5 % (a patient is not told of so little); later or sooner when those
 * that moved agree; ADJUSTED_BOTH_WAYS when one was lengthened and the other shortened. */
enum adjustment {
    NOT_ADJUSTED = -1,
    ADJUSTED_LATER = 0,
    ADJUSTED_SOONER = 1,
    ADJUSTED_BOTH_WAYS = 2
};

static enum adjustment adjustment(const PGresult *res, int row, const char *prefix)
{
    const char *t50 = col(res, row, prefix, "theta50"), *t90 = col(res, row, prefix, "theta90");
    double a = t50 ? atof(t50) : 0, b = t90 ? atof(t90) : 0;
    bool later = a >= 0.05 || b >= 0.05, sooner = a <= -0.05 || b <= -0.05;
    if (later && sooner)
        return ADJUSTED_BOTH_WAYS;
    return later ? ADJUSTED_LATER : sooner ? ADJUSTED_SOONER : NOT_ADJUSTED;
}

/* The sentence a patient reads. Stretched times are no longer what history alone says, so they
 * are told as our allowance for how recent estimates held. */
static void summary_words(char *out, size_t len, const struct milestone_text *m,
                          const char *modality, int level, bool enough, int rung, double x,
                          double y, enum adjustment adjusted, enum lang lang)
{
    const char *mod = level <= 2 ? modality_words(modality, lang) : "";
    int named = *mod ? 1 : 0;
    if (!enough) {
        fill(out, len, i18n_text(lang, m->too_few), 0, NULL);
        return;
    }
    char a[48], b[48];
    span_words(a, sizeof(a), x < 60 && rung > 0 ? 0 : x, lang);
    span_words(b, sizeof(b), y, lang);
    const char *with[3] = {mod, a, b};
    const char *const *args = named ? with : with + 1;
    if (y < 60)
        fill(out, len, i18n_text(lang, m->soon[named]), named, args);
    else if (adjusted != NOT_ADJUSTED)
        fill(out, len, i18n_text(lang, m->adjusted[adjusted]), 2, with + 1);
    else
        fill(out, len, i18n_text(lang, rung > 0 ? m->waiting[named] : m->usual[named]), named + 2,
             args);
}

/* The results are shared only after the report is signed, but the two milestones come from two
 * models (the results' pools other exams: by hour of the week, and by bands of waits). When the
 * report's model finds too few past exams that waited as long as this one, the results' model
 * would still give a date, one that quietly assumes the report comes as usual: the patient would
 * read that we cannot say when the report is signed, and a date for the results. Say instead that
 * the one waits for the other. And when both have times, the results' are never before the
 * report's: for every exam the release follows the signature, so each quantile of the one is at
 * least the same quantile of the other. */
static const char results_wait_for_report[] =
    N_("Your doctor can share the results only after the report is signed. As we cannot estimate "
       "yet when the report will be signed, we cannot estimate this either.");

json_t *estimates_json(const PGresult *res, int row, time_t now, enum lang lang)
{
    const char *stage = db_value(res, row, "stage");
    bool report_unknown = false; /* report_final is ahead and too few say when */
    const char *report_p50 = NULL, *report_p90 = NULL; /* its times, both set or neither */
    json_t *list = json_array();
    for (size_t i = 0; list && i < sizeof(milestone_texts) / sizeof(milestone_texts[0]); i++) {
        const struct milestone_text *m = &milestone_texts[i];
        const char *n = col(res, row, m->prefix, "sample_size");
        /* No row: the table holds no history for this stage at all; nothing honest to say. */
        if (!ahead(stage, m->milestone) || !n)
            continue;
        const char *ok = col(res, row, m->prefix, "enough");
        const char *p50 = col(res, row, m->prefix, "p50_at");
        const char *p90 = col(res, row, m->prefix, "p90_at");
        const char *rung = col(res, row, m->prefix, "elapsed_s");
        const char *lv = col(res, row, m->prefix, "level");
        bool enough = ok && strcmp(ok, "t") == 0 && p50 && p90;
        /* Too few even on entering the stage (or before a booked appointment, a rung below 0):
         * history has nothing to say yet, so say nothing. Too few among those that waited as
         * long: tell the patient so, instead of a guess. */
        if (!enough && (!rung || atoi(rung) <= 0))
            continue;
        char basis[320], summary[400];
        enum adjustment adjusted = adjustment(res, row, m->prefix);
        bool is_report = strcmp(m->milestone, "report_final") == 0;
        if (is_report) {
            report_unknown = !enough;
            report_p50 = enough ? p50 : NULL;
            report_p90 = enough ? p90 : NULL;
        } else if (report_unknown) {
            enough = false;
        } else if (enough && report_p50) {
            if (pg_time(p50) < pg_time(report_p50))
                p50 = report_p50;
            if (pg_time(p90) < pg_time(report_p90))
                p90 = report_p90;
        }
        /* Said only where times are given: "too few" and "waits for the report" give none. */
        if (!enough)
            adjusted = NOT_ADJUSTED;
        basis_words(basis, sizeof(basis), res, row, m, adjusted != NOT_ADJUSTED, lang);
        double x = enough ? difftime(pg_time(p50), now) : 0;
        double y = enough ? difftime(pg_time(p90), now) : 0;
        if (report_unknown && !is_report)
            snprintf(summary, sizeof(summary), "%s", i18n_text(lang, results_wait_for_report));
        else
            summary_words(summary, sizeof(summary), m, db_value(res, row, "modality"),
                          lv ? atoi(lv) : 3, enough, rung ? atoi(rung) : 0, x < 0 ? 0 : x,
                          y < 0 ? 0 : y, adjusted, lang);
        json_t *e = json_pack("{s:s, s:i, s:s, s:s}", "milestone", m->milestone, "sample_size",
                              atoi(n), "basis", basis, "summary", summary);
        /* Too few: no times at all rather than a guess (CONTRACT's Estimate needs only
         * milestone). */
        if (e && enough &&
            (timefmt_json_set(e, "p50_at", p50) < 0 || timefmt_json_set(e, "p90_at", p90) < 0)) {
            json_decref(e);
            e = NULL;
        }
        if (!e || json_array_append_new(list, e) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}
