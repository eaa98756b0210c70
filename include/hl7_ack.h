/* HL7 v2 original-mode acknowledgements: AA (applied), AE (understood but not applied, with an ERR
 * segment naming the field), AR (not parsed or not accepted). */
#ifndef PORTAL_HL7_ACK_H
#define PORTAL_HL7_ACK_H

#include <stddef.h>

#include "hl7.h"

enum hl7_ack_code { HL7_AA, HL7_AE, HL7_AR };

/* What went wrong, for the ERR segment. Never patient data: a field's position and a sentence
 * about it. */
struct hl7_ack_error {
    const char *segment; /* e.g. "PID"; NULL for the message as a whole */
    int sequence;        /* which one of that segment, from 1 */
    int field;           /* e.g. 3; 0 for the segment as a whole */
    const char *code;    /* HL7 table 0357, e.g. "101" required field missing, "207" internal */
    const char *text;    /* for people; escaped here */
};

/* Builds the ACK for m (NULL when the message could not be parsed: the ACK then uses the standard
 * delimiters and echoes no control id). The sender and receiver of m are swapped, MSA-2 echoes
 * MSH-10, MSH-12 echoes the version, and err (for AE and AR, or NULL) becomes an ERR segment in the
 * form the version uses (ERR-1 before v2.5, ERR-2 to ERR-8 from it). control_id and timestamp
 * (YYYYMMDDHHMMSS) are the ACK's own. Returns a malloc'd message, segments ended by CR, or NULL
 * when memory ran out. */
char *hl7_ack(const struct hl7_message *m, enum hl7_ack_code code, const struct hl7_ack_error *err,
              const char *control_id, const char *timestamp, size_t *len);

#endif
