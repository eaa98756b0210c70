/* Absolute deadlines for the slow phases of an HTTP connection: the request head from connect,
 * the body from the head's end, the next head from the last answer. libmicrohttpd 0.9.75 has only
 * an idle timeout, which each trickled byte restarts; this closes what overstays. */
#ifndef PORTAL_CONN_DEADLINE_H
#define PORTAL_CONN_DEADLINE_H

#include <microhttpd.h>

enum conn_phase {
    CONN_HEAD,      /* connected, no complete head yet: head_timeout */
    CONN_BODY,      /* head read, body on its way: body_timeout */
    CONN_ANSWERING, /* our turn: no deadline */
    CONN_NEXT_HEAD, /* answered, keep-alive: the next head within idle_timeout */
};

struct conn_deadlines;

struct conn_addresses;

/* Starts the thread that closes connections past their deadline (checked every second). Each
 * connection's entry also holds its place in addresses' count when addresses is not NULL.
 * Returns NULL when it cannot start (then no deadline holds but the idle timeout). */
struct conn_deadlines *conn_deadline_start(int head_timeout, int body_timeout, int idle_timeout,
                                           struct conn_addresses *addresses);
/* Stops the thread; call after the HTTP daemon has stopped. Accepts NULL. */
void conn_deadline_stop(struct conn_deadlines *d);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls is the struct conn_deadlines). */
void conn_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
/* Moves conn to phase, its clock restarting now. */
void conn_deadline_phase(struct MHD_Connection *conn, enum conn_phase phase);
/* Connections closed for a deadline since start, for /metrics. */
unsigned long conn_deadline_closed_total(void);

#endif
