/* A background thread of `portald serve` that runs one task at once and then again after each
 * pause: the estimates refresh (estimates.c) and the release sweep (release_sweep.c). */
#ifndef PORTAL_PERIODIC_H
#define PORTAL_PERIODIC_H

#include <stdbool.h>

struct periodic;

/* One round of the task, on the thread. Returns the seconds to wait before the next round. */
typedef int (*periodic_fn)(void *arg);

/* Starts a thread named name (for the logs) that calls fn(arg) at once and then after each pause
 * fn asks for. Returns NULL when the thread cannot start, logged as "<name>: cannot start a thread
 * (...); <if_not>". arg stays the caller's, to free after periodic_stop. */
struct periodic *periodic_start(const char *name, const char *if_not, periodic_fn fn, void *arg);
/* Wakes the thread at once (SIGTERM must not wait out a pause), lets a round in progress finish,
 * joins the thread, closes its database connection (db_conn) and frees p. Accepts NULL. */
void periodic_stop(struct periodic *p);
/* On a task's thread, during a round: whether periodic_stop has been called, so that a round of
 * many statements can end after the current one instead of holding the stop up. False on any other
 * thread. */
bool periodic_stop_requested(void);

#endif
