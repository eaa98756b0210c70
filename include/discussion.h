/* A patient's request to talk released results over, answered by the physician's office: marked
 * contacted, scheduled for a time, or closed, with an optional reply the patient reads. Plain
 * structs in, the rules on each field, then one call of portal.answer_discussion, which checks
 * whose request it is, writes the answer and its audit row. The JSON API (h_physician.c)
 * translates its body into this struct; a staff console does the same with its own. */
#ifndef PORTAL_DISCUSSION_H
#define PORTAL_DISCUSSION_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "origin.h"
#include "outcome.h"

#define DISCUSSION_REPLY_MAX 2000 /* bytes of the office's reply to the patient */

extern const char *const discussion_answer_states[];

struct discussion_answer {
    const char *discussion_id; /* the discussion request (UUID) */
    const char *state;         /* one of discussion_answer_states */
    const char *scheduled_for; /* RFC 3339; required for "scheduled", ignored otherwise */
    const char *reply;         /* NULL: none */
};

/* What the database recorded; the text fields point into row. */
struct discussion_answer_result {
    const char *id, *study_id, *state, *scheduled_for, *reply, *updated_at;
    bool changed; /* false: the request already said exactly this */
    PGresult *row;
};

int discussion_answer_check(const struct discussion_answer *a, struct field_errors *fe);

/* Check and record as from->actor_role ("physician": only the requests made to from->actor_id;
 * "staff", "admin": any). Returns 0 with the result set (free it with PQclear(result->row)), or a
 * status with o filled: 422 for invalid fields, 404 for a request that is not there or not the
 * physician's, 409 for a closed one. */
__attribute__((warn_unused_result)) int
discussion_answer_apply(const struct discussion_answer *a, const struct origin *from,
                        struct discussion_answer_result *result, struct outcome *o);

#endif
