/* Rules for one field's value, whatever transport carried it: a JSON body, an HL7 segment, a
 * command line. Each check adds a failure naming the field to fe and returns false; an absent
 * value (NULL) passes every check but field_present. */
#ifndef PORTAL_FIELDS_H
#define PORTAL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "outcome.h"

bool field_present(struct field_errors *fe, const char *prefix, const char *key, const char *value);
/* Adds "must be at most max bytes" for a value whose length the caller measured. */
void field_too_long(struct field_errors *fe, const char *prefix, const char *key, size_t max);
/* At most max bytes. */
bool field_max(struct field_errors *fe, const char *prefix, const char *key, const char *value,
               size_t max);
/* One of the NULL-terminated choices; *canonical (if given) is set to the list's own string. */
bool field_one_of(struct field_errors *fe, const char *prefix, const char *key, const char *value,
                  const char *const *choices, const char **canonical);
/* An RFC 3339 timestamp with a zone, e.g. 2026-11-20T14:05:00Z. */
bool field_timestamp(struct field_errors *fe, const char *prefix, const char *key,
                     const char *value);
/* A calendar date YYYY-MM-DD. */
bool field_date(struct field_errors *fe, const char *prefix, const char *key, const char *value);

#endif
