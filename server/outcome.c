/* Transport-neutral failures: field errors collected by validation, database and internal
 * failures, each with a status and a detail written for people. */
#include "outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void field_error_add(struct field_errors *fe, const char *prefix, const char *key, const char *why)
{
    if (fe->count >= FIELD_ERRORS_MAX) {
        fe->dropped++;
        return;
    }
    struct field_error *e = &fe->list[fe->count++];
    snprintf(e->field, sizeof(e->field), "%s%s%s", prefix, *prefix ? "." : "", key);
    snprintf(e->why, sizeof(e->why), "%s", why);
}

int outcome_fail(struct outcome *o, enum failure_kind kind, int status, const char *fmt, ...)
{
    o->kind = kind;
    o->status = status;
    o->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    return status;
}

int outcome_invalid(struct outcome *o, const struct field_errors *fe)
{
    if (fe->count == 0)
        return 0;
    if (fe != &o->fields)
        o->fields = *fe;
    return outcome_fail(o, FAIL_INVALID, 422, "%s: %s", fe->list[0].field, fe->list[0].why);
}
