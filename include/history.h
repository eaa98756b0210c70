/* `portald seed-history`: a synthetic but realistic turnaround history, so estimates have
 * something to learn from in demos and tests. */
#ifndef PORTAL_HISTORY_H
#define PORTAL_HISTORY_H

#define HISTORY_DEFAULT_DAYS 120
#define HISTORY_MAX_DAYS     730

/* `portald seed-history [--days N]`: N days (default 120) of studies of synthetic patients (MRN
 * prefix SYN-), generated in SQL, then a refresh of the estimates over window_days. Does nothing
 * but the refresh when synthetic history exists already. Returns the process exit status. */
int history_seed(const char *conninfo, int window_days, int argc, char **argv);

#endif
