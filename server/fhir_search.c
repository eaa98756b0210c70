/* FHIR search parameters to filters (fhir_search.h). Dates follow FHIR R4 3.1.1.4.2: a value
 * stands for the whole period its precision implies (2026-11 is all of November, UTC when no zone
 * is given), and the prefixes eq, gt, lt, ge and le compare the resource's instant with that
 * period. */
#include "fhir_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define US_PER_S 1000000LL

static const char *const result_params_ignored_silently[] = {"_format", "_pretty", NULL};

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- dates ------------------------------------------------------------------------------ */

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Seconds since the epoch of a UTC civil time; fields already range-checked. */
static long long civil_seconds(int year, int month, int day, int hour, int minute, int second)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_sec = second};
    return (long long)timegm(&tm);
}

bool fhir_date_span(const char *value, long long *start_us, long long *end_us)
{
    const char *p = value;
    size_t n = strlen(value);
    if (n < 4 || !is_digits(p, 4))
        return false;
    int year = digits_value(p, 4), month = 1, day = 1, hour = 0, minute = 0, second = 0;
    long long fraction_us = 0, unit_us = 0;
    int next_year = year + 1, next_month = 1;
    if (year < 1)
        return false;
    p += 4;
    enum { YEAR, MONTH, DAY, TIME } precision = YEAR;
    if (*p == '-') {
        if (!is_digits(p + 1, 2))
            return false;
        month = digits_value(p + 1, 2);
        if (month < 1 || month > 12)
            return false;
        precision = MONTH;
        p += 3;
        if (*p == '-') {
            if (!is_digits(p + 1, 2))
                return false;
            day = digits_value(p + 1, 2);
            if (day < 1 || day > days_in_month(year, month))
                return false;
            precision = DAY;
            p += 3;
            if (*p == 'T') {
                if (!is_digits(p + 1, 2) || p[3] != ':' || !is_digits(p + 4, 2))
                    return false;
                hour = digits_value(p + 1, 2);
                minute = digits_value(p + 4, 2);
                if (hour > 23 || minute > 59)
                    return false;
                precision = TIME;
                unit_us = 60 * US_PER_S;
                p += 6;
                if (*p == ':') {
                    if (!is_digits(p + 1, 2))
                        return false;
                    second = digits_value(p + 1, 2);
                    if (second > 59)
                        return false;
                    unit_us = US_PER_S;
                    p += 3;
                    if (*p == '.') {
                        size_t f = strspn(p + 1, "0123456789");
                        if (f == 0 || f > 6)
                            return false;
                        unit_us = US_PER_S;
                        for (size_t i = 0; i < f; i++) {
                            unit_us /= 10;
                            fraction_us += (p[1 + i] - '0') * unit_us;
                        }
                        p += 1 + f;
                    }
                }
            }
        }
    }
    long long offset_s = 0;
    if (precision == TIME && *p) {
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            if (!is_digits(p + 1, 2) || p[3] != ':' || !is_digits(p + 4, 2))
                return false;
            int oh = digits_value(p + 1, 2), om = digits_value(p + 4, 2);
            if (oh > 14 || om > 59)
                return false;
            offset_s = (*p == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
            p += 6;
        }
    }
    if (*p)
        return false;
    long long start = civil_seconds(year, month, day, hour, minute, second) - offset_s;
    *start_us = start * US_PER_S + fraction_us;
    switch (precision) {
    case YEAR:
        *end_us = civil_seconds(next_year, 1, 1, 0, 0, 0) * US_PER_S;
        break;
    case MONTH:
        next_year = month == 12 ? year + 1 : year;
        next_month = month == 12 ? 1 : month + 1;
        *end_us = civil_seconds(next_year, next_month, 1, 0, 0, 0) * US_PER_S;
        break;
    case DAY:
        *end_us = *start_us + 86400 * US_PER_S;
        break;
    case TIME:
        *end_us = *start_us + unit_us;
        break;
    }
    return true;
}

