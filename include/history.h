/* `portald seed-history`: a synthetic but realistic turnaround history, so estimates have
 * something to learn from in demos and tests. */
#ifndef PORTAL_HISTORY_H
#define PORTAL_HISTORY_H

#define HISTORY_DEFAULT_DAYS 120
#define HISTORY_MAX_DAYS     730

/* The shapes of history the generator makes, NULL-terminated; the first is the default. */
extern const char *const history_shapes[];

/* `portald seed-history [--days N] [--shape S]`: N days (default 120) of studies of synthetic
 * patients (MRN prefix SYN-), generated in SQL, then a refresh of the estimates over window_days.
 * The shape (history_shapes) is the site's reading clock and load. Does nothing but the refresh
 * when synthetic history exists already. Returns the process exit status. */
int history_seed(const char *conninfo, int window_days, int argc, char **argv);

#endif
