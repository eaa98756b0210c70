/* Prometheus metrics: request counts by route and status, a latency histogram per route, and the
 * database connection state. Lock-free counters, rendered on demand. */
#ifndef PORTAL_METRICS_H
#define PORTAL_METRICS_H

#include <stddef.h>

/* route_index: index into routes[], or -1 for requests that matched no route. */
void metrics_observe(int route_index, int status, double seconds);
/* Overdue studies by stage (studies past the p90 of their stage), set by the estimates task:
 * clear, then set each stage counted. Stages outside the lifecycle are ignored. */
void metrics_clear_overdue(void);
void metrics_set_overdue(const char *stage, long long n);
/* The factors by which the estimates' calibration stretches a milestone's p50 and p90. */
void metrics_set_estimates_stretch(const char *milestone, double p50, double p90);
/* Unix time of the last estimates refresh this instance made. */
void metrics_set_estimates_refreshed(double unix_time);
/* The estimates task's last round: when it ended and how long it took. */
void metrics_set_estimates_round(double end_unix_time, double seconds);
/* The HL7 listener: messages by acknowledgement code (0 AA, 1 AE, 2 AR, as enum hl7_ack_code),
 * connections open now, connections closed at once for a limit, and stalled senders cut off. */
void metrics_hl7_message(int ack_code, double seconds);
void metrics_hl7_connections(int open);
void metrics_hl7_refused(void);
void metrics_hl7_timed_out(void);
/* Returns a malloc'd Prometheus text exposition; *len receives its length. */
char *metrics_render(size_t *len, int db_up, int db_connections);

#endif
