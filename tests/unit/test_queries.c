/* Every statement's placeholders are exactly $1..$n for its declared n, so a caller passing n
 * values fills them all; the ingest statements name each argument, and each name is tied to the
 * number its enum gives it. */
#include "../../server/queries.c"

#include <stdbool.h>
#include <stdlib.h>

#include "testhelp.h"

#define MAX_PLACEHOLDER 64

/* Marks in seen[] each $N in sql; returns the largest N, or -1 for a $ not followed by a number
 * (a dollar-quoted body would need the statement text to be reviewed by hand). */
static int placeholders(const char *sql, bool seen[MAX_PLACEHOLDER + 1])
{
    int max = 0;
    for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end == p + 1 || n < 1 || n > MAX_PLACEHOLDER)
            return -1;
        seen[n] = true;
        if (n > max)
            max = (int)n;
    }
    return max;
}

static void every_statement_has_its_declared_placeholders(void)
{
    for (int q = 0; q < Q_COUNT; q++) {
        CHECK(queries[q].name != NULL && queries[q].sql != NULL);
        if (!queries[q].sql)
            continue;
        bool seen[MAX_PLACEHOLDER + 1] = {false};
        int max = placeholders(queries[q].sql, seen);
        if (max != queries[q].nparams)
            printf("# statement %s: highest placeholder $%d, declares %d\n", queries[q].name, max,
                   queries[q].nparams);
        CHECK(max == queries[q].nparams);
        for (int n = 1; n <= max; n++) {
            if (!seen[n])
                printf("# statement %s: $%d is never used\n", queries[q].name, n);
            CHECK(seen[n]);
        }
        for (int other = 0; other < q; other++)
            CHECK(strcmp(queries[q].name, queries[other].name) != 0);
    }
}

/* "p_name => $N" once, with N the enum's value + 1. */
static void named(const char *sql, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        char want[64];
        snprintf(want, sizeof(want), "%s => $%d", names[i], i + 1);
        const char *at = strstr(sql, want);
        char after = at ? at[strlen(want)] : '\0';
        bool once = at && (after < '0' || after > '9') && !strstr(at + 1, names[i]);
        if (!once)
            printf("# \"%s\" is not in the statement exactly once\n", want);
        CHECK(once);
    }
}

static void ingest_arguments_are_named(void)
{
    CHECK(queries[Q_INGEST_EVENT].nparams == IEP_COUNT);
    named(queries[Q_INGEST_EVENT].sql, ingest_event_param_names, IEP_COUNT);
    CHECK(queries[Q_INGEST_REPORT].nparams == IRP_COUNT);
    named(queries[Q_INGEST_REPORT].sql, ingest_report_param_names, IRP_COUNT);
    CHECK(queries[Q_INGEST_PATIENT].nparams == IPP_COUNT);
    named(queries[Q_INGEST_PATIENT].sql, ingest_patient_param_names, IPP_COUNT);
    CHECK(queries[Q_INGEST_MERGE].nparams == IMP_COUNT);
    named(queries[Q_INGEST_MERGE].sql, ingest_merge_param_names, IMP_COUNT);
    CHECK(queries[Q_INGEST_IMAGES].nparams == IIP_COUNT);
    named(queries[Q_INGEST_IMAGES].sql, ingest_images_param_names, IIP_COUNT);
}

/* Only pure reads may go to a standby, and never a one-shot command's statement. */
static void standby_statements_are_reads(void)
{
    for (int q = 0; q < Q_COUNT; q++) {
        if (!query_standby_ok[q])
            continue;
        CHECK(strncmp(queries[q].sql, "SELECT", 6) == 0);
        CHECK(!queries[q].one_shot);
    }
}

static void scripts_take_no_parameters(void)
{
    for (int s = 0; s < S_COUNT; s++) {
        CHECK(query_scripts[s].name && query_scripts[s].parts[0]);
        for (int i = 0; i < QUERY_SCRIPT_MAX_PARTS && query_scripts[s].parts[i]; i++) {
            bool seen[MAX_PLACEHOLDER + 1] = {false};
            CHECK(placeholders(query_scripts[s].parts[i], seen) == 0);
        }
    }
}

int main(void)
{
    every_statement_has_its_declared_placeholders();
    ingest_arguments_are_named();
    standby_statements_are_reads();
    scripts_take_no_parameters();
    return testhelp_done();
}
