/* Email over SMTP through libcurl: a message of UTF-8 MIME (Date, Message-ID from the outbox's key,
 * List-Unsubscribe with RFC 8058's one-click), sent over smtp:// with STARTTLS (required unless
 * PORTAL_SMTP_STARTTLS=none) or smtps://, with AUTH from PORTAL_SMTP_CREDENTIALS_FILE. */
#ifndef PORTAL_NOTIFY_SMTP_H
#define PORTAL_NOTIFY_SMTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "notify_channel.h"
#include "notify_text.h"

struct config;
struct notify_smtp;

/* One sender thread's SMTP client (its own libcurl handle, which keeps the connection between
 * messages). stopping, when set, abandons a send in progress. Returns NULL when out of memory. */
struct notify_smtp *notify_smtp_new(const struct config *cfg, const atomic_bool *stopping);
void notify_smtp_free(struct notify_smtp *s);

/* Sends one rendered message to the address to (the staff address for staff messages). */
struct notify_attempt notify_smtp_send(struct notify_smtp *s, const struct notify_message *m,
                                       const struct notify_text *t, const char *to);

/* The message as it goes on the wire (CRLF lines), written at time now: a new buffer the caller
 * frees, *len its length; NULL when out of memory or the parts cannot go in a header. */
char *notify_smtp_compose(const struct config *cfg, const struct notify_message *m,
                          const struct notify_text *t, const char *to, time_t now, size_t *len);

/* Whether addr is an address we send to: ASCII, one @, no spaces or header syntax. */
bool notify_smtp_address_ok(const char *addr);

#endif
