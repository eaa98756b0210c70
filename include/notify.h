/* The notification senders of `portald serve` (docs/notifications.md): one thread per configured
 * channel (email over SMTP, webhooks) that claims due rows of the outbox with FOR UPDATE SKIP
 * LOCKED, renders and sends each, and records how it went; and the schedule, a thread that writes
 * what the passing of time causes (a hold ending, an overdue study, the daily digest). Each runs on
 * its own database connection and libcurl handle, so a slow or dead receiver never touches the
 * HTTP threads. */
#ifndef PORTAL_NOTIFY_H
#define PORTAL_NOTIFY_H

#include <stdbool.h>

struct config;
struct notify;

/* Starts the threads the configuration asks for (db_configure must have run; cfg must outlive
 * them). Returns NULL when there is nothing to run or nothing could start (logged). */
struct notify *notify_start(const struct config *cfg);
/* Abandons sends in flight (their messages are given back to the outbox at once), joins the
 * threads and frees n. Accepts NULL. */
void notify_stop(struct notify *n);

enum notify_metric_channel { NOTIFY_CH_EMAIL, NOTIFY_CH_WEBHOOK, NOTIFY_CH_COUNT };
enum notify_metric_outcome {
    NOTIFY_OUT_SENT,      /* accepted by the receiver */
    NOTIFY_OUT_RETRY,     /* a temporary failure: tried again later */
    NOTIFY_OUT_FAILED,    /* refused for good, or out of attempts */
    NOTIFY_OUT_CANCELLED, /* nothing to send (no text for it) */
    NOTIFY_OUT_COUNT,
};

/* What /metrics shows (metrics.c): attempts by channel and outcome since start, and whether the
 * channel runs in this process. */
struct notify_stats {
    bool enabled[NOTIFY_CH_COUNT];
    unsigned long long attempts[NOTIFY_CH_COUNT][NOTIFY_OUT_COUNT];
    unsigned long long schedule_rounds, schedule_errors;
};
void notify_stats(struct notify_stats *s);
const char *notify_channel_label(enum notify_metric_channel c);
const char *notify_outcome_label(enum notify_metric_outcome o);

#endif
