/* The notification senders and the schedule (docs/notifications.md). A sender's round claims up
 * to PORTAL_NOTIFY_BATCH due messages of its channel (portal.notify_claim: FOR UPDATE SKIP LOCKED,
 * a lease of batch x timeout, so any number of instances share the work and a claim whose sender
 * died returns to the pool when its lease ends), sends them one by one and records each result
 * (portal.notify_result). Temporary failures wait an exponential back-off with jitter (at least
 * the receiver's Retry-After); permanent ones and exhausted attempts end failed with their class.
 * Delivery is at least once: a sender killed between the receiver's acceptance and the record
 * sends that message again, under the same Message-ID / webhook-id. */
#include "notify.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "notify_channel.h"
#include "notify_smtp.h"
#include "notify_text.h"
#include "notify_webhook.h"
#include "periodic.h"
#include "queries.h"

/* A sender with nothing to do looks again after this. */
#define POLL_S 1
/* After a database failure. */
#define DB_RETRY_S 5
/* The longest back-off between attempts. */
#define BACKOFF_MAX_S 3600
/* Waiting messages older than this end failed as expired; ended ones are deleted after KEEP. */
#define MAX_AGE "7 days"
#define KEEP    "30 days"

struct sender {
    struct notify *owner;
    enum notify_metric_channel channel;
    struct periodic *thread;
    struct notify_smtp *smtp;
    struct notify_webhook *webhook;
    char worker[96]; /* host-pid-channel: who holds a claim */
};

struct notify {
    const struct config *cfg;
    atomic_bool stopping;
    struct sender senders[NOTIFY_CH_COUNT];
    struct periodic *schedule;
    bool curl_started;
};

static atomic_bool st_enabled[NOTIFY_CH_COUNT];
static atomic_ullong st_attempts[NOTIFY_CH_COUNT][NOTIFY_OUT_COUNT];
static atomic_ullong st_schedule_rounds, st_schedule_errors;

static int sender_round(void *arg);
static int schedule_round(void *arg);

static const char *const channel_names[NOTIFY_CH_COUNT] = {"email", "webhook"};

const char *notify_channel_label(enum notify_metric_channel c)
{
    return channel_names[c];
}

const char *notify_outcome_label(enum notify_metric_outcome o)
{
    static const char *const names[NOTIFY_OUT_COUNT] = {"sent", "retry", "failed", "cancelled"};
    return names[o];
}

void notify_stats(struct notify_stats *s)
{
    memset(s, 0, sizeof(*s));
    for (int c = 0; c < NOTIFY_CH_COUNT; c++) {
        s->enabled[c] = atomic_load(&st_enabled[c]);
        for (int o = 0; o < NOTIFY_OUT_COUNT; o++)
            s->attempts[c][o] = atomic_load(&st_attempts[c][o]);
    }
    s->schedule_rounds = atomic_load(&st_schedule_rounds);
    s->schedule_errors = atomic_load(&st_schedule_errors);
}

static bool start_sender(struct notify *n, enum notify_metric_channel ch)
{
    struct sender *s = &n->senders[ch];
    s->owner = n;
    s->channel = ch;
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(s->worker, sizeof(s->worker), "%.63s-%ld-%s", host, (long)getpid(), channel_names[ch]);
    if (ch == NOTIFY_CH_EMAIL)
        s->smtp = notify_smtp_new(n->cfg, &n->stopping);
    else
        s->webhook = notify_webhook_new(n->cfg, &n->stopping);
    char name[32], off[64];
    snprintf(name, sizeof(name), "notify %s", channel_names[ch]);
    snprintf(off, sizeof(off), "no %s notifications are sent", channel_names[ch]);
    if (!s->smtp && !s->webhook) {
        log_msg(LOG_ERROR, "%s: out of memory; %s", name, off);
        return false;
    }
    s->thread = periodic_start(name, off, sender_round, s);
    if (!s->thread) {
        notify_smtp_free(s->smtp);
        notify_webhook_free(s->webhook);
        s->smtp = NULL;
        s->webhook = NULL;
        return false;
    }
    atomic_store(&st_enabled[ch], true);
    return true;
}

