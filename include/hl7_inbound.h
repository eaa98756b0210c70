/* One HL7 v2 message in, its acknowledgement out: parse (hl7.h), translate (hl7_map.h), apply
 * every call the message makes in one transaction through the core (ingest.h), and answer AA only
 * once that transaction committed. The MLLP listener calls this for each framed message; nothing
 * here knows of sockets. */
#ifndef PORTAL_HL7_INBOUND_H
#define PORTAL_HL7_INBOUND_H

#include <stddef.h>

#include "hl7_ack.h"
#include "hl7_map.h"
#include "origin.h"

/* The acknowledgement of data[0..len) (a malloc'd message, segments ended by CR, *ack_len its
 * length; NULL only when memory ran out) and its code in *code. from gives the sender's address,
 * the configuration and the request id; the actor in the audit log is the message's sending
 * facility. */
char *hl7_inbound(const char *data, size_t len, const struct hl7_obx_map *obx,
                  const struct origin *from, enum hl7_ack_code *code, size_t *ack_len);

/* An ACK for bytes that were not a message we could read at all (a frame over the size limit):
 * AR, with the standard delimiters and no control id to echo. */
char *hl7_inbound_refuse(const char *why, size_t *ack_len);

#endif
