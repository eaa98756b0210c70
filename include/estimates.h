/* Turnaround estimates: the background task of `portald serve` that keeps the precomputed
 * quantiles (portal.turnaround_estimates) fresh and counts overdue studies for /metrics, and the
 * patient-facing form of an estimate. */
#ifndef PORTAL_ESTIMATES_H
#define PORTAL_ESTIMATES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <time.h>

#include "i18n.h"

struct estimates_task;

/* Starts the thread: it refreshes at once, then every interval_s seconds, over the last
 * window_days of history, on its own database connection (db_configure must have run). Returns
 * NULL when the thread cannot start (logged; requests then read the numbers as they stand). */
struct estimates_task *estimates_start(int interval_s, int window_days);
/* Wakes the thread, lets a refresh in progress finish, joins it and frees t. Accepts NULL. */
void estimates_stop(struct estimates_task *t);

/* The "estimates" list of a study from a Q_PATIENT_STUDIES / Q_PATIENT_STUDY row (the ef_* and
 * ea_* columns): one entry per milestone still ahead, each {milestone, p50_at, p90_at,
 * sample_size, basis, summary}; when too few past studies waited as long, p50_at and p90_at are
 * left out and the summary says so. Nothing for a milestone whose history is too thin even for a
 * study just entering the stage. now is
 * the time the summary's "within ..." counts from. Returns a new reference or NULL on out of
 * memory. */
json_t *estimates_json(const PGresult *res, int row, time_t now, enum lang lang);

#endif