struct notify *notify_start(const struct config *cfg)
{
    bool any_channel = cfg->smtp_url || cfg->webhook_url;
    if (!any_channel && cfg->notify_schedule <= 0)
        return NULL;
    struct notify *n = calloc(1, sizeof(*n));
    if (!n) {
        log_msg(LOG_ERROR, "notify: out of memory; no notifications are sent");
        return NULL;
    }
    n->cfg = cfg;
    atomic_init(&n->stopping, false);
    /* Debian 12's libcurl has a thread-safe curl_global_init (see orthanc_feed.c). */
    if (any_channel) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            log_msg(LOG_ERROR, "notify: libcurl does not start; no notifications are sent");
            free(n);
            return NULL;
        }
        n->curl_started = true;
    }
    if (cfg->smtp_url && start_sender(n, NOTIFY_CH_EMAIL))
        log_msg(LOG_INFO, "notify: email through %s (STARTTLS %s)%s", cfg->smtp_url,
                cfg->smtp_starttls_required ? "required" : "not required",
                cfg->smtp_credentials ? " with credentials" : "");
    if (cfg->webhook_url && start_sender(n, NOTIFY_CH_WEBHOOK))
        log_msg(LOG_INFO, "notify: webhooks to %s", cfg->webhook_url);
    if (cfg->notify_schedule > 0)
        n->schedule = periodic_start("notify schedule", "no scheduled notifications are written",
                                     schedule_round, n);
    return n;
}

void notify_stop(struct notify *n)
{
    if (!n)
        return;
    atomic_store(&n->stopping, true);
    for (int c = 0; c < NOTIFY_CH_COUNT; c++) {
        struct sender *s = &n->senders[c];
        periodic_stop(s->thread);
        notify_smtp_free(s->smtp);
        notify_webhook_free(s->webhook);
    }
    periodic_stop(n->schedule);
    if (n->curl_started)
        curl_global_cleanup();
    free(n);
}

/* ---- The schedule ---- */

static int schedule_round(void *arg)
{
    struct notify *n = arg;
    const struct config *cfg = n->cfg;
    char hour[8];
    snprintf(hour, sizeof(hour), "%d", cfg->notify_digest_hour);
    bool physicians = cfg->smtp_url || cfg->webhook_url;
    bool staff = cfg->staff_email && cfg->smtp_url;
    const char *p[7] = {NULL,
                        cfg->time_zone,
                        hour,
                        physicians ? "true" : "false",
                        staff ? "true" : "false",
                        MAX_AGE,
                        KEEP};
    PGresult *r = NULL;
    struct outcome o = {0};
    if (db_exec(Q_NOTIFY_SCHEDULE, 7, p, &r, &o, "notify-schedule") == 0 && PQntuples(r) == 1) {
        atomic_fetch_add(&st_schedule_rounds, 1);
        int hold = atoi(PQgetvalue(r, 0, 0)), overdue = atoi(PQgetvalue(r, 0, 1)),
            digests = atoi(PQgetvalue(r, 0, 2)), expired = atoi(PQgetvalue(r, 0, 3));
        if (hold || overdue || digests || expired)
            log_msg(LOG_INFO,
                    "notify schedule: %d hold(s) ending, %d overdue study/stage(s), %d digest(s) "
                    "written; %d waiting message(s) expired",
                    hold, overdue, digests, expired);
    } else {
        atomic_fetch_add(&st_schedule_errors, 1);
    }
    PQclear(r);
    return cfg->notify_schedule;
}

/* ---- A sender's round ---- */

/* The wait before attempt number `attempt + 1`: base x 2^(attempt-1), at most BACKOFF_MAX_S, with
 * "equal jitter" (half fixed, half random) so that messages failed together spread out; never
 * less than the receiver's Retry-After. */
static int backoff_s(int base, int attempt, int retry_after)
{
    long d = base;
    for (int i = 1; i < attempt && d < BACKOFF_MAX_S; i++)
        d *= 2;
    if (d > BACKOFF_MAX_S)
        d = BACKOFF_MAX_S;
    unsigned int r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (unsigned int)time(NULL);
    long half = d / 2;
    d = half + (half > 0 ? (long)(r % (unsigned)(half + 1)) : 0);
    if (d < retry_after)
        d = retry_after;
    return d < 1 ? 1 : (int)d;
}

/* Records one attempt and counts it in the metrics by how the database ended it. */
static void record(struct sender *s, const char *id, const char *outcome, const char *failure,
                   int delay_s)
{
    const struct config *cfg = s->owner->cfg;
    char delay[16], max[16];
    snprintf(delay, sizeof(delay), "%d", delay_s);
    snprintf(max, sizeof(max), "%d", cfg->notify_max_attempts);
    const char *p[5] = {id, outcome, failure, delay, max};
    PGresult *r = NULL;
    struct outcome o = {0};
    enum notify_metric_outcome m = strcmp(outcome, "sent") == 0        ? NOTIFY_OUT_SENT
                                   : strcmp(outcome, "cancelled") == 0 ? NOTIFY_OUT_CANCELLED
                                   : strcmp(outcome, "failed") == 0    ? NOTIFY_OUT_FAILED
                                                                       : NOTIFY_OUT_RETRY;
    /* A failure here leaves the claim to lapse: the message is sent again (at least once). */
    if (db_exec(Q_NOTIFY_RESULT, 5, p, &r, &o, s->worker) == 0 && PQntuples(r) == 1 &&
        m == NOTIFY_OUT_RETRY && strcmp(PQgetvalue(r, 0, 0), "failed") == 0)
        m = NOTIFY_OUT_FAILED;
    atomic_fetch_add(&st_attempts[s->channel][m], 1);
    PQclear(r);
}

