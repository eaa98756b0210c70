/* What both notification channels (SMTP in notify_smtp.c, webhooks in notify_webhook.c) share:
 * the libcurl handle of one sender thread with its limits and its stop, and what one attempt came
 * to in the words they answer the sender (notify.c) with: sent, to be tried again (after a
 * back-off, or the receiver's Retry-After), or refused for good; with the class of the failure,
 * never the receiver's words (they may quote the message). */
#ifndef PORTAL_NOTIFY_CHANNEL_H
#define PORTAL_NOTIFY_CHANNEL_H

#include <curl/curl.h>
#include <stdatomic.h>

struct config;

enum notify_outcome {
    NOTIFY_SENT,
    NOTIFY_TEMPORARY, /* SMTP 4xx, HTTP 5xx or 429, a timeout, no connection: again later */
    NOTIFY_PERMANENT, /* SMTP 5xx, HTTP 4xx, no usable address: failed */
    NOTIFY_ABANDONED, /* the process is stopping: given back at once */
};

struct notify_attempt {
    enum notify_outcome outcome;
    /* A failure class of portal.notifications.failure ("rejected", "temporary", "rate_limited",
     * "timeout", "connect", "tls", "auth", "http_4xx", "http_5xx", "no_address"); NULL when
     * sent. */
    const char *failure;
    int retry_after_s; /* the receiver's Retry-After; 0 when it gave none */
};

/* One sender thread's libcurl handle, which keeps its connection from message to message. */
struct notify_client {
    const struct config *cfg;
    CURL *curl;
    const atomic_bool *stopping; /* set: a transfer in progress is abandoned */
};

/* Returns 0, or -1 when libcurl cannot make a handle. */
int notify_client_init(struct notify_client *c, const struct config *cfg,
                       const atomic_bool *stopping);
void notify_client_cleanup(struct notify_client *c);
/* The handle reset for the next message (its open connection kept) with the limits every send
 * has: PORTAL_NOTIFY_TIMEOUT for the whole exchange, no signals, and the stop. */
CURL *notify_client_reset(struct notify_client *c);

#endif
