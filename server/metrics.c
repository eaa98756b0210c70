/* Prometheus metrics with lock-free counters: requests by route and status, a latency histogram
 * per route, the database connection state, and how often kept patient pages were reused. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_deadline.h"
#include "hash_pool.h"
#include "notify.h"
#include "orthanc_feed.h"
#include "page_cache.h"
#include "router.h"

#define MAX_ROUTES     128
#define SLOT_UNMATCHED MAX_ROUTES /* requests that matched no route */

static const int tracked_status[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                     409, 413, 415, 422, 429, 499, 500, 503};
#define NSTATUS      (sizeof(tracked_status) / sizeof(tracked_status[0]))
#define STATUS_OTHER NSTATUS

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static atomic_ullong requests[MAX_ROUTES + 1][NSTATUS + 1];
static atomic_ullong histogram[MAX_ROUTES + 1][NBUCKETS + 1]; /* last: +Inf */
static atomic_ullong duration_us_sum[MAX_ROUTES + 1];

/* The stages a study can be overdue in; -1 until the estimates task first counted. */
static const char *const overdue_stages[] = {"ordered",         "scheduled",     "checked_in",
                                             "imaging",         "awaiting_read", "reading",
                                             "physician_review"};
#define NOVERDUE (sizeof(overdue_stages) / sizeof(overdue_stages[0]))
static atomic_llong overdue[NOVERDUE] = {-1, -1, -1, -1, -1, -1, -1};
static _Atomic double estimates_refreshed;
/* The calibration's factors (portal.estimate_calibration) by milestone, p50 then p90; 0 until the
 * estimates task first read them. */
static const char *const stretch_milestones[] = {"report_final", "available"};
#define NSTRETCH (sizeof(stretch_milestones) / sizeof(stretch_milestones[0]))
static _Atomic double stretch[NSTRETCH][2];
static _Atomic double estimates_round_end, estimates_round_seconds;

static const char *const hl7_codes[] = {"AA", "AE", "AR"};
static atomic_ullong hl7_messages[3];
static atomic_ullong hl7_duration_us;
static atomic_int hl7_open = -1; /* -1: no listener */
static atomic_ullong hl7_refused, hl7_timed_out;

void metrics_hl7_message(int ack_code, double seconds)
{
    if (ack_code >= 0 && ack_code < 3)
        atomic_fetch_add(&hl7_messages[ack_code], 1);
    atomic_fetch_add(&hl7_duration_us, (unsigned long long)(seconds * 1e6));
}

void metrics_hl7_connections(int open)
{
    atomic_store(&hl7_open, open);
}

void metrics_hl7_refused(void)
{
    atomic_fetch_add(&hl7_refused, 1);
}

void metrics_hl7_timed_out(void)
{
    atomic_fetch_add(&hl7_timed_out, 1);
}

void metrics_clear_overdue(void)
{
    for (size_t i = 0; i < NOVERDUE; i++)
        atomic_store(&overdue[i], 0);
}

void metrics_set_overdue(const char *stage, long long n)
{
    for (size_t i = 0; i < NOVERDUE; i++)
        if (strcmp(overdue_stages[i], stage) == 0)
            atomic_store(&overdue[i], n);
}

void metrics_set_estimates_stretch(const char *milestone, double p50, double p90)
{
    for (size_t i = 0; i < NSTRETCH; i++)
        if (strcmp(stretch_milestones[i], milestone) == 0) {
            atomic_store(&stretch[i][0], p50);
            atomic_store(&stretch[i][1], p90);
        }
}

void metrics_set_estimates_refreshed(double unix_time)
{
    atomic_store(&estimates_refreshed, unix_time);
}

void metrics_set_estimates_round(double end_unix_time, double seconds)
{
    atomic_store(&estimates_round_seconds, seconds);
    atomic_store(&estimates_round_end, end_unix_time);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < NSTATUS; i++)
        if (tracked_status[i] == status)
            return i;
    return STATUS_OTHER;
}

