/* How many connections each client address holds, for PORTAL_PER_IP_CONNECTIONS. libmicrohttpd
 * 0.9.75 keeps such a count itself, but a connection taken in the first milliseconds of a run
 * was seen to leave it one short for the process's life (test_edges' per-address test then let a
 * 65th connection in); this count is kept from libmicrohttpd's "started" and "closed" notices,
 * which come in pairs, so it is exact by construction. */
#ifndef PORTAL_CONN_ADDRESSES_H
#define PORTAL_CONN_ADDRESSES_H

#include <stdbool.h>
#include <sys/socket.h>

struct conn_addresses;
struct conn_address; /* one address's count, held by each of its connections */

/* A table for at most limit connections per address (limit > 0). NULL when out of memory. */
struct conn_addresses *conn_addresses_new(unsigned limit);
void conn_addresses_free(struct conn_addresses *t);
/* Whether addr may open another connection now (libmicrohttpd's accept policy). Two connections
 * accepted at the same instant by two threads may both pass at limit - 1: the limit can be passed
 * by at most the number of HTTP threads minus one, for as long as those connections last. */
bool conn_addresses_admit(struct conn_addresses *t, const struct sockaddr *addr, socklen_t len);
/* Counts a started connection from addr; returns what conn_addresses_release takes back, or
 * NULL if it was not counted (an address of another family, or out of memory). */
struct conn_address *conn_addresses_hold(struct conn_addresses *t, const struct sockaddr *addr,
                                         socklen_t len);
void conn_addresses_release(struct conn_addresses *t, struct conn_address *a);

#endif
