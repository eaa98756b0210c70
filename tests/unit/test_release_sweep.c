/* The release sweep thread: off when the interval is 0, and stopped at once (a condition
 * variable, not a sleep) even with an hour to its next sweep and no database to reach. */
#include "../../server/release_sweep.c"

#include "testhelp.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    log_set_level(LOG_ERROR);
    db_configure(NULL, 1, DB_PREPARED); /* no database: every sweep finds the connection missing */
    CHECK(release_sweep_start(0) == NULL);
    release_sweep_stop(NULL);

    struct release_sweep *s = release_sweep_start(3600);
    CHECK(s != NULL);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    double t0 = now_s();
    release_sweep_stop(s);
    CHECK(now_s() - t0 < 1.0);
    return testhelp_done();
}
