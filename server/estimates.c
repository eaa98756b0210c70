/* The estimates refresh: one thread per portald instance asks portal.refresh_estimates_if_due to
 * rebuild the quantile table every PORTAL_ESTIMATES_REFRESH seconds. The database arbitrates
 * between instances (a transaction-level advisory lock, and a refresh younger than half the
 * interval counts as done), so several instances refresh about once per interval between them.
 * After each round the thread also counts the studies past their p90 for /metrics. */
#include "estimates.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "queries.h"

/* After a failure (the database restarting, say) the next try comes sooner than the interval. */
#define RETRY_AFTER_FAILURE_S 5

struct estimates_task {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    int interval_s;
    int window_days;
    bool failing; /* the last round failed: log the recovery once */
};

static void *task_main(void *arg);
static bool refresh_once(struct estimates_task *t);

struct estimates_task *estimates_start(int interval_s, int window_days)
{
    struct estimates_task *t = calloc(1, sizeof(*t));
    if (!t) {
        log_msg(LOG_ERROR, "estimates: out of memory; estimates will not be refreshed");
        return NULL;
    }
    t->interval_s = interval_s;
    t->window_days = window_days;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* The monotonic clock: a wall-clock step neither skips nor floods refreshes. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0 || pthread_mutex_init(&t->lock, NULL) != 0) {
        if (rc == 0)
            pthread_cond_destroy(&t->wake);
        free(t);
        log_msg(LOG_ERROR, "estimates: cannot initialise; estimates will not be refreshed");
        return NULL;
    }
    rc = pthread_create(&t->thread, NULL, task_main, t);
    if (rc != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        log_msg(LOG_ERROR, "estimates: cannot start a thread (%s); estimates will not be refreshed",
                strerror(rc));
        return NULL;
    }
    log_msg(LOG_INFO, "estimates: refresh every %d s over the last %d days", interval_s,
            window_days);
    return t;
}

void estimates_stop(struct estimates_task *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void *task_main(void *arg)
{
    struct estimates_task *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        pthread_mutex_unlock(&t->lock);
        bool ok = refresh_once(t);
        pthread_mutex_lock(&t->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec +=
            ok || t->interval_s < RETRY_AFTER_FAILURE_S ? t->interval_s : RETRY_AFTER_FAILURE_S;
        while (!t->stopping) {
            if (pthread_cond_timedwait(&t->wake, &t->lock, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    db_close();
    return NULL;
}

/* Runs one prepared statement on this thread's connection; a connection that died is dropped
 * so the next call reconnects. Returns the result or NULL (logged by SQLSTATE only). */
static PGresult *run(enum query q, int n, const char *const *params)
{
    PGconn *c = db_conn();
    if (!c)
        return NULL; /* db_conn logged it */
    PGresult *r = PQexecPrepared(c, queries[q].name, n, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    log_msg(LOG_WARN, "estimates: statement %s failed with SQLSTATE %s", queries[q].name,
            state ? state : "(connection lost)");
    PQclear(r);
    if (PQstatus(c) != CONNECTION_OK)
        db_close();
    return NULL;
}

/* One round: refresh if due, then count overdue studies. Returns false when the database could
 * not be reached or refused. */
static bool refresh_once(struct estimates_task *t)
{
    char window[16], min_age[16];
    snprintf(window, sizeof(window), "%d", t->window_days);
    snprintf(min_age, sizeof(min_age), "%d", t->interval_s / 2);
    const char *params[2] = {window, min_age};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PGresult *r = run(Q_ESTIMATES_REFRESH, 2, params);
    /* A statement on a connection the database dropped (a restart) fails once; try a fresh one. */
    if (!r)
        r = run(Q_ESTIMATES_REFRESH, 2, params);
    if (!r) {
        t->failing = true;
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const char *outcome = PQgetvalue(r, 0, 0);
    if (strcmp(outcome, "refreshed") == 0) {
        metrics_set_estimates_refreshed((double)time(NULL));
        log_msg(LOG_INFO, "estimates: refreshed in %ld ms%s",
                (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
                t->failing ? " (database reachable again)" : "");
    } else if (t->failing) {
        log_msg(LOG_INFO, "estimates: database reachable again (%s)", outcome);
    }
    t->failing = false;
    PQclear(r);

    PGresult *counts = run(Q_OVERDUE_COUNTS, 0, NULL);
    if (!counts)
        return false;
    metrics_clear_overdue();
    for (int i = 0; i < PQntuples(counts); i++)
        metrics_set_overdue(PQgetvalue(counts, i, 0), atoll(PQgetvalue(counts, i, 1)));
    PQclear(counts);
    return true;
}
