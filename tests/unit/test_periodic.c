/* Periodic threads: the task runs at once, again after the pause it asks for, and a stop wakes
 * the thread at once even in the middle of an hour-long pause. */
#include "../../server/periodic.c"

#include <stdatomic.h>

#include "testhelp.h"

struct counter {
    atomic_int rounds;
    int pause_s;
};

static int count_round(void *arg)
{
    struct counter *c = arg;
    atomic_fetch_add(&c->rounds, 1);
    return c->pause_s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wait_for(atomic_int *v, int at_least, double timeout_s)
{
    double end = now_s() + timeout_s;
    struct timespec pause = {0, 10 * 1000 * 1000};
    while (atomic_load(v) < at_least && now_s() < end)
        nanosleep(&pause, NULL);
}

static void runs_at_once_and_stops_promptly(void)
{
    struct counter c = {0, 3600};
    struct periodic *p = periodic_start("test", "nothing runs", count_round, &c);
    CHECK(p != NULL);
    wait_for(&c.rounds, 1, 5.0);
    CHECK(atomic_load(&c.rounds) == 1);
    double t0 = now_s();
    periodic_stop(p);
    CHECK(now_s() - t0 < 1.0);
    CHECK(atomic_load(&c.rounds) == 1);
}

static void repeats_after_the_pause_it_asks_for(void)
{
    struct counter c = {0, 1};
    struct periodic *p = periodic_start("test", "nothing runs", count_round, &c);
    CHECK(p != NULL);
    wait_for(&c.rounds, 2, 5.0);
    periodic_stop(p);
    int n = atomic_load(&c.rounds);
    CHECK(n >= 2 && n <= 4);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    db_configure(NULL, 1, DB_PREPARED); /* the thread's db_close at exit finds no connection */
    periodic_stop(NULL);
    runs_at_once_and_stops_promptly();
    repeats_after_the_pause_it_asks_for();
    return testhelp_done();
}
