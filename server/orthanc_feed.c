/* The PACS follower (docs/pacs.md): a thread that reads Orthanc's change feed with libcurl and,
 * for each StableStudy, records "images received" through the ingest core (ingest_images_apply),
 * like any other transport. One batch is one transaction: the feed's position is taken FOR UPDATE
 * SKIP LOCKED (another instance holding it means this one skips the round), the changes of one page
 * are applied, and the position moves past them, all committed together; so a restart, a crash or
 * a second instance neither skips nor repeats a change. Orthanc down, slow or answering garbage
 * costs a back-off, a metric and a log line, never the thread. */
#include "orthanc_feed.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "orthanc.h"
#include "origin.h"
#include "outcome.h"
#include "periodic.h"
#include "queries.h"
#include "request_id.h"

/* The feed's row in portal.feed_positions. */
#define FEED_NAME "orthanc"
/* Every request to Orthanc is bounded: connecting, and the whole exchange. A stop (SIGTERM)
 * abandons one at once through the progress callback. */
#define CONNECT_TIMEOUT_MS 3000
#define REQUEST_TIMEOUT_MS 10000
/* A page of 100 changes is ~25 KB and a study ~2 KB: anything near this is not Orthanc's. */
#define BODY_MAX (4 * 1024 * 1024)
/* Failures wait the poll interval, then twice as long each time, up to this (or the poll
 * interval, when that is longer). */
#define BACKOFF_MAX_S 30
/* A batch holds the feed's row and a transaction open while it asks Orthanc about each stable
 * study: past this, it commits what it has done and leaves the rest of the page to the next batch,
 * so a slow Orthanc (each request within its timeout) never holds them for long. */
#define BATCH_MAX_MS 20000
/* Pages read one after the other while Orthanc says more are waiting; then the thread pauses
 * without waiting out the poll interval, so a stop is seen between rounds. */
#define PAGES_PER_ROUND 20
#define URL_MAX         1024

_Static_assert(ORTHANC_UID_MAX == INGEST_UID_MAX, "the UIDs the parser keeps are the core's");
_Static_assert(ORTHANC_ACCESSION_MAX <= INGEST_ID_MAX, "an accession kept fits the core's rule");

struct body {
    char *p;
    size_t len, cap;
    bool too_big;
};

struct orthanc_feed {
    struct periodic *thread;
    const struct config *cfg;
    CURL *curl;
    char base[URL_MAX]; /* PORTAL_ORTHANC_URL without its trailing slashes */
    atomic_bool stopping;
    int backoff_s;             /* 0 while healthy */
    long long skip_seq;        /* a change the database refused: passed over on the next try */
    char rid[REQUEST_ID_SIZE]; /* the current batch's request id, for its log lines */
    char why[256];             /* why the current batch failed */
    struct body body;
    struct orthanc_changes changes;
};

/* What a batch came to. */
enum batch {
    BATCH_DONE,   /* committed; nothing more waiting */
    BATCH_MORE,   /* committed; Orthanc has more (inside follow_change: go on) */
    BATCH_AGAIN,  /* rolled back to pass over a change the database refused: again at once */
    BATCH_LOCKED, /* another instance holds the position */
    BATCH_ORTHANC_FAILED,
    BATCH_DB_FAILED,
    BATCH_STOPPED, /* a stop came in the middle: rolled back */
};

/* Changes passed over or applied in one batch, added to the metrics once it commits. */
struct tally {
    unsigned long long changes, matched, unknown, no_accession, gone, refused;
};

static atomic_bool st_enabled, st_up;
static atomic_llong st_position = -1;
static atomic_int st_backoff;
static atomic_ullong st_changes, st_matched, st_unknown, st_no_accession, st_gone, st_refused,
    st_orthanc_errors, st_database_errors, st_skipped_rounds;

static int feed_round(void *arg);
static enum batch feed_batch(struct orthanc_feed *f);
static int backoff_next(int current_s, int poll_s);

