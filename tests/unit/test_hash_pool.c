/* The hash pool: places are reserved before a job is submitted and refused when the queue is
 * full; every job submitted runs once, in order on one worker; a stop waits for the jobs already
 * reserved; the figures for /metrics count jobs, refusals and waits. */
#include "../../server/hash_pool.c"

#include <stdatomic.h>
#include <unistd.h>

#include "testhelp.h"

static atomic_int ran;
static int order[8];
static atomic_int next_slot;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

/* Holds the worker until the test lets it go, so the queue can be filled deterministically. */
static void held_job(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    order[atomic_fetch_add(&next_slot, 1)] = (int)(long)arg;
    atomic_fetch_add(&ran, 1);
}

static void wait_idle(void)
{
    for (int i = 0; i < 500 && !hash_pool_idle(); i++)
        usleep(10 * 1000);
}

static void refuses_when_full_and_runs_each_once(void)
{
    CHECK(!hash_pool_reserve()); /* no pool yet */
    CHECK(hash_pool_start(1, 2) == 0);
    CHECK(hash_pool_running());
    pthread_mutex_lock(&gate);
    /* The first job starts and blocks on the gate; two more fill the queue. */
    CHECK(hash_pool_reserve());
    hash_pool_submit(held_job, (void *)1L);
    for (int i = 0; i < 100; i++) {
        struct hash_pool_stats s;
        hash_pool_stats(&s);
        if (s.busy == 1)
            break;
        usleep(10 * 1000);
    }
    CHECK(hash_pool_reserve());
    CHECK(hash_pool_reserve());
    CHECK(!hash_pool_reserve()); /* full: two waiting */
    hash_pool_count_refusal();
    hash_pool_submit(held_job, (void *)2L);
    hash_pool_submit(held_job, (void *)3L);
    struct hash_pool_stats s;
    hash_pool_stats(&s);
    CHECK(s.waiting == 2 && s.busy == 1 && s.rejected == 1 && s.capacity == 2 && s.workers == 1);
    CHECK(!hash_pool_idle());
    pthread_mutex_unlock(&gate);
    wait_idle();
    CHECK(atomic_load(&ran) == 3);
    CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
    hash_pool_stats(&s);
    CHECK(s.done == 3 && s.waiting == 0 && s.busy == 0);
    /* Every job's wait is in the histogram; the +Inf bucket counts them all. */
    CHECK(s.wait_buckets[HASH_POOL_WAIT_BUCKETS] == 3);
    CHECK(s.wait_seconds_sum >= 0.0);
}

static void *stop_pool(void *unused)
{
    (void)unused;
    hash_pool_stop();
    return NULL;
}

static void stop_waits_for_reserved_jobs(void)
{
    CHECK(hash_pool_reserve());
    pthread_t t;
    /* A reservation not yet submitted when the stop begins still runs. */
    CHECK(pthread_create(&t, NULL, stop_pool, NULL) == 0);
    usleep(50 * 1000);
    hash_pool_submit(held_job, (void *)4L);
    pthread_join(t, NULL);
    CHECK(atomic_load(&ran) == 4);
    CHECK(!hash_pool_running());
    CHECK(!hash_pool_reserve());
    hash_pool_stop(); /* twice: harmless */
}

int main(void)
{
    refuses_when_full_and_runs_each_once();
    stop_waits_for_reserved_jobs();
    return testhelp_done();
}
