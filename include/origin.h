/* Where a call into the core came from: the transport, the id of the work (its log lines and audit
 * rows carry it), the sender's address and name, and the configuration whose keys some calls need
 * (the ingest fingerprint). Every transport fills one and passes it with the call. */
#ifndef PORTAL_ORIGIN_H
#define PORTAL_ORIGIN_H

#include <stdbool.h>

struct access_code;
struct config;

struct origin {
    const char *transport;    /* "http", "cli", ... for log lines */
    const char *request_id;   /* never NULL */
    const char *client_addr;  /* the sender's address, or NULL when there is none */
    const struct config *cfg; /* NULL: no keys (a command without a secret) */
    /* Who sent it, for the audit log: a role ("ris", "pacs") and a name (the token's subject, the
     * HL7 sending facility). Never anything the message says about a patient. */
    const char *actor_role;
    const char *actor_id;
    /* Whether the transport can give a new patient's access code to someone (the JSON API answers
     * it to the RIS, which prints it). HL7 and the PACS cannot: a patient they create gets a code
     * when the site asks for one (`portald access-code`), not one nobody will ever see. */
    bool hands_out_access_code;
    /* A code made beforehand, off the transport's own threads (the JSON API makes it on the hash
     * pool when the message names a patient not yet known): used if the call creates the
     * patient, instead of hashing one there. NULL: made when needed. */
    const struct access_code *ready_code;
};

#endif
