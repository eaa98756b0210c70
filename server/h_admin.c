/* The admin role's endpoints: the compliance report of release policies, every hold and every
 * delayed release with reason, who, when, how long and how it ended (docs/release-policies.md),
 * as JSON with summary figures or as CSV. Reading it is audited in the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "timefmt.h"

/* The columns of Q_ADMIN_HOLDS, in CSV order; timestamps are written as RFC 3339. */
static const struct {
    const char *column;
    const char *csv_name;
    bool is_time;
} report_columns[] = {
    {"kind", "kind", false},
    {"study_id", "study_id", false},
    {"accession", "accession", false},
    {"site", "site", false},
    {"modality", "modality", false},
    {"version", "version", false},
    {"reason_code", "reason_code", false},
    {"reason", "reason", false},
    {"actor", "by", false},
    {"actor_name", "by_name", false},
    {"started_at", "started_at", true},
    {"deadline", "deadline", true},
    {"ended_at", "ended_at", true},
    {"ended_how", "ended_how", false},
    {"duration_seconds", "duration_seconds", false},
};
#define NCOLUMNS (sizeof(report_columns) / sizeof(report_columns[0]))

static bool wants_csv(struct req *rq)
{
    const char *format = req_query(rq, "format");
    if (format)
        return strcmp(format, "csv") == 0;
    const char *accept = req_header(rq, "Accept");
    return accept && strstr(accept, "text/csv") != NULL;
}

/* One CSV field (RFC 4180 quoting). A leading = + - @ or tab is prefixed with ' so that a
 * spreadsheet never runs a hold reason as a formula; a ';' or tab inside is quoted too, since a
 * spreadsheet whose locale splits on it would otherwise start a new cell there. */
static void csv_field(FILE *f, const char *v)
{
    if (!v)
        return;
    bool formula = strchr("=+-@\t\r", v[0]) != NULL && v[0] != '\0';
    bool quote = formula || strpbrk(v, ",;\t\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (quote)
        fputc('"', f);
}

static int answer_csv(struct req *rq, const PGresult *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return req_problem(rq, 500, "Out of memory.");
    for (size_t c = 0; c < NCOLUMNS; c++)
        fprintf(f, "%s%s", c ? "," : "", report_columns[c].csv_name);
    fputs("\r\n", f);
    for (int i = 0; i < PQntuples(res); i++) {
        for (size_t c = 0; c < NCOLUMNS; c++) {
            const char *v = db_value(res, i, report_columns[c].column);
            char iso[TIMEFMT_RFC3339_LEN];
            if (c)
                fputc(',', f);
            csv_field(f, report_columns[c].is_time ? timefmt_pg_to_rfc3339(v, iso) : v);
        }
        fputs("\r\n", f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return req_problem(rq, 500, "Out of memory.");
    }
    if (req_add_header(rq, "Content-Disposition", "attachment; filename=\"holds.csv\"") < 0) {
        free(buf);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_raw(rq, 200, "text/csv; charset=utf-8", buf, len);
}

static json_t *item(const PGresult *res, int i)
{
    json_t *o = json_object();
    for (size_t c = 0; o && c < NCOLUMNS; c++) {
        const char *v = db_value(res, i, report_columns[c].column);
        char iso[TIMEFMT_RFC3339_LEN];
        json_t *j;
        if (!v)
            continue;
        if (report_columns[c].is_time)
            j = json_string(timefmt_pg_to_rfc3339(v, iso));
        else if (strcmp(report_columns[c].column, "version") == 0 ||
                 strcmp(report_columns[c].column, "duration_seconds") == 0)
            j = json_integer(strtoll(v, NULL, 10));
        else
            j = json_string(v);
        if (json_object_set_new(o, report_columns[c].csv_name, j) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Adds 1 to counts[key]. */
static void count(json_t *counts, const char *key)
{
    if (!key)
        key = "none";
    json_t *n = json_object_get(counts, key);
    json_object_set_new(counts, key, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* Hours with two decimals, for people reading the figures. */
static json_t *hours(double seconds)
{
    return json_real((double)(long long)(seconds / 36.0 + 0.5) / 100.0);
}

/* Figures per kind: how many, how they ended, why, and how long they lasted. */
static json_t *summary(const PGresult *res, const char *kind, const char *open_state)
{
    json_t *by_reason = json_object(), *by_end = json_object();
    long long n = 0, open = 0;
    double total = 0, max = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        if (strcmp(db_value(res, i, "kind"), kind) != 0)
            continue;
        double d = strtod(db_value(res, i, "duration_seconds"), NULL);
        const char *ended = db_value(res, i, "ended_how");
        n++;
        open += ended && strcmp(ended, open_state) == 0;
        total += d;
        max = d > max ? d : max;
        count(by_reason, db_value(res, i, "reason_code"));
        count(by_end, ended);
    }
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "count", n, open_state, open,
                     "by_reason", by_reason, "by_end", by_end, "total_hours", hours(total),
                     "mean_hours", hours(n ? total / (double)n : 0), "max_hours", hours(max));
}

int h_admin_holds(struct req *rq)
{
    const char *from = req_query(rq, "from");
    const char *to = req_query(rq, "to");
    const char *format = req_query(rq, "format");
    if (from && !timefmt_is_rfc3339(from))
        return req_problem(rq, 422, "from: must be an RFC 3339 timestamp");
    if (to && !timefmt_is_rfc3339(to))
        return req_problem(rq, 422, "to: must be an RFC 3339 timestamp");
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return req_problem(rq, 422, "format: must be json or csv");

    const char *p[5] = {from, to, rq->who.sub, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_ADMIN_HOLDS, 5, p, &res)))
        return s;
    if (wants_csv(rq))
        return answer_csv(rq, res);

    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e = item(res, i);
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    json_t *period = json_pack("{s:s?, s:s?}", "from", from, "to", to);
    json_t *body = items ? json_pack("{s:o*, s:{s:o, s:o}, s:o}", "period", period, "summary",
                                     "holds", summary(res, "hold", "active"), "delayed_releases",
                                     summary(res, "delayed_release", "pending"), "items", items)
                         : NULL;
    return req_json(rq, 200, body);
}