struct orthanc_feed *orthanc_feed_start(const struct config *cfg)
{
    if (!cfg->orthanc_url)
        return NULL;
    const char *off = "images from Orthanc will not be recorded";
    struct orthanc_feed *f = calloc(1, sizeof(*f));
    size_t n = strlen(cfg->orthanc_url);
    while (n > 0 && cfg->orthanc_url[n - 1] == '/')
        n--;
    /* The HTTP server's threads already run: Debian 12's libcurl (7.88) has a thread-safe
     * curl_global_init (CURL_VERSION_THREADSAFE), so calling it here is safe. */
    if (!f || n >= sizeof(f->base) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_msg(LOG_ERROR, "orthanc: cannot start (out of memory or libcurl); %s", off);
        free(f);
        return NULL;
    }
    memcpy(f->base, cfg->orthanc_url, n);
    f->cfg = cfg;
    f->skip_seq = -1;
    atomic_init(&f->stopping, false);
    f->curl = curl_easy_init();
    if (!f->curl) {
        log_msg(LOG_ERROR, "orthanc: cannot start (libcurl); %s", off);
        curl_global_cleanup();
        free(f);
        return NULL;
    }
    f->thread = periodic_start("orthanc", off, feed_round, f);
    if (!f->thread) {
        curl_easy_cleanup(f->curl);
        curl_global_cleanup();
        free(f);
        return NULL;
    }
    atomic_store(&st_enabled, true);
    /* The URL holds no credentials (config.c refuses them there), so it may be logged. */
    log_msg(LOG_INFO, "orthanc: following %s/changes every %d s%s", f->base, cfg->orthanc_poll,
            cfg->orthanc_credentials ? " with credentials" : "");
    return f;
}

void orthanc_feed_stop(struct orthanc_feed *f)
{
    if (!f)
        return;
    atomic_store(&f->stopping, true);
    periodic_stop(f->thread);
    curl_easy_cleanup(f->curl);
    curl_global_cleanup();
    free(f->body.p);
    free(f);
}

bool orthanc_feed_stats(struct orthanc_feed_stats *s)
{
    *s = (struct orthanc_feed_stats){
        .enabled = atomic_load(&st_enabled),
        .up = atomic_load(&st_up),
        .position = atomic_load(&st_position),
        .backoff_s = atomic_load(&st_backoff),
        .changes = atomic_load(&st_changes),
        .matched = atomic_load(&st_matched),
        .unknown = atomic_load(&st_unknown),
        .no_accession = atomic_load(&st_no_accession),
        .gone = atomic_load(&st_gone),
        .refused = atomic_load(&st_refused),
        .orthanc_errors = atomic_load(&st_orthanc_errors),
        .database_errors = atomic_load(&st_database_errors),
        .skipped_rounds = atomic_load(&st_skipped_rounds),
    };
    return s->enabled;
}

/* ---- The round ---- */

static int backoff_next(int current_s, int poll_s)
{
    int cap = poll_s > BACKOFF_MAX_S ? poll_s : BACKOFF_MAX_S;
    if (current_s <= 0)
        return poll_s;
    return current_s > cap / 2 ? cap : current_s * 2;
}

static int feed_round(void *arg)
{
    struct orthanc_feed *f = arg;
    for (int i = 0; i < PAGES_PER_ROUND && !atomic_load(&f->stopping); i++) {
        enum batch b = feed_batch(f);
        if (b == BATCH_MORE || b == BATCH_AGAIN)
            continue;
        if (b == BATCH_STOPPED)
            return 0;
        if (b == BATCH_ORTHANC_FAILED || b == BATCH_DB_FAILED) {
            if (b == BATCH_ORTHANC_FAILED)
                atomic_store(&st_up, false);
            atomic_fetch_add(b == BATCH_ORTHANC_FAILED ? &st_orthanc_errors : &st_database_errors,
                             1);
            f->backoff_s = backoff_next(f->backoff_s, f->cfg->orthanc_poll);
            atomic_store(&st_backoff, f->backoff_s);
            log_msg(LOG_WARN, "orthanc %s: %s; trying again in %d s", f->rid, f->why, f->backoff_s);
            return f->backoff_s;
        }
        if (f->backoff_s) {
            log_msg(LOG_INFO, "orthanc: following the feed again");
            f->backoff_s = 0;
            atomic_store(&st_backoff, 0);
        }
        return f->cfg->orthanc_poll;
    }
    return 0; /* a backlog: carry on after a look at the stop flag */
}

