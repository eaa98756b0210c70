/* Signed webhooks after the Standard Webhooks convention, for text messages (the site's SMS
 * gateway adapter) and physicians without an email address (the site's own messaging platform):
 * a JSON body with webhook-id (the outbox row's stable key), webhook-timestamp and
 * webhook-signature "v1,<base64 of HMAC-SHA256(key, id.timestamp.body)>". */
#ifndef PORTAL_NOTIFY_WEBHOOK_H
#define PORTAL_NOTIFY_WEBHOOK_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "notify_channel.h"
#include "notify_text.h"

struct config;
struct notify_webhook;

/* One sender thread's client; stopping, when set, abandons a request in progress. */
struct notify_webhook *notify_webhook_new(const struct config *cfg, const atomic_bool *stopping);
void notify_webhook_free(struct notify_webhook *w);

struct notify_attempt notify_webhook_send(struct notify_webhook *w, const struct notify_message *m,
                                          const struct notify_text *t);

/* The JSON body for m (a new string the caller frees; NULL when out of memory). */
char *notify_webhook_body(const struct notify_message *m, const struct notify_text *t, time_t now);
/* "v1,<base64>" of HMAC-SHA256(key, id "." timestamp "." body) into out (at least 64 bytes).
 * Returns 0, or -1 on failure. */
int notify_webhook_sign(const unsigned char *key, size_t key_len, const char *id, long timestamp,
                        const char *body, char *out, size_t size);
/* A Retry-After value (seconds, or an HTTP date) as seconds from now; 0 when absent or unusable. */
int notify_webhook_retry_after(const char *value, time_t now);

#endif
