/* Turnaround estimates: the background task of `portald serve` that keeps the precomputed
 * quantiles (portal.turnaround_estimates) fresh and counts overdue studies for /metrics. */
#ifndef PORTAL_ESTIMATES_H
#define PORTAL_ESTIMATES_H

struct estimates_task;

/* Starts the thread: it refreshes at once, then every interval_s seconds, over the last
 * window_days of history, on its own database connection (db_configure must have run). Returns
 * NULL when the thread cannot start (logged; requests then read the numbers as they stand). */
struct estimates_task *estimates_start(int interval_s, int window_days);
/* Wakes the thread, lets a refresh in progress finish, joins it and frees t. Accepts NULL. */
void estimates_stop(struct estimates_task *t);

#endif