static void narrow(struct fhir_time_range *r, bool lower, long long us)
{
    if (lower) {
        if (!r->has_lower || us > r->lower_us)
            r->lower_us = us;
        r->has_lower = true;
    } else {
        if (!r->has_upper || us < r->upper_us)
            r->upper_us = us;
        r->has_upper = true;
    }
}

static void parse_date(struct fhir_search *s, const char *name, const char *value,
                       struct fhir_time_range *range)
{
    static const char *const unsupported[] = {"ne", "sa", "eb", "ap", NULL};
    char prefix[3] = "eq";
    const char *v = value;
    if (strlen(v) >= 2 && v[0] >= 'a' && v[0] <= 'z') {
        memcpy(prefix, v, 2);
        v += 2;
        if (in_list(unsupported, prefix)) {
            field_error_add(&s->errors, "", name,
                            "supports the prefixes eq, gt, ge, lt and le only");
            return;
        }
    }
    long long start, end;
    if (!fhir_date_span(v, &start, &end)) {
        field_error_add(&s->errors, "", name,
                        "must be a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD or "
                        "YYYY-MM-DDThh:mm[:ss[.ffffff]][Z|+hh:mm]), optionally after eq, gt, ge, "
                        "lt or le");
        return;
    }
    if (strcmp(prefix, "eq") == 0) {
        narrow(range, true, start);
        narrow(range, false, end);
    } else if (strcmp(prefix, "ge") == 0) {
        narrow(range, true, start);
    } else if (strcmp(prefix, "gt") == 0) {
        narrow(range, true, end);
    } else if (strcmp(prefix, "le") == 0) {
        narrow(range, false, end);
    } else if (strcmp(prefix, "lt") == 0) {
        narrow(range, false, start);
    } else {
        field_error_add(&s->errors, "", name, "has an unknown prefix");
    }
}

/* ---- tokens and references -------------------------------------------------------------- */

/* Calls each(item, len) for every comma-separated item of value; stops at the first false. */
static bool each_item(const char *value,
                      bool (*each)(struct fhir_search *, const char *, const char *, size_t),
                      struct fhir_search *s, const char *name)
{
    const char *p = value;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (!each(s, name, p, len))
            return false;
        if (!p[len])
            return true;
        p += len + 1;
    }
}

static void parse_ids(struct fhir_search *s, const char *name, const char *value)
{
    char given[FHIR_SEARCH_MAX_IDS][FHIR_ID_MAX + 1];
    int ngiven = 0;
    for (const char *p = value;;) {
        size_t len = strcspn(p, ",");
        if (!fhir_id_valid(p, len)) {
            field_error_add(&s->errors, "", name, "must list FHIR ids ([A-Za-z0-9-.], 1 to 64)");
            return;
        }
        if (ngiven == FHIR_SEARCH_MAX_IDS) {
            field_error_add(&s->errors, "", name, "may list at most 20 ids");
            return;
        }
        memcpy(given[ngiven], p, len);
        given[ngiven++][len] = '\0';
        if (!p[len])
            break;
        p += len + 1;
    }
    if (!s->has_ids) {
        memcpy(s->ids, given, sizeof(given));
        s->nids = ngiven;
        s->has_ids = true;
        return;
    }
    /* A repeated _id must match both lists: keep what they share. */
    int kept = 0;
    for (int i = 0; i < s->nids; i++)
        for (int j = 0; j < ngiven; j++)
            if (strcmp(s->ids[i], given[j]) == 0) {
                memmove(s->ids[kept++], s->ids[i], FHIR_ID_MAX + 1);
                break;
            }
    s->nids = kept;
}

static void parse_patient(struct fhir_search *s, const char *name, const char *value)
{
    const char *id = value;
    if (strncmp(value, "Patient/", 8) == 0)
        id = value + 8;
    else if (strchr(value, '/'))
        id = NULL;
    if (!id || !fhir_id_valid(id, strlen(id))) {
        field_error_add(&s->errors, "", name, "must be Patient/[id] or a Patient id");
        return;
    }
    if (s->has_patient && strcmp(s->patient, id) != 0)
        s->matches_nothing = true;
    snprintf(s->patient, sizeof(s->patient), "%s", id);
    s->has_patient = true;
}

