/* Release and hold, the core of a physician's decision about a report: plain structs in, the
 * rules on each field, then one call of portal.release_report or portal.hold_report, which write
 * the release or hold and its audit row (the release gate, in SQL). The JSON API (h_physician.c)
 * translates its bodies into these structs; other transports do the same with theirs. */
#ifndef PORTAL_RELEASE_H
#define PORTAL_RELEASE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "origin.h"
#include "outcome.h"

#define RELEASE_NOTE_MAX 4000 /* bytes of the physician's note to the patient */
#define HOLD_REASON_MAX  2000 /* bytes of why a release is held */

extern const char *const hold_reason_codes[];

/* The physician releases the study's newest reviewable report version to the patient, with an
 * optional note. */
struct release_request {
    const char *study_id;
    const char *physician_id; /* who decides: the study's referring physician, or nothing happens */
    const char *note;         /* NULL: none */
};

/* The physician holds the release: why (a reason code among hold_reason_codes, 45 CFR 171.201's
 * grounds, and words), and until when (NULL: until released by hand). */
struct hold_request {
    const char *study_id;
    const char *physician_id;
    const char *reason;
    const char *reason_code; /* NULL: "other" */
    const char *until;       /* RFC 3339, or NULL */
};

/* What the database recorded; the text fields point into row. Timestamps are PostgreSQL's text
 * (timefmt.h renders them). */
struct release_result {
    const char *released_at;
    const char *report_version;
    PGresult *row;
};

struct hold_result {
    const char *placed_at, *reason, *reason_code, *ends_at;
    bool created; /* false: a hold was already in force, and this is it */
    PGresult *row;
};

int release_request_check(const struct release_request *r, struct field_errors *fe);
int hold_request_check(const struct hold_request *h, struct field_errors *fe);

/* Check and record. Return 0 with the result set (free it with PQclear(result->row)), or a status
 * with o filled: 422 for invalid fields, else the database's own refusal (PTnnn: a study that is
 * not this physician's, nothing to release, a hold longer than the site allows). */
__attribute__((warn_unused_result)) int release_apply(const struct release_request *r,
                                                      const struct origin *from,
                                                      struct release_result *result,
                                                      struct outcome *o);
__attribute__((warn_unused_result)) int hold_apply(const struct hold_request *h,
                                                   const struct origin *from,
                                                   struct hold_result *result, struct outcome *o);

#endif
