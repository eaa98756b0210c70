/* Request ids: the id every log line and audit row of one piece of work carries, whichever
 * transport it came by. */
#ifndef PORTAL_REQUEST_ID_H
#define PORTAL_REQUEST_ID_H

#include <stdbool.h>

#define REQUEST_ID_GIVEN_MAX 64 /* bytes of an id a trusted sender may choose */
#define REQUEST_ID_SIZE      72

/* Whether an id a sender gave is a plain token (letters, digits, - _ .) of 1..64 bytes. */
bool request_id_acceptable(const char *given);
/* Makes a new id: a random per-thread prefix and a counter, unique across instances in practice. */
void request_id_new(char out[REQUEST_ID_SIZE]);

#endif
