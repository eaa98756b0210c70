/* Timestamps: strict RFC 3339 and calendar-date checks for input, and PostgreSQL's UTC output
 * turned into RFC 3339 for answers. */
#ifndef PORTAL_TIMEFMT_H
#define PORTAL_TIMEFMT_H

#include <jansson.h>
#include <stdbool.h>

#define TIMEFMT_RFC3339_LEN 32
#define TIMEFMT_DATE_LEN    11

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), with real dates and times. */
bool timefmt_is_rfc3339(const char *s);
/* YYYY-MM-DD with a real date. */
bool timefmt_is_date(const char *s);
/* "2026-11-20 14:05:00.123+00" (a session in UTC) -> "2026-11-20T14:05:00Z". Returns out, or
 * NULL when pg is NULL. */
const char *timefmt_pg_to_rfc3339(const char *pg, char out[TIMEFMT_RFC3339_LEN]);

/* An HL7 v2 date/time (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ], at least to the day) as RFC 3339
 * UTC; a time without an offset is in the process's local time zone (TZ). Returns 0, or -1 when
 * value is not such a time. */
int timefmt_hl7_to_rfc3339(const char *value, char *out, size_t outlen);
/* An HL7 date (YYYYMMDD, any time after it ignored) as YYYY-MM-DD; false unless a real date. */
bool timefmt_hl7_to_date(const char *value, char out[TIMEFMT_DATE_LEN]);

/* Sets obj[key] to pg as RFC 3339; does nothing when pg is NULL (SQL NULL). Returns 0, or -1 on
 * out of memory. */
int timefmt_json_set(json_t *obj, const char *key, const char *pg);

#endif
