/* Field-by-field validation of JSON bodies; the first failure becomes a 422 naming the field. */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "timefmt.h"

void v_fail(struct validation *v, const char *prefix, const char *key, const char *why)
{
    if (v->status)
        return;
    v->status = req_problem(v->rq, 422, "%s%s%s: %s", prefix, *prefix ? "." : "", key, why);
}

void v_only(struct validation *v, json_t *obj, const char *prefix, const char *const *allowed)
{
    const char *key;
    json_t *val;
    if (v->status || !obj)
        return;
    json_object_foreach(obj, key, val)
    {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            /* Name the field only when it is short and printable; it came from the client. */
            char shown[64];
            size_t n = strlen(key);
            bool plain = n < sizeof(shown);
            for (size_t i = 0; plain && i < n; i++)
                plain = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"';
            snprintf(shown, sizeof(shown), "%s", plain ? key : "(unnamed)");
            v_fail(v, prefix, shown, "is not a recognised field");
            return;
        }
    }
}

static json_t *member(struct validation *v, json_t *obj, const char *prefix, const char *key,
                      bool required)
{
    if (v->status)
        return NULL;
    json_t *m = obj ? json_object_get(obj, key) : NULL;
    if (!m || json_is_null(m)) {
        if (required)
            v_fail(v, prefix, key, "is required");
        return NULL;
    }
    return m;
}

json_t *v_object(struct validation *v, json_t *obj, const char *prefix, const char *key,
                 bool required)
{
    json_t *m = member(v, obj, prefix, key, required);
    if (m && !json_is_object(m)) {
        v_fail(v, prefix, key, "must be an object");
        return NULL;
    }
    return m;
}

const char *v_string(struct validation *v, json_t *obj, const char *prefix, const char *key,
                     bool required, size_t max)
{
    json_t *m = member(v, obj, prefix, key, required);
    if (!m)
        return NULL;
    if (!json_is_string(m)) {
        v_fail(v, prefix, key, "must be a string");
        return NULL;
    }
    size_t len = json_string_length(m);
    const char *s = json_string_value(m);
    if (len == 0 && required) {
        v_fail(v, prefix, key, "must not be empty");
        return NULL;
    }
    if (len > max) {
        char why[64];
        snprintf(why, sizeof(why), "must be at most %zu bytes", max);
        v_fail(v, prefix, key, why);
        return NULL;
    }
    if (strlen(s) != len) {
        v_fail(v, prefix, key, "must not contain NUL characters");
        return NULL;
    }
    return len ? s : NULL;
}

const char *v_choice(struct validation *v, json_t *obj, const char *prefix, const char *key,
                     bool required, const char *const *choices)
{
    const char *s = v_string(v, obj, prefix, key, required, 64);
    if (!s)
        return NULL;
    for (const char *const *c = choices; *c; c++)
        if (strcmp(*c, s) == 0)
            return *c;
    char why[256] = "must be one of ";
    for (const char *const *c = choices; *c; c++) {
        strncat(why, *c, sizeof(why) - strlen(why) - 3);
        if (c[1])
            strncat(why, ", ", sizeof(why) - strlen(why) - 1);
    }
    v_fail(v, prefix, key, why);
    return NULL;
}

const char *v_timestamp(struct validation *v, json_t *obj, const char *prefix, const char *key,
                        bool required)
{
    const char *s = v_string(v, obj, prefix, key, required, 40);
    if (s && !timefmt_is_rfc3339(s)) {
        v_fail(v, prefix, key, "must be an RFC 3339 timestamp such as 2026-11-20T14:05:00Z");
        return NULL;
    }
    return s;
}

const char *v_date(struct validation *v, json_t *obj, const char *prefix, const char *key,
                   bool required)
{
    const char *s = v_string(v, obj, prefix, key, required, 10);
    if (s && !timefmt_is_date(s)) {
        v_fail(v, prefix, key, "must be a date such as 1985-12-10");
        return NULL;
    }
    return s;
}
