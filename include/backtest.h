/* `portald backtest`: how well the turnaround estimates held on the site's own recent past. */
#ifndef PORTAL_BACKTEST_H
#define PORTAL_BACKTEST_H

#define BACKTEST_DEFAULT_DAYS 14

/* --every-hour: an hour of the week is judged when at least this many studies were scored in it,
 * and is in the band when p50 covers BAND_P50_LO-HI % and p90 BAND_P90_LO-HI % (issue 18). */
#define BACKTEST_MIN_HOUR_STUDIES 50
#define BACKTEST_BAND_P50_LO      45.0
#define BACKTEST_BAND_P50_HI      55.0
#define BACKTEST_BAND_P90_LO      87.0
#define BACKTEST_BAND_P90_HI      93.0

/* `portald backtest [--days N] [--window-days W] [--conditional | --every-hour [--by-hour]]`:
 * replays the last N days (default 14) with a model of W days (default window_days) rebuilt for
 * each day from what was known at its start, and prints the coverage of p50 and p90 and the
 * median absolute error, overall, per milestone and per modality. --conditional also scores the
 * estimates given to studies that had already waited (each rung of the ladder). --every-hour asks
 * at every hour of N days ending a week ago, every study waiting then, and prints the coverage per
 * milestone with the worst hour of the week (--by-hour: every hour of the week). Returns the
 * process exit status. */
int backtest_run(const char *conninfo, int window_days, int argc, char **argv);

#endif
