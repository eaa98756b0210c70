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

int backtest_run(const char *conninfo, int window_days, int argc, char **argv)
{
    int days = BACKTEST_DEFAULT_DAYS;
    bool conditional = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            if (parse_days("--days", argv[++i], 1, 366, &days) < 0)
                return 2;
        } else if (strcmp(argv[i], "--window-days") == 0 && i + 1 < argc) {
            if (parse_days("--window-days", argv[++i], 7, 3650, &window_days) < 0)
                return 2;
        } else if (strcmp(argv[i], "--conditional") == 0) {
            conditional = true;
        } else {
            fprintf(stderr,
                    "usage: portald backtest [--days N] [--window-days W] [--conditional]\n");
            return 2;
        }
    }
    if (cli_db_open(conninfo) < 0)
        return 1;
    char d[16], w[16];
    snprintf(d, sizeof(d), "%d", days);
    snprintf(w, sizeof(w), "%d", window_days);
    const char *params[3] = {d, w, conditional ? "true" : "false"};
    PGresult *r = NULL;
    struct outcome o = {0};
    int rc = 0;
    if (db_exec(Q_BACKTEST, 3, params, &r, &o, "backtest")) {
        fprintf(stderr, "portald: backtest failed (SQLSTATE %s)\n",
                o.sqlstate[0] ? o.sqlstate : "-");
        rc = 1;
    } else if (PQntuples(r) == 0) {
        fprintf(stderr,
                "portald: backtest: no stage entered in the last %d days can be scored yet (is "
                "there history? see `portald seed-history`)\n",
                days);
        rc = 1;
    } else {
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
