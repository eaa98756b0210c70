/* `portald backtest`: prints what portal.backtest (sql/definitions/50_estimates.sql) finds when
 * it replays the recent past: for every stage entered, the estimate the model of that day would
 * have given, against when the milestone came. Well calibrated means p50 covers about half the
 * studies and p90 about nine in ten. */
#include "backtest.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_db.h"
#include "db.h"

static int parse_days(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        fprintf(stderr, "portald: backtest: %s must be from %d to %d\n", flag, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static void print_pct(const char *v)
{
    if (v && *v)
        printf(" %9.1f%%", 100.0 * atof(v));
    else
        printf(" %10s", "-");
}

/* "Tue 03:00" for hour 27 of the week (0 is Monday 00:00, site time). */
static void hour_words(char *out, size_t len, int hour_of_week)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    snprintf(out, len, "%s %02d:00", days[(hour_of_week / 24) % 7], hour_of_week % 24);
}

struct hour_tally {
    double scored, in50, in90; /* sums over the hours of the week judged */
    int judged, in_band;
    int worst50, worst90;        /* row of the hour farthest from 50 % and from 90 % */
    double worst50_v, worst90_v; /* its coverage, percent */
};

static double off(double v, double target)
{
    return v > target ? v - target : target - v;
}

static bool in_band(double p50, double p90)
{
    return p50 >= BACKTEST_BAND_P50_LO && p50 <= BACKTEST_BAND_P50_HI &&
           p90 >= BACKTEST_BAND_P90_LO && p90 <= BACKTEST_BAND_P90_HI;
}

/* One line per milestone: the coverage over every hour judged, how many hours are in the band,
 * and the worst hour for each quantile. Columns: milestone, hours judged, hours in the band, p50
 * overall, worst p50 and its hour, p90 overall, worst p90 and its hour. */
static void print_hours(const PGresult *r, bool by_hour)
{
    const char *milestones[] = {"report_final", "available"};
    if (by_hour)
        printf("%-13s %-9s %8s %8s %10s %10s %10s %8s\n", "milestone", "hour", "studies", "scored",
               "p50 cover", "p90 cover", "unfinished", "too few");
    for (size_t m = 0; m < 2; m++) {
        struct hour_tally t = {.worst50 = -1, .worst90 = -1};
        for (int i = 0; i < PQntuples(r); i++) {
            if (strcmp(PQgetvalue(r, i, 0), milestones[m]) != 0)
                continue;
            char hour[16];
            hour_words(hour, sizeof(hour), atoi(PQgetvalue(r, i, 1)));
            long studies = atol(PQgetvalue(r, i, 2));
            double scored = atof(PQgetvalue(r, i, 3));
            bool known = !PQgetisnull(r, i, 4);
            double p50 = known ? 100.0 * atof(PQgetvalue(r, i, 4)) : 0;
            double p90 = known ? 100.0 * atof(PQgetvalue(r, i, 5)) : 0;
            if (by_hour) {
                printf("%-13s %-9s %8ld %8.0f", milestones[m], hour, studies, scored);
                print_pct(known ? PQgetvalue(r, i, 4) : NULL);
                print_pct(known ? PQgetvalue(r, i, 5) : NULL);
                printf(" %10s %8s\n", PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
            }
            if (!known || studies < BACKTEST_MIN_HOUR_STUDIES)
                continue;
            t.judged++;
            t.in_band += in_band(p50, p90);
            t.scored += scored;
            t.in50 += scored * p50;
            t.in90 += scored * p90;
            if (t.worst50 < 0 || off(p50, 50) > off(t.worst50_v, 50)) {
                t.worst50 = i;
                t.worst50_v = p50;
            }
            if (t.worst90 < 0 || off(p90, 90) > off(t.worst90_v, 90)) {
                t.worst90 = i;
                t.worst90_v = p90;
            }
        }
        if (m == 0)
            printf("%s%-13s %7s %8s %9s %-16s %9s %-16s\n", by_hour ? "\n" : "", "milestone",
                   "hours", "in band", "p50 all", "worst p50", "p90 all", "worst p90");
        if (t.judged == 0) {
            printf("%-13s %7d %8d %9s %-16s %9s %-16s\n", milestones[m], 0, 0, "-", "-", "-", "-");
            continue;
        }
        char h50[16], h90[16], w50[32], w90[32];
        hour_words(h50, sizeof(h50), atoi(PQgetvalue(r, t.worst50, 1)));
        hour_words(h90, sizeof(h90), atoi(PQgetvalue(r, t.worst90, 1)));
        snprintf(w50, sizeof(w50), "%.1f%% %s", t.worst50_v, h50);
        snprintf(w90, sizeof(w90), "%.1f%% %s", t.worst90_v, h90);
        printf("%-13s %7d %8d %8.1f%% %-16s %8.1f%% %-16s\n", milestones[m], t.judged, t.in_band,
               t.in50 / t.scored, w50, t.in90 / t.scored, w90);
    }
    printf(
        "\n\"hours\": hours of the week with at least %d studies scored; \"in band\": of those, "
        "the hours\nwhere p50 covers %.0f-%.0f%% and p90 %.0f-%.0f%%; \"worst\": the hour farthest "
        "from 50%% (90%%).\n",
        BACKTEST_MIN_HOUR_STUDIES, BACKTEST_BAND_P50_LO, BACKTEST_BAND_P50_HI, BACKTEST_BAND_P90_LO,
        BACKTEST_BAND_P90_HI);
}

/* Runs a backtest query with (days, window days[, conditional]); NULL, said on stderr, when it
 * failed or found nothing to score (what `nothing` describes). */
static PGresult *fetch(enum query q, int days, int window_days, const char *conditional,
                       const char *nothing)
{
    char d[16], w[16];
    snprintf(d, sizeof(d), "%d", days);
    snprintf(w, sizeof(w), "%d", window_days);
    const char *params[3] = {d, w, conditional};
    PGresult *r = NULL;
    struct outcome o = {0};
    if (db_exec(q, conditional ? 3 : 2, params, &r, &o, "backtest")) {
        fprintf(stderr, "portald: backtest failed (SQLSTATE %s)\n",
                o.sqlstate[0] ? o.sqlstate : "-");
        return NULL;
    }
    if (PQntuples(r) == 0) {
        fprintf(stderr, "portald: backtest: %s (is there history? see `portald seed-history`)\n",
                nothing);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* --every-hour: the questions of every hour of N days, scored per hour of the week. */
static int run_hours(int days, int window_days, bool by_hour)
{
    char nothing[96];
    snprintf(nothing, sizeof(nothing), "no study was waiting in the %d days before last week",
             days);
    PGresult *r = fetch(Q_BACKTEST_HOURS, days, window_days, NULL, nothing);
    if (r) {
        printf("Backtest of every hour of the %d days that ended a week ago: every study waiting "
               "then,\nestimated by the model of that day (rebuilt from the %d days before it, "
               "nothing later),\nagainst when the milestone came, per hour of the week (site "
               "time).\n\n",
               days, window_days);
        print_hours(r, by_hour);
    }
    int rc = r ? 0 : 1;
    PQclear(r);
    return rc;
}

int backtest_run(const char *conninfo, int window_days, int argc, char **argv)
{
    int days = BACKTEST_DEFAULT_DAYS;
    bool conditional = false, every_hour = false, by_hour = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            if (parse_days("--days", argv[++i], 1, 366, &days) < 0)
                return 2;
        } else if (strcmp(argv[i], "--window-days") == 0 && i + 1 < argc) {
            if (parse_days("--window-days", argv[++i], 7, 3650, &window_days) < 0)
                return 2;
        } else if (strcmp(argv[i], "--conditional") == 0) {
            conditional = true;
        } else if (strcmp(argv[i], "--every-hour") == 0) {
            every_hour = true;
        } else if (strcmp(argv[i], "--by-hour") == 0) {
            by_hour = true;
        } else {
            fprintf(stderr, "usage: portald backtest [--days N] [--window-days W] [--conditional "
                            "| --every-hour [--by-hour]]\n");
            return 2;
        }
    }
    if ((conditional && every_hour) || (by_hour && !every_hour)) {
        fprintf(stderr, "portald: backtest: --by-hour goes with --every-hour, which does not go "
                        "with --conditional\n");
        return 2;
    }
    if (cli_db_open(conninfo) < 0)
        return 1;
    if (every_hour) {
        int rc = run_hours(days, window_days, by_hour);
        db_close();
        return rc;
    }
    char nothing[96];
    snprintf(nothing, sizeof(nothing), "no stage entered in the last %d days can be scored yet",
             days);
    PGresult *r = fetch(Q_BACKTEST, days, window_days, conditional ? "true" : "false", nothing);
    int rc = r ? 0 : 1;
    if (r) {
        printf("Backtest of the last %d days: each stage entered, estimated %s by the "
               "model of that day\n(rebuilt from the %d days before it, nothing later), against "
               "when the milestone came.\n\n",
               days, conditional ? "on entry and again after each rung of waiting" : "on entry",
               window_days);
        printf("%-8s %-13s %8s %8s %10s %10s %13s %10s %8s\n", "modality", "milestone", "studies",
               "scored", "p50 cover", "p90 cover", "median |err|", "unfinished", "too few");
        for (int i = 0; i < PQntuples(r); i++) {
            printf("%-8s %-13s %8s %8s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
            print_pct(PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4));
            print_pct(PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5));
            if (PQgetisnull(r, i, 6))
                printf(" %13s", "-");
            else
                printf(" %11.1f h", atof(PQgetvalue(r, i, 6)));
            printf(" %10s %8s\n", PQgetvalue(r, i, 7), PQgetvalue(r, i, 8));
        }
        printf("\nIdeal: p50 cover 50%%, p90 cover 90%%. \"scored\": stage entries (a study "
               "counts once per stage\nand milestone; \"studies\" counts each once, and is the "
               "number to weigh a coverage by).\n\"unfinished\": scored entries whose milestone "
               "has not come (counted as missed); \"too few\":\nentries for which history held "
               "too few similar studies (no estimate given, not scored).\n");
    }
    PQclear(r);
    db_close();
    return rc;
}
