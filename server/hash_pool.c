/* The hash pool: a ring of reserved places, one lock and one condition variable. The jobs are
 * few and each costs tens of milliseconds of CPU, so nothing finer is needed. */
#include "hash_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The pool's threads run at this nice value. A hash is ~20 ms of CPU in one piece, a page view a
 * fraction of a millisecond: at equal priority a page view on a busy machine waits behind hashes,
 * and the page load is what most people are doing. Niced, the hashes take the CPU the page views
 * leave, so when the machine is saturated sign-ins queue (and past PORTAL_HASH_QUEUE are answered
 * 503) instead of every page view slowing down. On an idle machine the nice value changes nothing.
 */
#define HASH_THREAD_NICE 10

const double hash_pool_wait_bounds[HASH_POOL_WAIT_BUCKETS] = {0.005, 0.01, 0.025, 0.05,
                                                              0.1,   0.25, 0.5,   1.0};

struct job {
    void (*fn)(void *);
    void *arg;
    struct timespec queued_at;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    pthread_t *threads;
    int nthreads;
    struct job *ring;
    int capacity;     /* places for jobs not yet started */
    int head, queued; /* the ring's jobs */
    int reserved;     /* places taken, job not yet submitted */
    int busy;         /* jobs running */
    bool running, stopping;
    unsigned long long done, rejected;
    unsigned long long wait_buckets[HASH_POOL_WAIT_BUCKETS + 1];
    double wait_sum;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void *worker(void *unused)
{
    (void)unused;
    /* Linux gives each thread its own nice value, addressed by its thread id. Best effort: a
     * failure leaves the thread at the process's priority, as before. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), HASH_THREAD_NICE);
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.queued == 0 && !(pool.stopping && pool.reserved == 0))
            pthread_cond_wait(&pool.work, &pool.lock);
        if (pool.queued == 0)
            break; /* stopping, and nothing reserved is still to come */
        struct job j = pool.ring[pool.head];
        pool.head = (pool.head + 1) % pool.capacity;
        pool.queued--;
        pool.busy++;
        double waited = seconds_since(&j.queued_at);
        pool.wait_sum += waited;
        int b = 0;
        while (b < HASH_POOL_WAIT_BUCKETS && waited > hash_pool_wait_bounds[b])
            b++;
        pool.wait_buckets[b]++;
        pthread_mutex_unlock(&pool.lock);
        j.fn(j.arg);
        pthread_mutex_lock(&pool.lock);
        pool.busy--;
        pool.done++;
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

int hash_pool_start(int workers, int capacity)
{
    if (workers < 1 || capacity < 1)
        return -1;
    pool.ring = calloc((size_t)capacity, sizeof(*pool.ring));
    pool.threads = calloc((size_t)workers, sizeof(*pool.threads));
    if (!pool.ring || !pool.threads) {
        free(pool.ring);
        free(pool.threads);
        pool.ring = NULL;
        pool.threads = NULL;
        return -1;
    }
    pool.capacity = capacity;
    pool.head = pool.queued = pool.reserved = pool.busy = 0;
    pool.stopping = false;
    pool.running = true;
    for (pool.nthreads = 0; pool.nthreads < workers; pool.nthreads++)
        if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, NULL) != 0) {
            hash_pool_stop();
            return -1;
        }
    return 0;
}

void hash_pool_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    if (!pool.running) {
        pthread_mutex_unlock(&pool.lock);
        return;
    }
    pool.stopping = true;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    pthread_mutex_lock(&pool.lock);
    pool.running = false;
    free(pool.threads);
    free(pool.ring);
    pool.threads = NULL;
    pool.ring = NULL;
    pool.nthreads = 0;
    pthread_mutex_unlock(&pool.lock);
}

bool hash_pool_running(void)
{
    pthread_mutex_lock(&pool.lock);
    bool r = pool.running && !pool.stopping;
    pthread_mutex_unlock(&pool.lock);
    return r;
}

bool hash_pool_reserve(void)
{
    pthread_mutex_lock(&pool.lock);
    bool ok = pool.running && !pool.stopping && pool.reserved + pool.queued < pool.capacity;
    if (ok)
        pool.reserved++;
    pthread_mutex_unlock(&pool.lock);
    return ok;
}

void hash_pool_count_refusal(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.rejected++;
    pthread_mutex_unlock(&pool.lock);
}

void hash_pool_submit(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&pool.lock);
    struct job *j = &pool.ring[(pool.head + pool.queued) % pool.capacity];
    j->fn = fn;
    j->arg = arg;
    clock_gettime(CLOCK_MONOTONIC, &j->queued_at);
    pool.reserved--;
    pool.queued++;
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.lock);
}

bool hash_pool_idle(void)
{
    pthread_mutex_lock(&pool.lock);
    bool idle = pool.reserved == 0 && pool.queued == 0 && pool.busy == 0;
    pthread_mutex_unlock(&pool.lock);
    return idle;
}

void hash_pool_stats(struct hash_pool_stats *s)
{
    pthread_mutex_lock(&pool.lock);
    s->running = pool.running;
    s->workers = pool.nthreads;
    s->capacity = pool.capacity;
    s->waiting = pool.reserved + pool.queued;
    s->busy = pool.busy;
    s->done = pool.done;
    s->rejected = pool.rejected;
    unsigned long long cumulative = 0;
    for (int b = 0; b <= HASH_POOL_WAIT_BUCKETS; b++) {
        cumulative += pool.wait_buckets[b];
        s->wait_buckets[b] = cumulative;
    }
    s->wait_seconds_sum = pool.wait_sum;
    pthread_mutex_unlock(&pool.lock);
}
