/* The MLLP listener of `portald serve` (PORTAL_HL7_LISTEN): HL7 v2 messages from the RIS over TCP,
 * on threads of its own so that a slow or stalled sender never holds up a patient's page. One I/O
 * thread reads every connection and frames messages (mllp.h); a worker (HL7_WORKERS) applies
 * them (hl7_inbound.h) on its own database connection; the I/O thread writes the ACKs.
 * One message at a time per connection: the next is not read before the last one's ACK is sent. */
#ifndef PORTAL_HL7_LISTENER_H
#define PORTAL_HL7_LISTENER_H

#include <stddef.h>

struct config;
struct hl7_listener;

/* Limits. A sender's message may take PORTAL_HL7_READ_TIMEOUT from its first byte to its last; a
 * connection with nothing in flight is closed after HL7_IDLE_TIMEOUT_S (senders reconnect); an ACK
 * the sender does not read within HL7_WRITE_TIMEOUT_S closes the connection. Connections beyond
 * the limits are closed as soon as they are accepted. The message size limit is HL7_MAX_MESSAGE. */
#define HL7_MAX_CONNECTIONS 256
#define HL7_MAX_PER_ADDRESS 32
/* One worker: an HL7 flood beside the patient load raised the pages' p99 x5-x10 with two (two more
 * busy database backends on a two-core machine), x1.4-x1.8 with one, as JSON ingest does; one
 * still applies ~830 orders a second (docs/performance.md, "One worker"). */
#define HL7_WORKERS         1
#define HL7_IDLE_TIMEOUT_S  3600
#define HL7_WRITE_TIMEOUT_S 30
#define HL7_QUEUE_MAX       HL7_MAX_CONNECTIONS /* one message per connection at most */

/* Starts listening on cfg's PORTAL_HL7_LISTEN. NULL with a reason in err when it cannot. */
struct hl7_listener *hl7_listener_start(const struct config *cfg, char *err, size_t errlen);
/* The port listened on (useful with port 0). */
int hl7_listener_port(const struct hl7_listener *l);
/* Stops accepting, lets the messages being applied finish and their ACKs go out (up to grace_ms),
 * closes every connection and joins the threads. Accepts NULL. */
void hl7_listener_stop(struct hl7_listener *l, int grace_ms);

#endif
