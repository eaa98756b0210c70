/* The automatic release sweep: one thread per portald instance calls portal.release_due every
 * PORTAL_RELEASE_SWEEP seconds. The database decides who releases what (FOR UPDATE SKIP LOCKED
 * and the unique release per report version), so any number of instances may sweep at once and
 * each report version is released exactly once. */
#include "release_sweep.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "periodic.h"
#include "queries.h"

/* Reports released per call; the sweep calls again at once while a call comes back full, so a
 * backlog drains without one long transaction. */
#define SWEEP_BATCH      200
#define SWEEP_MAX_ROUNDS 50

struct release_sweep {
    struct periodic *thread;
    int interval_s;
    unsigned long round;
    time_t started; /* with the pid, tells instances' sweeps apart in the audit log */
};

static int sweep_round(void *arg);
static bool sweep_once(struct release_sweep *s);

struct release_sweep *release_sweep_start(int interval_s)
{
    if (interval_s <= 0)
        return NULL;
    struct release_sweep *s = calloc(1, sizeof(*s));
    if (!s) {
        log_msg(LOG_ERROR, "release sweep: out of memory; automatic releases are off");
        return NULL;
    }
    s->interval_s = interval_s;
    s->started = time(NULL);
    s->thread = periodic_start("release sweep", "automatic releases are off", sweep_round, s);
    if (!s->thread) {
        free(s);
        return NULL;
    }
    log_msg(LOG_INFO, "release sweep: every %d s", interval_s);
    return s;
}

void release_sweep_stop(struct release_sweep *s)
{
    if (!s)
        return;
    periodic_stop(s->thread);
    free(s);
}

static int sweep_round(void *arg)
{
    struct release_sweep *s = arg;
    for (int i = 0; i < SWEEP_MAX_ROUNDS && sweep_once(s); i++)
        ;
    return s->interval_s;
}

/* One call of portal.release_due. Returns true when the batch came back full (more may be due). */
static bool sweep_once(struct release_sweep *s)
{
    char batch[16], request_id[64];
    snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
    /* The audit rows of one sweep share this id, so an operator can find them together. */
    snprintf(request_id, sizeof(request_id), "release-sweep-%lx-%ld-%lu", (unsigned long)s->started,
             (long)getpid(), ++s->round);
    const char *params[2] = {batch, request_id};
    PGresult *r = NULL;
    struct outcome o = {0};
    bool more = false;
    /* A failure is logged by db_exec with this id and its SQLSTATE; the next interval tries again.
     */
    if (db_exec(Q_RELEASE_DUE, 2, params, &r, &o, request_id) == 0 && PQntuples(r) == 1) {
        int released = atoi(PQgetvalue(r, 0, 0));
        int expired = atoi(PQgetvalue(r, 0, 1));
        if (released || expired)
            log_msg(LOG_INFO,
                    "release sweep %s: %d report(s) released by policy, %d hold(s) expired",
                    request_id, released, expired);
        more = released >= SWEEP_BATCH || expired >= SWEEP_BATCH;
    }
    PQclear(r);
    return more;
}
