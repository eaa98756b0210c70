/* Rules for one field's value, whatever transport carried it: a JSON body, an HL7 segment, a
 * command line. Each check adds a failure naming the field to fe and returns false; an absent
 * value (NULL) passes every check but field_present. */
#ifndef PORTAL_FIELDS_H
#define PORTAL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "outcome.h"

/* The longest choice, timestamp or date looked at: longer is refused as too long before its value
 * is read (the JSON API has always answered so). */
#define FIELD_CHOICE_MAX    64
#define FIELD_TIMESTAMP_MAX 40
#define FIELD_DATE_MAX      10

bool field_present(struct field_errors *fe, const char *prefix, const char *key, const char *value);
/* Adds "must be at most max bytes" for a value whose length the caller measured. */
void field_too_long(struct field_errors *fe, const char *prefix, const char *key, size_t max);
/* At most max bytes. */
bool field_max(struct field_errors *fe, const char *prefix, const char *key, const char *value,
               size_t max);
/* Present when required, and at most max bytes. */
bool field_text(struct field_errors *fe, const char *prefix, const char *key, const char *value,
                bool required, size_t max);
/* One of the NULL-terminated choices (at most FIELD_CHOICE_MAX bytes); *canonical (if given) is
 * set to the list's own string. */
bool field_one_of(struct field_errors *fe, const char *prefix, const char *key, const char *value,
                  const char *const *choices, const char **canonical);
/* An RFC 3339 timestamp with a zone, e.g. 2026-11-20T14:05:00Z (at most FIELD_TIMESTAMP_MAX). */
bool field_timestamp(struct field_errors *fe, const char *prefix, const char *key,
                     const char *value);
/* A calendar date YYYY-MM-DD (at most FIELD_DATE_MAX bytes). */
bool field_date(struct field_errors *fe, const char *prefix, const char *key, const char *value);

#endif
