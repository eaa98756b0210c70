/* Field-by-field validation of JSON bodies: the shape (objects, strings, known members) here, the
 * value rules through fields.c so every transport applies the same ones. */
#include "validate.h"

#include <stdio.h>
#include <string.h>

#include "fields.h"

void v_fail(struct validation *v, const char *prefix, const char *key, const char *why)
{
    field_error_add(&v->errors, prefix, key, why);
}

void v_only(struct validation *v, json_t *obj, const char *prefix, const char *const *allowed)
{
    const char *key;
    json_t *val;
    if (!obj)
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

/* The member, or NULL when absent (a failure if required). The members of an absent or failed
 * parent object are not looked for: the parent's own failure, if any, says it all. */
static json_t *member(struct validation *v, json_t *obj, const char *prefix, const char *key,
                      bool required)
{
    if (!obj)
        return NULL;
    json_t *m = json_object_get(obj, key);
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
        field_too_long(&v->errors, prefix, key, max);
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
    const char *s = v_string(v, obj, prefix, key, required, FIELD_CHOICE_MAX);
    const char *canonical;
    return field_one_of(&v->errors, prefix, key, s, choices, &canonical) ? canonical : NULL;
}

const char *v_timestamp(struct validation *v, json_t *obj, const char *prefix, const char *key,
                        bool required)
{
    const char *s = v_string(v, obj, prefix, key, required, FIELD_TIMESTAMP_MAX);
    return field_timestamp(&v->errors, prefix, key, s) ? s : NULL;
}

const char *v_date(struct validation *v, json_t *obj, const char *prefix, const char *key,
                   bool required)
{
    const char *s = v_string(v, obj, prefix, key, required, FIELD_DATE_MAX);
    return field_date(&v->errors, prefix, key, s) ? s : NULL;
}
