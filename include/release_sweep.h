/* The automatic release sweep: a background thread of `portald serve` that ends holds past their
 * deadline and releases reports the site policy or the patient's choice makes due. */
#ifndef PORTAL_RELEASE_SWEEP_H
#define PORTAL_RELEASE_SWEEP_H

struct release_sweep;

/* Starts the thread, which sweeps at once and then every interval_s seconds on its own database
 * connection (db_configure must have run). Returns NULL when interval_s is 0 (sweeping turned
 * off) or the thread cannot start (logged). */
struct release_sweep *release_sweep_start(int interval_s);
/* Wakes the thread, lets a sweep in progress finish, joins it and frees s. Accepts NULL. */
void release_sweep_stop(struct release_sweep *s);

#endif
