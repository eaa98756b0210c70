/* Absolute deadlines per connection phase. Each connection has an entry from libmicrohttpd's
 * "started" notice to its "closed" notice, kept in one list under one lock; once a second a thread
 * shuts down (never closes) the socket of every entry past its deadline, and libmicrohttpd, seeing
 * the end of the stream, closes the connection itself. libmicrohttpd gives the "closed" notice
 * before it closes the descriptor, and the notice takes the same lock, so a descriptor shut down
 * here always still belongs to the connection it was looked up for. */
#include "conn_deadline.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "conn_addresses.h"
#include "log.h"
#include "periodic.h"

struct conn_entry {
    struct conn_entry *prev, *next;
    int fd;
    enum conn_phase phase;
    long long since_ms;
    bool shut;
    struct conn_address *held; /* this connection's place in its address's count */
};

struct conn_deadlines {
    pthread_mutex_t lock;
    struct conn_entry *head;
    long long limit_ms[4]; /* by enum conn_phase; 0: none */
    struct periodic *reaper;
    struct conn_addresses *addresses; /* NULL: connections per address are not counted */
};

static atomic_ulong closed_total;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int reap(void *arg)
{
    struct conn_deadlines *d = arg;
    long long now = now_ms();
    unsigned closed[4] = {0};
    pthread_mutex_lock(&d->lock);
    for (struct conn_entry *e = d->head; e; e = e->next) {
        enum conn_phase phase = __atomic_load_n(&e->phase, __ATOMIC_ACQUIRE);
        long long limit = d->limit_ms[phase];
        if (e->shut || !limit || now - __atomic_load_n(&e->since_ms, __ATOMIC_RELAXED) <= limit)
            continue;
        shutdown(e->fd, SHUT_RDWR);
        e->shut = true;
        closed[phase]++;
    }
    pthread_mutex_unlock(&d->lock);
    unsigned n = closed[CONN_HEAD] + closed[CONN_BODY] + closed[CONN_NEXT_HEAD];
    if (n) {
        atomic_fetch_add(&closed_total, n);
        log_msg(LOG_WARN,
                "http: closed %u connections past their deadline (%u in the head, %u in the "
                "body, %u waiting for a next request)",
                n, closed[CONN_HEAD], closed[CONN_BODY], closed[CONN_NEXT_HEAD]);
    }
    return 1;
}

struct conn_deadlines *conn_deadline_start(int head_timeout, int body_timeout, int idle_timeout,
                                           struct conn_addresses *addresses)
{
    struct conn_deadlines *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    pthread_mutex_init(&d->lock, NULL);
    d->limit_ms[CONN_HEAD] = head_timeout * 1000LL;
    d->limit_ms[CONN_BODY] = body_timeout * 1000LL;
    d->limit_ms[CONN_NEXT_HEAD] = idle_timeout * 1000LL;
    d->addresses = addresses;
    d->reaper =
        periodic_start("http deadlines", "only the idle timeout closes slow connections", reap, d);
    if (!d->reaper) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return NULL;
    }
    return d;
}

void conn_deadline_stop(struct conn_deadlines *d)
{
    if (!d)
        return;
    periodic_stop(d->reaper);
    while (d->head) {
        struct conn_entry *e = d->head;
        d->head = e->next;
        free(e);
    }
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void conn_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct conn_deadlines *d = cls;
    if (!d)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_entry *e = ci ? calloc(1, sizeof(*e)) : NULL;
        if (!e)
            return; /* this connection has the idle timeout only */
        e->fd = ci->connect_fd;
        e->phase = CONN_HEAD;
        e->since_ms = now_ms();
        if (d->addresses) {
            const union MHD_ConnectionInfo *ai =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            if (ai && ai->client_addr)
                e->held = conn_addresses_hold(d->addresses, ai->client_addr,
                                              ai->client_addr->sa_family == AF_INET6
                                                  ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in));
        }
        pthread_mutex_lock(&d->lock);
        e->next = d->head;
        if (d->head)
            d->head->prev = e;
        d->head = e;
        pthread_mutex_unlock(&d->lock);
        *socket_context = e;
        return;
    }
    struct conn_entry *e = *socket_context;
    if (!e)
        return;
    pthread_mutex_lock(&d->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        d->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    pthread_mutex_unlock(&d->lock);
    *socket_context = NULL;
    if (d->addresses)
        conn_addresses_release(d->addresses, e->held);
    free(e);
}

void conn_deadline_phase(struct MHD_Connection *conn, enum conn_phase phase)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_entry *e = ci ? ci->socket_context : NULL;
    if (!e)
        return;
    /* Written by the connection's own thread, read by the reaper without the lock: the clock
     * first, then the phase with release order, so a reaper that sees the new phase sees the new
     * clock too. */
    __atomic_store_n(&e->since_ms, now_ms(), __ATOMIC_RELAXED);
    __atomic_store_n(&e->phase, phase, __ATOMIC_RELEASE);
}

unsigned long conn_deadline_closed_total(void)
{
    return atomic_load(&closed_total);
}