static void send_one(struct sender *s, const PGresult *r, int row)
{
    const struct config *cfg = s->owner->cfg;
    const char *id = db_value(r, row, "id");
    int kind = notify_kind_parse(db_value(r, row, "kind"));
    int audience = notify_audience_parse(db_value(r, row, "audience"));
    const char *waiting = db_value(r, row, "reports_waiting");
    const char *attempt = db_value(r, row, "attempt");
    struct notify_message m = {
        .id = id,
        .message_id = db_value(r, row, "message_id"),
        .kind = (enum notify_kind)kind,
        .audience = (enum notify_audience)audience,
        .address = db_value(r, row, "address"),
        .reports_waiting = waiting ? atoi(waiting) : 0,
        .accession = db_value(r, row, "accession"),
        .stage = db_value(r, row, "stage"),
        .unsubscribe_id = db_value(r, row, "unsubscribe_id"),
        .attempt = attempt ? atoi(attempt) : 1,
        /* The patient's saved language; everyone else reads the site's. */
        .lang = cfg->default_language,
    };
    const char *saved = db_value(r, row, "language");
    int saved_lang = saved ? i18n_lang_of_tag(saved, strlen(saved)) : -1;
    if (saved_lang >= 0)
        m.lang = (enum lang)saved_lang;
    struct notify_text t;
    if (kind < 0 || audience < 0 || !m.message_id ||
        notify_text_render(&m, cfg->public_url, &t) < 0) {
        record(s, id, "cancelled", NULL, 0);
        return;
    }
    struct notify_attempt a;
    if (s->smtp)
        a = notify_smtp_send(s->smtp, &m, &t,
                             m.audience == NOTIFY_STAFF ? cfg->staff_email : m.address);
    else
        a = notify_webhook_send(s->webhook, &m, &t);
    switch (a.outcome) {
    case NOTIFY_SENT:
        record(s, id, "sent", NULL, 0);
        break;
    case NOTIFY_PERMANENT:
        log_msg(LOG_WARN, "notify %s: message %s (%s) failed: %s", channel_names[s->channel], id,
                notify_kind_name(m.kind), a.failure);
        record(s, id, "failed", a.failure, 0);
        break;
    case NOTIFY_TEMPORARY: {
        int delay = backoff_s(cfg->notify_retry_base, m.attempt, a.retry_after_s);
        log_msg(LOG_INFO, "notify %s: message %s (%s) attempt %d: %s; again in %d s",
                channel_names[s->channel], id, notify_kind_name(m.kind), m.attempt, a.failure,
                delay);
        record(s, id, "retry", a.failure, delay);
        break;
    }
    case NOTIFY_ABANDONED:
        /* Stopping: given back at once, for another instance or the next start. */
        record(s, id, "retry", a.failure, 0);
        break;
    }
}

static int sender_round(void *arg)
{
    struct sender *s = arg;
    const struct config *cfg = s->owner->cfg;
    char batch[16], lease[16], cap[16];
    snprintf(batch, sizeof(batch), "%d", cfg->notify_batch);
    /* Long enough for the whole batch to time out, message by message (the timeout covers the
     * connection too), and for the results to be recorded. */
    snprintf(lease, sizeof(lease), "%d", cfg->notify_batch * cfg->notify_timeout + 10);
    snprintf(cap, sizeof(cap), "%d", cfg->notify_rate_cap);
    const char *p[9] = {channel_names[s->channel],
                        batch,
                        lease,
                        s->worker,
                        NULL,
                        cfg->quiet_start[0] ? cfg->quiet_start : NULL,
                        cfg->quiet_end[0] ? cfg->quiet_end : NULL,
                        cfg->time_zone,
                        cap};
    PGresult *r = NULL;
    struct outcome o = {0};
    if (db_exec(Q_NOTIFY_CLAIM, 9, p, &r, &o, s->worker) != 0) {
        PQclear(r);
        return DB_RETRY_S;
    }
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        if (atomic_load(&s->owner->stopping)) {
            /* Not tried: given back at once (the claim counted it as an attempt). */
            record(s, db_value(r, i, "id"), "retry", "temporary", 0);
            continue;
        }
        send_one(s, r, i);
    }
    PQclear(r);
    return rows >= cfg->notify_batch ? 0 : POLL_S;
}
