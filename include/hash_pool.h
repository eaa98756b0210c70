/* The hash pool: a few threads that run the argon2id work of sign-ins (access codes, passwords),
 * so that a wave of sign-ins waits its turn here instead of holding the HTTP threads that serve
 * every page view. A request reserves a place first (none free: it is answered 503 with
 * Retry-After at once), suspends its connection, and is resumed when its job is done
 * (http.c's req_defer). Its queue length and the time jobs wait are in /metrics. */
#ifndef PORTAL_HASH_POOL_H
#define PORTAL_HASH_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* The upper bounds, in seconds, of the wait histogram's buckets (the last is +Inf). */
#define HASH_POOL_WAIT_BUCKETS 8
extern const double hash_pool_wait_bounds[HASH_POOL_WAIT_BUCKETS];

/* Starts workers threads taking jobs from a queue of up to capacity waiting jobs. Returns 0, or
 * -1 when a thread cannot be started (nothing is left running). */
int hash_pool_start(int workers, int capacity);
/* Lets the jobs already reserved finish, then joins the threads. */
void hash_pool_stop(void);
bool hash_pool_running(void);

/* Takes a place in the queue: false when it is full (or the pool is not running). */
bool hash_pool_reserve(void);
/* Counts a request answered 503 because no place was free (/metrics). */
void hash_pool_count_refusal(void);
/* Runs fn(arg) on a worker in the place reserved. */
void hash_pool_submit(void (*fn)(void *), void *arg);
/* Whether no job is reserved, waiting or running. */
bool hash_pool_idle(void);

struct hash_pool_stats {
    bool running;
    int workers, capacity;
    int waiting; /* reserved or queued, not started */
    int busy;    /* running now */
    unsigned long long done, rejected;
    unsigned long long wait_buckets[HASH_POOL_WAIT_BUCKETS + 1]; /* cumulative, the last +Inf */
    double wait_seconds_sum;
};
void hash_pool_stats(struct hash_pool_stats *s);

#endif
