/* JSON body validation that names the offending field: each call checks one member and records a
 * failure in v.errors (an absent parent object adds none for its members), so a handler checks
 * every field and then looks at v.errors.count once; the first failure is the one a client reads
 * in detail. Value rules shared with other transports are in fields.h. */
#ifndef PORTAL_VALIDATE_H
#define PORTAL_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "outcome.h"

struct validation {
    struct field_errors errors;
};

/* Refuses members of obj not named in allowed (NULL-terminated). prefix names obj ("patient")
 * or is "" for the body itself. */
void v_only(struct validation *v, json_t *obj, const char *prefix, const char *const *allowed);
/* A nested object; NULL if absent and not required, or on failure. */
json_t *v_object(struct validation *v, json_t *obj, const char *prefix, const char *key,
                 bool required);
/* A string of 1..max bytes (valid UTF-8 is jansson's guarantee); NULL if absent and optional. */
const char *v_string(struct validation *v, json_t *obj, const char *prefix, const char *key,
                     bool required, size_t max);
/* A string from the NULL-terminated list of choices. */
const char *v_choice(struct validation *v, json_t *obj, const char *prefix, const char *key,
                     bool required, const char *const *choices);
/* An RFC 3339 timestamp with a zone, e.g. 2026-11-20T14:05:00Z. */
const char *v_timestamp(struct validation *v, json_t *obj, const char *prefix, const char *key,
                        bool required);
/* A calendar date YYYY-MM-DD. */
const char *v_date(struct validation *v, json_t *obj, const char *prefix, const char *key,
                   bool required);
/* Records a failure for field path by hand (e.g. a rule between two fields). */
void v_fail(struct validation *v, const char *prefix, const char *key, const char *why);

#endif
