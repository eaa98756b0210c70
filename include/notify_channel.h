/* What one attempt to send a notification came to, in the words both channels (SMTP in
 * notify_smtp.c, webhooks in notify_webhook.c) answer the sender (notify.c) with: sent, to be tried
 * again (after a back-off, or the receiver's Retry-After), or refused for good; with the class of
 * the failure, never the receiver's words (they may quote the message). */
#ifndef PORTAL_NOTIFY_CHANNEL_H
#define PORTAL_NOTIFY_CHANNEL_H

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

#endif
