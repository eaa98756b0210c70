/* Background threads that repeat a task: the pause is a timed wait on a condition variable over
 * the monotonic clock, so a wall-clock step neither skips nor floods rounds, and a stop wakes the
 * thread at once instead of waiting out the pause. */
#include "periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

struct periodic {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    periodic_fn fn;
    void *arg;
};

static void *periodic_main(void *arg);

/* The task this thread runs, for periodic_stop_requested. */
static _Thread_local struct periodic *running;

bool periodic_stop_requested(void)
{
    struct periodic *p = running;
    if (!p)
        return false;
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return stopping;
}

struct periodic *periodic_start(const char *name, const char *if_not, periodic_fn fn, void *arg)
{
    struct periodic *p = calloc(1, sizeof(*p));
    if (!p) {
        log_msg(LOG_ERROR, "%s: cannot start a thread (%s); %s", name, strerror(ENOMEM), if_not);
        return NULL;
    }
    p->fn = fn;
    p->arg = arg;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc == 0 && (rc = pthread_mutex_init(&p->lock, NULL)) != 0)
        pthread_cond_destroy(&p->wake);
    if (rc == 0 && (rc = pthread_create(&p->thread, NULL, periodic_main, p)) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
    }
    if (rc != 0) {
        free(p);
        log_msg(LOG_ERROR, "%s: cannot start a thread (%s); %s", name, strerror(rc), if_not);
        return NULL;
    }
    return p;
}

void periodic_stop(struct periodic *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void *periodic_main(void *arg)
{
    struct periodic *p = arg;
    running = p;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        pthread_mutex_unlock(&p->lock);
        int pause_s = p->fn(p->arg);
        pthread_mutex_lock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += pause_s;
        while (!p->stopping) {
            if (pthread_cond_timedwait(&p->wake, &p->lock, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    db_close();
    return NULL;
}