static bool add_status(struct fhir_search *s, const char *name, const char *item, size_t len)
{
    const char *bar = memchr(item, '|', len);
    if (bar) {
        len -= (size_t)(bar + 1 - item);
        item = bar + 1;
    }
    char code[32];
    int i = -1;
    if (len < sizeof(code)) {
        memcpy(code, item, len);
        code[len] = '\0';
        i = fhir_status_index(s->resource, code);
    }
    if (i < 0) {
        char why[160];
        size_t used = (size_t)snprintf(why, sizeof(why), "must be one of");
        for (int k = 0; k < FHIR_MAX_STATUSES && s->resource->statuses[k] && used < sizeof(why);
             k++)
            used += (size_t)snprintf(why + used, sizeof(why) - used, "%s %s", k ? "," : "",
                                     s->resource->statuses[k]);
        field_error_add(&s->errors, "", name, why);
        return false;
    }
    s->statuses |= 1u << i;
    return true;
}

static void parse_status(struct fhir_search *s, const char *name, const char *value)
{
    unsigned before = s->statuses;
    bool had = s->has_status;
    s->statuses = 0;
    if (!each_item(value, add_status, s, name))
        return;
    /* A repeated status must match both. */
    if (had)
        s->statuses &= before;
    s->has_status = true;
    if (!s->statuses)
        s->matches_nothing = true;
}

/* Whether system|code (or code alone) names one of codings. */
static bool coding_matches(const struct fhir_coding *codings, const char *item, size_t len)
{
    const char *bar = memchr(item, '|', len);
    for (int i = 0; i < FHIR_MAX_CODINGS && codings[i].code; i++) {
        const struct fhir_coding *c = &codings[i];
        if (!bar) {
            if (strlen(c->code) == len && memcmp(c->code, item, len) == 0)
                return true;
            continue;
        }
        size_t sys_len = (size_t)(bar - item), code_len = len - sys_len - 1;
        bool system_ok =
            sys_len > 0 && strlen(c->system) == sys_len && memcmp(c->system, item, sys_len) == 0;
        bool code_ok = code_len == 0 ||
                       (strlen(c->code) == code_len && memcmp(c->code, bar + 1, code_len) == 0);
        if (system_ok && code_ok)
            return true;
    }
    return false;
}

static void parse_coding(struct fhir_search *s, const struct fhir_coding *codings,
                         const char *value)
{
    bool any = false;
    const char *p = value;
    for (;;) {
        size_t len = strcspn(p, ",");
        any |= coding_matches(codings, p, len);
        if (!p[len])
            break;
        p += len + 1;
    }
    if (!any)
        s->matches_nothing = true;
}

/* ---- result parameters ------------------------------------------------------------------ */

static void parse_count(struct fhir_search *s, const char *name, const char *value)
{
    size_t n = strlen(value);
    if (!is_digits(value, n) || n > 9) {
        field_error_add(&s->errors, "", name, "must be a whole number from 0");
        return;
    }
    int count = digits_value(value, n);
    if (count > FHIR_COUNT_MAX) {
        count = FHIR_COUNT_MAX;
        s->count_clamped = true;
    }
    s->count = count;
}

void fhir_cursor_encode(long offset, char out[FHIR_CURSOR_MAX])
{
    snprintf(out, FHIR_CURSOR_MAX, "p%lx", (unsigned long)offset);
}

static void parse_cursor(struct fhir_search *s, const char *name, const char *value)
{
    char *end;
    if (value[0] != 'p' || !value[1] || strlen(value) > 9 ||
        strspn(value + 1, "0123456789abcdef") != strlen(value + 1)) {
        field_error_add(&s->errors, "", name, "is not a page this server gave");
        return;
    }
    long offset = strtol(value + 1, &end, 16);
    if (offset > FHIR_OFFSET_MAX) {
        field_error_add(&s->errors, "", name, "is not a page this server gave");
        return;
    }
    s->offset = offset;
}

