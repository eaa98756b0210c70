/* Where a call into the core came from: the transport, the id of the work (its log lines and audit
 * rows carry it), the sender's address, and the configuration whose keys some calls need (the
 * ingest fingerprint). Every transport fills one and passes it with the call. */
#ifndef PORTAL_ORIGIN_H
#define PORTAL_ORIGIN_H

struct config;

struct origin {
    const char *transport;    /* "http", "cli", ... for log lines */
    const char *request_id;   /* never NULL */
    const char *client_addr;  /* the sender's address, or NULL when there is none */
    const struct config *cfg; /* NULL: no keys (a command without a secret) */
};

#endif
