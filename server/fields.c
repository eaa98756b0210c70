/* Field rules shared by every transport, with the failure texts clients have always been shown. */
#include "fields.h"

#include <stdio.h>
#include <string.h>

#include "timefmt.h"

bool field_present(struct field_errors *fe, const char *prefix, const char *key, const char *value)
{
    if (value)
        return true;
    field_error_add(fe, prefix, key, "is required");
    return false;
}

void field_too_long(struct field_errors *fe, const char *prefix, const char *key, size_t max)
{
    char why[64];
    snprintf(why, sizeof(why), "must be at most %zu bytes", max);
    field_error_add(fe, prefix, key, why);
}

bool field_max(struct field_errors *fe, const char *prefix, const char *key, const char *value,
               size_t max)
{
    if (!value || strlen(value) <= max)
        return true;
    field_too_long(fe, prefix, key, max);
    return false;
}

bool field_text(struct field_errors *fe, const char *prefix, const char *key, const char *value,
                bool required, size_t max)
{
    if (required && !field_present(fe, prefix, key, value))
        return false;
    return field_max(fe, prefix, key, value, max);
}

bool field_one_of(struct field_errors *fe, const char *prefix, const char *key, const char *value,
                  const char *const *choices, const char **canonical)
{
    if (canonical)
        *canonical = NULL;
    if (!value || !field_max(fe, prefix, key, value, FIELD_CHOICE_MAX))
        return !value;
    for (const char *const *c = choices; *c; c++) {
        if (strcmp(*c, value) == 0) {
            if (canonical)
                *canonical = *c;
            return true;
        }
    }
    char why[256] = "must be one of ";
    for (const char *const *c = choices; *c; c++) {
        strncat(why, *c, sizeof(why) - strlen(why) - 3);
        if (c[1])
            strncat(why, ", ", sizeof(why) - strlen(why) - 1);
    }
    field_error_add(fe, prefix, key, why);
    return false;
}

bool field_timestamp(struct field_errors *fe, const char *prefix, const char *key,
                     const char *value)
{
    if (!value)
        return true;
    if (!field_max(fe, prefix, key, value, FIELD_TIMESTAMP_MAX))
        return false;
    if (timefmt_is_rfc3339(value))
        return true;
    field_error_add(fe, prefix, key, "must be an RFC 3339 timestamp such as 2026-11-20T14:05:00Z");
    return false;
}

bool field_date(struct field_errors *fe, const char *prefix, const char *key, const char *value)
{
    if (!value)
        return true;
    if (!field_max(fe, prefix, key, value, FIELD_DATE_MAX))
        return false;
    if (timefmt_is_date(value))
        return true;
    field_error_add(fe, prefix, key, "must be a date such as 1985-12-10");
    return false;
}
