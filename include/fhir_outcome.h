/* OperationOutcome bodies, the FHIR API's errors and warnings, written in one place. Their text
 * is shown to the client, so it must never hold report text, a token or an access code. */
#ifndef PORTAL_FHIR_OUTCOME_H
#define PORTAL_FHIR_OUTCOME_H

#include <jansson.h>

#include "outcome.h"

/* An OperationOutcome with one error issue for an answer of HTTP status (its issue code follows
 * the status), diagnostics naming the request id. Returns a new reference or NULL. */
json_t *fhir_outcome_body(int status, const char *detail, const char *request_id);

/* Appends one issue per field error, each naming its field (a search parameter) as the issue's
 * expression. severity: "error", "warning" or "information". Returns 0, or -1 on out of memory. */
int fhir_outcome_add_fields(json_t *outcome, const char *severity, const char *code,
                            const struct field_errors *fe);

#endif