void metrics_observe(int route_index, int status, double seconds)
{
    size_t r =
        (route_index >= 0 && route_index < MAX_ROUTES) ? (size_t)route_index : SLOT_UNMATCHED;
    atomic_fetch_add_explicit(&requests[r][status_slot(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&histogram[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&duration_us_sum[r], (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct buf *b, const char *fmt, ...);

static void put(struct buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
}

static const char *slot_name(size_t r)
{
    return r == SLOT_UNMATCHED ? "unmatched" : routes[r].name;
}

char *metrics_render(size_t *len, int db_up, int db_connections)
{
    struct buf b = {malloc(16384), 0, 16384, 0};
    if (!b.p)
        return NULL;
    size_t nroutes = routes_count() < MAX_ROUTES ? routes_count() : MAX_ROUTES;

    put(&b, "# HELP portal_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE portal_http_requests_total counter\n");
    for (size_t r = 0; r <= SLOT_UNMATCHED; r++) {
        if (r >= nroutes && r != SLOT_UNMATCHED)
            continue;
        for (size_t s = 0; s <= NSTATUS; s++) {
            unsigned long long v = atomic_load_explicit(&requests[r][s], memory_order_relaxed);
            if (!v)
                continue;
            if (s == STATUS_OTHER)
                put(&b, "portal_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    slot_name(r), v);
            else
                put(&b, "portal_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    slot_name(r), tracked_status[s], v);
        }
    }

    put(&b, "# HELP portal_http_request_duration_seconds Time from request to answer, by route.\n"
            "# TYPE portal_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= SLOT_UNMATCHED; r++) {
        if (r >= nroutes && r != SLOT_UNMATCHED)
            continue;
        unsigned long long cumulative = 0;
        for (size_t i = 0; i <= NBUCKETS; i++) {
            cumulative += atomic_load_explicit(&histogram[r][i], memory_order_relaxed);
            if (i < NBUCKETS)
                put(&b,
                    "portal_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    slot_name(r), buckets[i], cumulative);
            else
                put(&b,
                    "portal_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    slot_name(r), cumulative);
        }
        put(&b, "portal_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", slot_name(r),
            (double)atomic_load_explicit(&duration_us_sum[r], memory_order_relaxed) / 1e6);
        put(&b, "portal_http_request_duration_seconds_count{route=\"%s\"} %llu\n", slot_name(r),
            cumulative);
    }

    put(&b,
        "# HELP portal_http_deadline_closed_total Connections closed for overstaying the head, "
        "body or keep-alive deadline.\n"
        "# TYPE portal_http_deadline_closed_total counter\nportal_http_deadline_closed_total %lu\n",
        conn_deadline_closed_total());
    put(&b,
        "# HELP portal_db_up Whether the database answered the last check (1) or not (0).\n"
        "# TYPE portal_db_up gauge\nportal_db_up %d\n",
        db_up);
    put(&b,
        "# HELP portal_db_connections Open database connections across worker threads.\n"
        "# TYPE portal_db_connections gauge\nportal_db_connections %d\n",
        db_connections);
    if (atomic_load(&overdue[0]) >= 0) {
        put(&b, "# HELP portal_studies_overdue Studies in flight past the p90 estimate of their "
                "stage, by stage.\n# TYPE portal_studies_overdue gauge\n");
        for (size_t i = 0; i < NOVERDUE; i++)
            put(&b, "portal_studies_overdue{stage=\"%s\"} %lld\n", overdue_stages[i],
                atomic_load(&overdue[i]));
    }
    /* Above 1 the site's reports or releases have lately come later than its history says (a
     * reading backlog building up), below 1 sooner. */
    if (atomic_load(&stretch[0][0]) > 0) {
        put(&b, "# HELP portal_estimates_stretch Factor by which the estimates' calibration "
                "stretches the time ahead of each estimate (1: as history says), by milestone "
                "and estimate (p50, p90).\n# TYPE portal_estimates_stretch gauge\n");
        for (size_t i = 0; i < NSTRETCH; i++)
            for (int q = 0; q < 2; q++)
                put(&b, "portal_estimates_stretch{milestone=\"%s\",estimate=\"%s\"} %.3f\n",
                    stretch_milestones[i], q ? "p90" : "p50", atomic_load(&stretch[i][q]));
    }
    double refreshed = atomic_load(&estimates_refreshed);
    if (refreshed > 0)
        put(&b,
            "# HELP portal_estimates_refreshed_timestamp_seconds When this instance last "
            "refreshed the turnaround estimates.\n"
            "# TYPE portal_estimates_refreshed_timestamp_seconds gauge\n"
            "portal_estimates_refreshed_timestamp_seconds %.0f\n",
            refreshed);
    /* The round's database work competes with the page views for the database: a round that
     * grows with the site shows here before it shows in the pages' latency. */
    double round_end = atomic_load(&estimates_round_end);
    if (round_end > 0)
        put(&b,
            "# HELP portal_estimates_round_timestamp_seconds When this instance's last estimates "
            "round (model refresh if due, overdue counts, kept estimates) ended.\n"
            "# TYPE portal_estimates_round_timestamp_seconds gauge\n"
            "portal_estimates_round_timestamp_seconds %.3f\n"
            "# HELP portal_estimates_round_seconds How long that round took.\n"
            "# TYPE portal_estimates_round_seconds gauge\n"
            "portal_estimates_round_seconds %.3f\n",
            round_end, atomic_load(&estimates_round_seconds));
    if (atomic_load(&hl7_open) >= 0) {
        put(&b, "# HELP portal_hl7_messages_total HL7 messages received, by the acknowledgement "
                "sent (AA applied, AE not applied for a field, AR refused or to be sent again).\n"
                "# TYPE portal_hl7_messages_total counter\n");
        for (int i = 0; i < 3; i++)
            put(&b, "portal_hl7_messages_total{ack=\"%s\"} %llu\n", hl7_codes[i],
                atomic_load(&hl7_messages[i]));
        put(&b,
            "# HELP portal_hl7_message_seconds_total Time from a whole message to its ACK, "
            "summed.\n# TYPE portal_hl7_message_seconds_total counter\n"
            "portal_hl7_message_seconds_total %.6f\n"
            "# HELP portal_hl7_connections MLLP connections open now.\n"
            "# TYPE portal_hl7_connections gauge\nportal_hl7_connections %d\n"
            "# HELP portal_hl7_connections_refused_total MLLP connections closed on arrival for "
            "the total or per-address limit.\n"
            "# TYPE portal_hl7_connections_refused_total counter\n"
            "portal_hl7_connections_refused_total %llu\n"
            "# HELP portal_hl7_connections_timed_out_total MLLP connections closed for a message "
            "that stalled, an ACK not read, or idleness.\n"
            "# TYPE portal_hl7_connections_timed_out_total counter\n"
            "portal_hl7_connections_timed_out_total %llu\n",
            (double)atomic_load(&hl7_duration_us) / 1e6, atomic_load(&hl7_open),
            atomic_load(&hl7_refused), atomic_load(&hl7_timed_out));
    }
    if (page_cache_enabled()) {
        struct page_cache_stats pc;
        page_cache_stats(&pc);
        put(&b,
            "# HELP portal_page_cache_requests_total Patient page requests by what the kept "
            "pages gave: hit (served after its stamps matched), stale (built anew), miss.\n"
            "# TYPE portal_page_cache_requests_total counter\n"
            "portal_page_cache_requests_total{outcome=\"hit\"} %llu\n"
            "portal_page_cache_requests_total{outcome=\"stale\"} %llu\n"
            "portal_page_cache_requests_total{outcome=\"miss\"} %llu\n"
            "# HELP portal_page_cache_evictions_total Kept pages dropped for room.\n"
            "# TYPE portal_page_cache_evictions_total counter\n"
            "portal_page_cache_evictions_total %llu\n"
            "# HELP portal_page_cache_pages Patient pages kept now.\n"
            "# TYPE portal_page_cache_pages gauge\nportal_page_cache_pages %zu\n"
            "# HELP portal_page_cache_bytes Bytes of the kept pages.\n"
            "# TYPE portal_page_cache_bytes gauge\nportal_page_cache_bytes %zu\n",
            pc.hits, pc.stale, pc.misses, pc.evicted, pc.pages, pc.bytes);
    }
    struct hash_pool_stats hp;
    hash_pool_stats(&hp);
    if (hp.running) {
        put(&b,
            "# HELP portal_hash_queue_length Sign-ins waiting for the hash pool (argon2id) now.\n"
            "# TYPE portal_hash_queue_length gauge\nportal_hash_queue_length %d\n"
            "# HELP portal_hash_busy Hash pool threads checking a secret now.\n"
            "# TYPE portal_hash_busy gauge\nportal_hash_busy %d\n"
            "# HELP portal_hash_jobs_total Secrets checked by the hash pool.\n"
            "# TYPE portal_hash_jobs_total counter\nportal_hash_jobs_total %llu\n"
            "# HELP portal_hash_rejected_total Sign-ins answered 503 because the hash pool's queue "
            "was full.\n"
            "# TYPE portal_hash_rejected_total counter\nportal_hash_rejected_total %llu\n"
            "# HELP portal_hash_wait_seconds Time a sign-in waited for a hash pool thread.\n"
            "# TYPE portal_hash_wait_seconds histogram\n",
            hp.waiting, hp.busy, hp.done, hp.rejected);
        for (int i = 0; i < HASH_POOL_WAIT_BUCKETS; i++)
            put(&b, "portal_hash_wait_seconds_bucket{le=\"%g\"} %llu\n", hash_pool_wait_bounds[i],
                hp.wait_buckets[i]);
        put(&b,
            "portal_hash_wait_seconds_bucket{le=\"+Inf\"} %llu\n"
            "portal_hash_wait_seconds_sum %.6f\nportal_hash_wait_seconds_count %llu\n",
            hp.wait_buckets[HASH_POOL_WAIT_BUCKETS], hp.wait_seconds_sum,
            hp.wait_buckets[HASH_POOL_WAIT_BUCKETS]);
    }
    struct orthanc_feed_stats of;
    if (orthanc_feed_stats(&of))
        put(&b,
            "# HELP portal_orthanc_up Whether Orthanc answered the PACS follower's last request "
            "as expected (1) or not (0).\n"
            "# TYPE portal_orthanc_up gauge\nportal_orthanc_up %d\n"
            "# HELP portal_orthanc_position The last change of Orthanc's feed this instance read "
            "or moved past (-1: none yet).\n"
            "# TYPE portal_orthanc_position gauge\nportal_orthanc_position %lld\n"
            "# HELP portal_orthanc_backoff_seconds The wait before the next try after failures "
            "(0 while healthy).\n"
            "# TYPE portal_orthanc_backoff_seconds gauge\nportal_orthanc_backoff_seconds %d\n"
            "# HELP portal_orthanc_changes_total Changes of Orthanc's feed moved past, of any "
            "type.\n"
            "# TYPE portal_orthanc_changes_total counter\nportal_orthanc_changes_total %llu\n"
            "# HELP portal_orthanc_studies_total Stable studies by what the follower did: matched "
            "(images recorded), unknown_accession, no_accession, gone (deleted from Orthanc), "
            "refused (by the database).\n"
            "# TYPE portal_orthanc_studies_total counter\n"
            "portal_orthanc_studies_total{outcome=\"matched\"} %llu\n"
            "portal_orthanc_studies_total{outcome=\"unknown_accession\"} %llu\n"
            "portal_orthanc_studies_total{outcome=\"no_accession\"} %llu\n"
            "portal_orthanc_studies_total{outcome=\"gone\"} %llu\n"
            "portal_orthanc_studies_total{outcome=\"refused\"} %llu\n"
            "# HELP portal_orthanc_errors_total Rounds that failed and backed off, by what "
            "failed.\n"
            "# TYPE portal_orthanc_errors_total counter\n"
            "portal_orthanc_errors_total{source=\"orthanc\"} %llu\n"
            "portal_orthanc_errors_total{source=\"database\"} %llu\n"
            "# HELP portal_orthanc_rounds_skipped_total Rounds skipped because another instance "
            "was following the feed.\n"
            "# TYPE portal_orthanc_rounds_skipped_total counter\n"
            "portal_orthanc_rounds_skipped_total %llu\n",
            of.up ? 1 : 0, of.position, of.backoff_s, of.changes, of.matched, of.unknown,
            of.no_accession, of.gone, of.refused, of.orthanc_errors, of.database_errors,
            of.skipped_rounds);
    struct notify_stats ns;
    notify_stats(&ns);
    if (ns.enabled[NOTIFY_CH_EMAIL] || ns.enabled[NOTIFY_CH_WEBHOOK]) {
        put(&b, "# HELP portal_notifications_total Attempts to send a notification, by channel "
                "and outcome (sent, retry: a temporary failure, failed: refused for good or out "
                "of attempts, cancelled: nothing to send).\n"
                "# TYPE portal_notifications_total counter\n");
        for (int c = 0; c < NOTIFY_CH_COUNT; c++)
            for (int o = 0; ns.enabled[c] && o < NOTIFY_OUT_COUNT; o++)
                put(&b, "portal_notifications_total{channel=\"%s\",outcome=\"%s\"} %llu\n",
                    notify_channel_label((enum notify_metric_channel)c),
                    notify_outcome_label((enum notify_metric_outcome)o), ns.attempts[c][o]);
    }
    if (ns.schedule_rounds || ns.schedule_errors)
        put(&b,
            "# HELP portal_notify_schedule_rounds_total Rounds of the notification schedule, by "
            "result.\n# TYPE portal_notify_schedule_rounds_total counter\n"
            "portal_notify_schedule_rounds_total{result=\"ok\"} %llu\n"
            "portal_notify_schedule_rounds_total{result=\"error\"} %llu\n",
            ns.schedule_rounds, ns.schedule_errors);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