static void parse_sort(struct fhir_search *s, const char *name, const char *value)
{
    if (s->resource->sorts_by_date && strcmp(value, "date") == 0)
        s->ascending = true;
    else if (s->resource->sorts_by_date && strcmp(value, "-date") == 0)
        s->ascending = false;
    else
        field_error_add(&s->errors, "", name,
                        s->resource->sorts_by_date ? "must be date or -date"
                                                   : "is not supported for this resource type");
}

/* ---- the whole search ------------------------------------------------------------------- */

static const struct fhir_search_param *param_named(const struct fhir_resource *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return &r->params[i];
    return NULL;
}

static void apply(struct fhir_search *s, const struct fhir_search_param *p, const char *value)
{
    switch (p->kind) {
    case FP_ID:
        parse_ids(s, p->name, value);
        break;
    case FP_LAST_UPDATED:
        parse_date(s, p->name, value, &s->updated);
        break;
    case FP_PATIENT:
        parse_patient(s, p->name, value);
        break;
    case FP_STATUS:
        parse_status(s, p->name, value);
        break;
    case FP_DATE:
        parse_date(s, p->name, value, &s->date);
        break;
    case FP_CATEGORY:
        parse_coding(s, s->resource->category, value);
        break;
    case FP_CODE:
        parse_coding(s, s->resource->code, value);
        break;
    }
}

int fhir_search_parse(const struct fhir_resource *resource, const struct fhir_kv *kv, int n,
                      bool strict, struct fhir_search *s)
{
    memset(s, 0, sizeof(*s));
    s->resource = resource;
    s->count = FHIR_COUNT_DEFAULT;
    if (n > FHIR_SEARCH_MAX_PARAMS) {
        field_error_add(&s->errors, "", "_query", "has more than 48 parameters");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *key = kv[i].key ? kv[i].key : "";
        const char *value = kv[i].value ? kv[i].value : "";
        char name[65];
        size_t key_len = strlen(key);
        /* A modifier changes what a parameter means (status:not is the opposite of status), so
         * one this server does not know is refused whatever the handling (R4 3.1.1.4). */
        const char *colon = strchr(key, ':');
        size_t name_len = colon ? (size_t)(colon - key) : key_len;
        if (name_len == 0 || key_len >= sizeof(name)) {
            field_error_add(&s->errors, "", "_query",
                            "has a parameter name that is empty or longer than 64 characters");
            continue;
        }
        memcpy(name, key, name_len);
        name[name_len] = '\0';
        if (strlen(value) > FHIR_VALUE_MAX) {
            field_error_add(&s->errors, "", name, "is longer than 1024 characters");
            continue;
        }
        const struct fhir_search_param *p = param_named(resource, name);
        bool result_param =
            strcmp(name, "_count") == 0 || strcmp(name, "_sort") == 0 || strcmp(name, "_page") == 0;
        if ((p || result_param) && colon) {
            field_error_add(&s->errors, "", name, "takes no modifier here");
            continue;
        }
        if (p && !*value) {
            /* An empty value is no filter (R4 3.1.1.4); it stays out of the links. */
            continue;
        }
        if (p) {
            apply(s, p, value);
            s->used[i] = true;
        } else if (strcmp(name, "_count") == 0) {
            parse_count(s, name, value);
            s->used[i] = true;
        } else if (strcmp(name, "_sort") == 0) {
            parse_sort(s, name, value);
            s->used[i] = true;
        } else if (strcmp(name, "_page") == 0) {
            parse_cursor(s, name, value);
        } else if (in_list(result_params_ignored_silently, name)) {
            s->used[i] = true;
        } else if (strict) {
            field_error_add(&s->errors, "", name, "is not a search parameter this server supports");
        } else {
            field_error_add(&s->warnings, "", name, "is not supported and was ignored");
        }
    }
    if (s->date.has_lower && s->date.has_upper && s->date.lower_us >= s->date.upper_us)
        s->matches_nothing = true;
    if (s->updated.has_lower && s->updated.has_upper && s->updated.lower_us >= s->updated.upper_us)
        s->matches_nothing = true;
    if (s->has_ids && s->nids == 0)
        s->matches_nothing = true;
    return s->errors.count || s->errors.dropped ? -1 : 0;
}
