/* `portald backtest`: how well the turnaround estimates held on the site's own recent past. */
#ifndef PORTAL_BACKTEST_H
#define PORTAL_BACKTEST_H

#define BACKTEST_DEFAULT_DAYS 14

/* `portald backtest [--days N] [--window-days W] [--conditional]`: replays the last N days
 * (default 14) with a model of W days (default window_days) rebuilt for each day from what was
 * known at its start, and prints the coverage of p50 and p90 and the median absolute error,
 * overall, per milestone and per modality. --conditional also scores the estimates given to
 * studies that had already waited (each rung of the ladder). Returns the process exit status. */
int backtest_run(const char *conninfo, int window_days, int argc, char **argv);

#endif