/* ---- HTTP, through libcurl ---- */

__attribute__((format(printf, 2, 3))) static void say(struct orthanc_feed *f, const char *fmt, ...);

static void say(struct orthanc_feed *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof(f->why), fmt, ap);
    va_end(ap);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t n = size * nmemb;
    if (n > BODY_MAX - b->len) {
        b->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* Called by libcurl at least once a second while a request runs: a stop abandons it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    struct orthanc_feed *f = arg;
    return atomic_load(&f->stopping) ? 1 : 0;
}

/* GET base + path into f->body. Returns the HTTP status, or -1 with f->why when no whole answer
 * came. The credentials travel in the Authorization header only; no option here logs them. */
static long get(struct orthanc_feed *f, const char *path)
{
    char url[URL_MAX + 128];
    if ((size_t)snprintf(url, sizeof(url), "%s%s", f->base, path) >= sizeof(url)) {
        say(f, "the URL of %s is too long", path);
        return -1;
    }
    CURL *c = f->curl;
    curl_easy_reset(c);
    f->body.len = 0;
    f->body.too_big = false;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BODY_MAX);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "portald");
    if (f->cfg->orthanc_credentials) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, f->cfg->orthanc_credentials);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (atomic_load(&f->stopping))
            say(f, "stopping");
        else if (f->body.too_big || rc == CURLE_FILESIZE_EXCEEDED)
            say(f, "Orthanc's answer to %.40s is larger than %d bytes", path, BODY_MAX);
        else
            say(f, "Orthanc did not answer %.40s: %s", path, curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (!f->body.p && (f->body.p = calloc(1, 1)) != NULL)
        f->body.cap = 1; /* an empty answer is "", for the parsers */
    if (!f->body.p) {
        say(f, "out of memory");
        return -1;
    }
    return status;
}

/* A status other than the ones the caller expects, in words. */
static void say_status(struct orthanc_feed *f, const char *path, long status)
{
    say(f, "Orthanc answered %ld to %.40s%s", status, path,
        status == 401 || status == 403 ? " (check PORTAL_ORTHANC_CREDENTIALS_FILE)" : "");
}

/* ---- One batch: a page of changes in one transaction ---- */

/* The canonical rendering of what a change says, the message the core fingerprints. Returns a new
 * string (free()), or NULL when out of memory. */
static char *images_message(const struct orthanc_change *c, const struct ingest_images *im)
{
    json_t *m = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "change", (json_int_t)c->seq,
                          "orthanc_study", c->id, "accession", im->accession, "occurred_at",
                          im->occurred_at, "study_instance_uid", im->study_instance_uid);
    char *s = m ? json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(m);
    return s;
}

/* When the images arrived: the study's LastUpdate (its last instance), else when Orthanc logged
 * the change, else now. */
static const char *arrival(const struct orthanc_study *st, const struct orthanc_change *c,
                           char now[ORTHANC_TIME_SIZE])
{
    if (st->last_update[0])
        return st->last_update;
    if (c->date[0])
        return c->date;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, ORTHANC_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return now;
}

/* One change inside the open batch. Returns BATCH_MORE to go on with the next, or why the batch
 * ends. Log lines name the change and Orthanc's study id (a hash), never a patient or accession. */
