/* Prometheus metrics: request counts by route and status, a latency histogram per route, and the
 * database connection state. Lock-free counters, rendered on demand. */
#ifndef PORTAL_METRICS_H
#define PORTAL_METRICS_H

#include <stddef.h>

/* route_index: index into routes[], or -1 for requests that matched no route. */
void metrics_observe(int route_index, int status, double seconds);
/* Returns a malloc'd Prometheus text exposition; *len receives its length. */
char *metrics_render(size_t *len, int db_up, int db_connections);

#endif