static enum batch follow_change(struct orthanc_feed *f, const struct origin *from,
                                const struct orthanc_change *c, struct tally *t)
{
    const char *rid = from->request_id;
    t->changes++;
    if (c->type != ORTHANC_CHANGE_STABLE_STUDY)
        return BATCH_MORE;
    if (c->seq == f->skip_seq) {
        t->refused++;
        return BATCH_MORE;
    }
    char path[32 + ORTHANC_ID_MAX];
    snprintf(path, sizeof(path), "/studies/%s", c->id);
    long status = get(f, path);
    if (status == 404) {
        t->gone++;
        log_msg(LOG_INFO, "orthanc %s: change %lld: study %s is no longer in Orthanc; passed over",
                rid, c->seq, c->id);
        return BATCH_MORE;
    }
    if (status != 200) {
        if (status > 0)
            say_status(f, "/studies/{id}", status);
        return atomic_load(&f->stopping) ? BATCH_STOPPED : BATCH_ORTHANC_FAILED;
    }
    struct orthanc_study st;
    char err[160];
    if (orthanc_parse_study(f->body.p, f->body.len, c->id, &st, err, sizeof(err)) < 0) {
        say(f, "Orthanc: %s", err);
        return BATCH_ORTHANC_FAILED;
    }
    if (!st.accession[0]) {
        t->no_accession++;
        log_msg(LOG_INFO, "orthanc %s: change %lld: study %s has no AccessionNumber; passed over",
                rid, c->seq, c->id);
        return BATCH_MORE;
    }

    char event_id[32 + ORTHANC_ID_MAX], now[ORTHANC_TIME_SIZE];
    snprintf(event_id, sizeof(event_id), "orthanc:%lld:%s", c->seq, c->id);
    struct ingest_images im = {
        .event_id = event_id,
        .accession = st.accession,
        .study_instance_uid = st.study_instance_uid[0] ? st.study_instance_uid : NULL,
        .occurred_at = arrival(&st, c, now),
    };
    struct field_errors fe = {0};
    if (ingest_images_check(&im, &fe) && im.study_instance_uid) {
        log_msg(LOG_WARN,
                "orthanc %s: change %lld: study %s has a malformed StudyInstanceUID; "
                "recorded without it",
                rid, c->seq, c->id);
        im.study_instance_uid = NULL;
    }
    char *message = images_message(c, &im);
    if (!message) {
        say(f, "out of memory");
        return BATCH_DB_FAILED;
    }
    im.message = message;
    im.message_len = strlen(message);
    struct ingest_result res;
    struct outcome o = {0};
    int s = ingest_images_apply(&im, from, &res, &o);
    free(message);
    if (s) {
        if (o.kind == FAIL_REFUSED || o.kind == FAIL_INVALID) {
            /* The core rolled the batch back. Passing over this one change lets the rest go on;
             * the next try (at once) applies the others and moves past it. */
            f->skip_seq = c->seq;
            log_msg(LOG_WARN,
                    "orthanc %s: change %lld: study %s refused by the database (%d, SQLSTATE %s); "
                    "passed over",
                    rid, c->seq, c->id, o.status, o.sqlstate[0] ? o.sqlstate : "-");
            return BATCH_AGAIN;
        }
        say(f, "the database could not record change %lld (%d, SQLSTATE %s)", c->seq, o.status,
            o.sqlstate[0] ? o.sqlstate : "-");
        return BATCH_DB_FAILED;
    }
    if (json_is_true(json_object_get(res.answer, "matched"))) {
        t->matched++;
    } else {
        t->unknown++;
        log_msg(LOG_INFO,
                "orthanc %s: change %lld: study %s has an accession the portal does not know; "
                "passed over",
                rid, c->seq, c->id);
    }
    json_decref(res.answer);
    return BATCH_MORE;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static enum batch feed_batch(struct orthanc_feed *f)
{
    char *rid = f->rid;
    request_id_new(rid);
    struct origin from = {
        .transport = "orthanc",
        .request_id = rid,
        .cfg = f->cfg,
        .actor_role = "pacs",
        .actor_id = "orthanc",
        .hands_out_access_code = false,
    };
    struct outcome o = {0};
    const char *feed[1] = {FEED_NAME};
    PGresult *r = NULL;
    enum batch result = BATCH_DB_FAILED;
    bool committed = false;
    f->why[0] = '\0';

    if (ingest_batch_begin(&from, &o) || db_exec(Q_FEED_TAKE, 1, feed, &r, &o, rid)) {
        say(f, "the database cannot take the feed's position (%d, SQLSTATE %s)", o.status,
            o.sqlstate[0] ? o.sqlstate : "-");
        goto done;
    }
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        atomic_fetch_add(&st_skipped_rounds, 1);
        result = BATCH_LOCKED;
        goto done;
    }
    long long since = atoll(PQgetvalue(r, 0, 0));
    atomic_store(&st_position, since);

    char path[96];
    snprintf(path, sizeof(path), "/changes?since=%lld&limit=%d", since, ORTHANC_CHANGES_MAX);
    long status = get(f, path);
    result = atomic_load(&f->stopping) ? BATCH_STOPPED : BATCH_ORTHANC_FAILED;
    if (status != 200) {
        if (status > 0)
            say_status(f, "/changes", status);
        goto done;
    }
    char err[160];
    struct orthanc_changes *ch = &f->changes;
    if (orthanc_parse_changes(f->body.p, f->body.len, since, ch, err, sizeof(err)) < 0) {
        say(f, "Orthanc: %s", err);
        goto done;
    }
    atomic_store(&st_up, true);

    struct tally t = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int applied = 0;
    while (applied < ch->count) {
        if (atomic_load(&f->stopping)) {
            result = BATCH_STOPPED;
            goto done;
        }
        result = follow_change(f, &from, &ch->list[applied], &t);
        if (result != BATCH_MORE)
            goto done;
        applied++;
        if (elapsed_ms(&t0) > BATCH_MAX_MS)
            break;
    }
    result = BATCH_DB_FAILED;
    long long position = applied ? ch->list[applied - 1].seq : since;
    if (position > since) {
        char value[24];
        snprintf(value, sizeof(value), "%lld", position);
        const char *p[2] = {FEED_NAME, value};
        if (db_exec_command(Q_FEED_ADVANCE, 2, p, &o, rid)) {
            say(f, "the database cannot move the feed's position (%d, SQLSTATE %s)", o.status,
                o.sqlstate[0] ? o.sqlstate : "-");
            goto done;
        }
    }
    if (ingest_batch_commit(&from, &o)) {
        say(f, "the database did not commit changes %lld to %lld (%d, SQLSTATE %s)", since + 1,
            position, o.status, o.sqlstate[0] ? o.sqlstate : "-");
        goto done;
    }
    committed = true;
    atomic_store(&st_position, position);
    atomic_fetch_add(&st_changes, t.changes);
    atomic_fetch_add(&st_matched, t.matched);
    atomic_fetch_add(&st_unknown, t.unknown);
    atomic_fetch_add(&st_no_accession, t.no_accession);
    atomic_fetch_add(&st_gone, t.gone);
    atomic_fetch_add(&st_refused, t.refused);
    if (t.matched || t.unknown || t.no_accession || t.gone || t.refused)
        log_msg(LOG_INFO,
                "orthanc %s: changes %lld to %lld: images recorded for %llu studies; passed over "
                "%llu of unknown accession, %llu without one, %llu gone, %llu refused",
                rid, since + 1, position, t.matched, t.unknown, t.no_accession, t.gone, t.refused);
    /* An empty page is the end, whatever Done says: asking again would loop on nothing. */
    result = applied < ch->count          ? BATCH_MORE
             : ch->done || ch->count == 0 ? BATCH_DONE
                                          : BATCH_MORE;
done:
    PQclear(r);
    if (!committed)
        ingest_batch_abandon();
    return result;
}
