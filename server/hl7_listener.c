/* MLLP over TCP: one poll() loop owns every socket, so a thousand idle or trickling senders cost
 * a slot each and no thread; the workers only ever see whole messages. A connection moves through
 * READING (framing bytes) -> APPLYING (its message queued or with a worker; not read meanwhile,
 * so one message at a time) -> WRITING (its ACK) -> READING. Bytes that arrived behind a message
 * wait in the connection until its ACK has gone. */
#include "hl7_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "hl7_inbound.h"
#include "log.h"
#include "metrics.h"
#include "mllp.h"
#include "origin.h"
#include "request_id.h"

#define READ_CHUNK     65536
#define LISTEN_BACKLOG 128
#define ADDR_MAX       64

enum conn_state { C_FREE, C_READING, C_APPLYING, C_WRITING };

struct conn {
    enum conn_state state;
    int fd;
    unsigned gen; /* tells a worker's answer for an earlier connection in this slot apart */
    char addr[ADDR_MAX];
    struct mllp_framer framer;
    unsigned char *rest; /* bytes read behind the message being applied */
    size_t rest_len;
    char *out; /* the framed ACK being written */
    size_t out_len, out_off;
    long long frame_started_ms; /* when the message being read began; 0: none */
    long long since_ms;         /* when the state was entered or bytes last arrived */
    long long received_ms;      /* when the message being applied was whole */
};

struct job {
    int slot;
    unsigned gen;
    char *msg;
    size_t len;
    char addr[ADDR_MAX];
};

struct done {
    int slot;
    unsigned gen;
    char *ack; /* framed */
    size_t len;
    int code;
};

struct hl7_listener {
    const struct config *cfg;
    int listen_fd, port;
    int wake[2]; /* workers and stop write a byte; the I/O thread polls the read end */
    pthread_t io;
    pthread_t workers[HL7_WORKERS];
    int nworkers;
    atomic_bool stopping;
    long long stop_deadline_ms;

    struct conn conns[HL7_MAX_CONNECTIONS];
    unsigned char *readbuf;

    pthread_mutex_t lock; /* the two queues below */
    pthread_cond_t work;
    bool workers_stop;
    struct job jobs[HL7_QUEUE_MAX];
    int job_head, job_count;
    struct done dones[HL7_QUEUE_MAX];
    int done_count;
    /* Messages queued, with a worker, or answered but not yet collected. A connection has one at
     * most, but a sender that leaves and a new one in its slot can have two: this keeps both
     * rings above from ever holding more than they can. */
    int outstanding;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(struct hl7_listener *l)
{
    char b = 1;
    ssize_t n = write(l->wake[1], &b, 1);
    (void)n; /* a full pipe already wakes the loop */
}

/* ---- workers ------------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct hl7_listener *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->lock);
        while (!l->workers_stop && l->job_count == 0)
            pthread_cond_wait(&l->work, &l->lock);
        if (l->job_count == 0) {
            pthread_mutex_unlock(&l->lock);
            break;
        }
        struct job job = l->jobs[l->job_head];
        l->job_head = (l->job_head + 1) % HL7_QUEUE_MAX;
        l->job_count--;
        pthread_mutex_unlock(&l->lock);

        char request_id[REQUEST_ID_SIZE];
        request_id_new(request_id);
        struct origin from = {
            .transport = "hl7", .request_id = request_id, .client_addr = job.addr, .cfg = l->cfg};
        enum hl7_ack_code code = HL7_AR;
        size_t ack_len = 0, framed_len = 0;
        char *ack = hl7_inbound(job.msg, job.len, &l->cfg->hl7_obx_map, &from, &code, &ack_len);
        free(job.msg);
        char *framed = ack ? mllp_wrap(ack, ack_len, &framed_len) : NULL;
        free(ack);
        db_work_done();

        pthread_mutex_lock(&l->lock);
        /* At most one job per connection is out, so there is always room. */
        l->dones[l->done_count++] =
            (struct done){job.slot, job.gen, framed, framed ? framed_len : 0, (int)code};
        pthread_mutex_unlock(&l->lock);
        wake(l);
    }
    db_close();
    return NULL;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct hl7_listener *l, struct conn *c)
{
    if (c->state == C_FREE)
        return;
    close(c->fd);
    mllp_free(&c->framer);
    free(c->rest);
    free(c->out);
    c->rest = NULL;
    c->out = NULL;
    c->rest_len = c->out_len = c->out_off = 0;
    c->state = C_FREE;
    c->gen++;
    (void)l;
}

static int open_connections(const struct hl7_listener *l)
{
    int n = 0;
    for (int i = 0; i < HL7_MAX_CONNECTIONS; i++)
        n += l->conns[i].state != C_FREE;
    return n;
}

static void start_write(struct hl7_listener *l, struct conn *c, char *framed, size_t len)
{
    (void)l;
    free(c->out);
    c->out = framed;
    c->out_len = len;
    c->out_off = 0;
    c->state = C_WRITING;
    c->since_ms = now_ms();
}

/* Answers AR from this thread (a message not handed to a worker); closes when out of memory. */
static void refuse(struct hl7_listener *l, struct conn *c, const char *why)
{
    size_t ack_len = 0, framed_len = 0;
    char *ack = hl7_inbound_refuse(why, &ack_len);
    char *framed = ack ? mllp_wrap(ack, ack_len, &framed_len) : NULL;
    free(ack);
    metrics_hl7_message(HL7_AR, 0);
    c->frame_started_ms = 0;
    if (!framed) {
        conn_close(l, c);
        return;
    }
    start_write(l, c, framed, framed_len);
}

/* Hands a whole message to the workers. */
static void submit(struct hl7_listener *l, int slot, const char *msg, size_t len)
{
    struct conn *c = &l->conns[slot];
    char *copy = malloc(len + 1);
    if (!copy) {
        conn_close(l, c);
        return;
    }
    memcpy(copy, msg, len);
    copy[len] = '\0';
    pthread_mutex_lock(&l->lock);
    if (l->outstanding >= HL7_QUEUE_MAX) {
        pthread_mutex_unlock(&l->lock);
        free(copy);
        refuse(l, c, "the portal is busy; send the message again");
        return;
    }
    l->outstanding++;
    int at = (l->job_head + l->job_count) % HL7_QUEUE_MAX;
    struct job job = {slot, c->gen, copy, len, ""};
    memcpy(job.addr, c->addr, sizeof(job.addr));
    l->jobs[at] = job;
    l->job_count++;
    pthread_cond_signal(&l->work);
    pthread_mutex_unlock(&l->lock);
    c->state = C_APPLYING;
    c->received_ms = now_ms();
    c->frame_started_ms = 0;
}

/* Feeds bytes to the connection's framer until they run out or a message is whole; what is left
 * behind a message waits in c->rest. */
static void take_bytes(struct hl7_listener *l, int slot, const unsigned char *data, size_t n)
{
    struct conn *c = &l->conns[slot];
    while (n > 0 && c->state == C_READING) {
        size_t used = 0;
        enum mllp_event ev = mllp_feed(&c->framer, data, n, &used);
        data += used;
        n -= used;
        if (ev == MLLP_MORE && n > 0) { /* out of memory */
            conn_close(l, c);
            return;
        }
        if (c->framer.in_frame && !c->frame_started_ms)
            c->frame_started_ms = now_ms();
        if (ev == MLLP_MORE)
            break;
        if (n > 0) {
            unsigned char *rest = malloc(n);
            if (!rest) {
                conn_close(l, c);
                return;
            }
            memcpy(rest, data, n);
            c->rest = rest;
            c->rest_len = n;
            n = 0;
        }
        if (ev == MLLP_MESSAGE) {
            size_t len;
            const char *msg = mllp_message(&c->framer, &len);
            submit(l, slot, msg, len);
        } else { /* MLLP_TOO_LARGE: refused without reading it further than its end */
            log_msg(LOG_WARN, "hl7 from %s: AR, a message over %d bytes", c->addr, HL7_MAX_MESSAGE);
            refuse(l, c, "the message is larger than this receiver accepts");
        }
    }
}

static void on_readable(struct hl7_listener *l, int slot)
{
    struct conn *c = &l->conns[slot];
    ssize_t n = read(c->fd, l->readbuf, READ_CHUNK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(l, c);
        return;
    }
    if (n < 0)
        return;
    c->since_ms = now_ms();
    take_bytes(l, slot, l->readbuf, (size_t)n);
}

static void on_writable(struct hl7_listener *l, int slot)
{
    struct conn *c = &l->conns[slot];
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(l, c);
            return;
        }
        c->out_off += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->state = C_READING;
    c->since_ms = now_ms();
    if (c->rest_len) {
        unsigned char *rest = c->rest;
        size_t len = c->rest_len;
        c->rest = NULL;
        c->rest_len = 0;
        take_bytes(l, slot, rest, len);
        free(rest);
    }
}

static void on_accept(struct hl7_listener *l)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int fd =
            accept4(l->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of descriptors: the next round tries again */
        char addr[ADDR_MAX] = "?";
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, addr, sizeof(addr));
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, addr, sizeof(addr));
        int free_slot = -1, same = 0;
        for (int i = 0; i < HL7_MAX_CONNECTIONS; i++) {
            if (l->conns[i].state == C_FREE) {
                if (free_slot < 0)
                    free_slot = i;
            } else if (strcmp(l->conns[i].addr, addr) == 0) {
                same++;
            }
        }
        if (free_slot < 0 || same >= HL7_MAX_PER_ADDRESS || atomic_load(&l->stopping)) {
            close(fd);
            metrics_hl7_refused();
            continue;
        }
        struct conn *c = &l->conns[free_slot];
        c->fd = fd;
        c->state = C_READING;
        snprintf(c->addr, sizeof(c->addr), "%s", addr);
        mllp_init(&c->framer, HL7_MAX_MESSAGE);
        c->frame_started_ms = 0;
        c->since_ms = now_ms();
    }
}

static void collect_done(struct hl7_listener *l)
{
    char drain[256];
    while (read(l->wake[0], drain, sizeof(drain)) > 0) {
    }
    pthread_mutex_lock(&l->lock);
    struct done list[HL7_QUEUE_MAX];
    int n = l->done_count;
    memcpy(list, l->dones, sizeof(list[0]) * (size_t)n);
    l->done_count = 0;
    l->outstanding -= n;
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < n; i++) {
        struct conn *c = &l->conns[list[i].slot];
        if (c->state != C_APPLYING || c->gen != list[i].gen) {
            free(list[i]
                     .ack); /* the sender left; what it sent was applied or refused all the same */
            continue;
        }
        metrics_hl7_message(list[i].code, (double)(now_ms() - c->received_ms) / 1000.0);
        if (!list[i].ack) {
            conn_close(l, c);
            continue;
        }
        start_write(l, c, list[i].ack, list[i].len);
        on_writable(l, list[i].slot);
    }
}

/* Closes connections past their deadlines; returns the milliseconds until the next one. */
static long long expire(struct hl7_listener *l, long long now)
{
    long long next = 1000;
    long long read_ms = (long long)l->cfg->hl7_read_timeout * 1000;
    for (int i = 0; i < HL7_MAX_CONNECTIONS; i++) {
        struct conn *c = &l->conns[i];
        long long deadline;
        if (c->state == C_READING && c->frame_started_ms)
            deadline = c->frame_started_ms + read_ms;
        else if (c->state == C_READING)
            deadline = c->since_ms + (long long)HL7_IDLE_TIMEOUT_S * 1000;
        else if (c->state == C_WRITING)
            deadline = c->since_ms + (long long)HL7_WRITE_TIMEOUT_S * 1000;
        else
            continue;
        if (now >= deadline) {
            if (c->frame_started_ms)
                log_msg(LOG_WARN, "hl7 from %s: a message stalled for %d s; connection closed",
                        c->addr, l->cfg->hl7_read_timeout);
            metrics_hl7_timed_out();
            conn_close(l, c);
        } else if (deadline - now < next) {
            next = deadline - now;
        }
    }
    return next;
}

static void *io_main(void *arg)
{
    struct hl7_listener *l = arg;
    struct pollfd *fds = calloc(HL7_MAX_CONNECTIONS + 2, sizeof(*fds));
    int *slot_of = calloc(HL7_MAX_CONNECTIONS + 2, sizeof(*slot_of));
    if (!fds || !slot_of) {
        log_msg(LOG_ERROR, "hl7: out of memory; the listener stops");
        free(fds);
        free(slot_of);
        return NULL;
    }
    for (;;) {
        bool stopping = atomic_load(&l->stopping);
        long long now = now_ms();
        if (stopping) {
            if (l->listen_fd >= 0) {
                close(l->listen_fd);
                l->listen_fd = -1;
            }
            bool busy = false;
            for (int i = 0; i < HL7_MAX_CONNECTIONS; i++) {
                if (l->conns[i].state == C_READING)
                    conn_close(l, &l->conns[i]);
                busy |= l->conns[i].state != C_FREE;
            }
            if (!busy || now >= l->stop_deadline_ms)
                break;
        }
        int nfds = 0;
        fds[nfds] = (struct pollfd){l->wake[0], POLLIN, 0};
        slot_of[nfds++] = -1;
        if (l->listen_fd >= 0) {
            fds[nfds] = (struct pollfd){l->listen_fd, POLLIN, 0};
            slot_of[nfds++] = -2;
        }
        for (int i = 0; i < HL7_MAX_CONNECTIONS; i++) {
            struct conn *c = &l->conns[i];
            if (c->state == C_READING)
                fds[nfds] = (struct pollfd){c->fd, POLLIN, 0};
            else if (c->state == C_WRITING)
                fds[nfds] = (struct pollfd){c->fd, POLLOUT, 0};
            else
                continue;
            slot_of[nfds++] = i;
        }
        metrics_hl7_connections(open_connections(l));
        long long timeout = expire(l, now);
        if (poll(fds, (nfds_t)nfds, (int)(timeout < 0 ? 0 : timeout)) < 0 && errno != EINTR) {
            log_msg(LOG_ERROR, "hl7: poll failed (%s); the listener stops", strerror(errno));
            break;
        }
        for (int k = 0; k < nfds; k++) {
            if (!fds[k].revents)
                continue;
            int slot = slot_of[k];
            if (slot == -1)
                collect_done(l);
            else if (slot == -2)
                on_accept(l);
            else if (l->conns[slot].state == C_READING)
                on_readable(l, slot);
            else if (l->conns[slot].state == C_WRITING)
                on_writable(l, slot);
        }
    }
    for (int i = 0; i < HL7_MAX_CONNECTIONS; i++)
        conn_close(l, &l->conns[i]);
    metrics_hl7_connections(0);
    free(fds);
    free(slot_of);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

static int open_listener(struct hl7_listener *l, char *err, size_t errlen)
{
    const struct config *cfg = l->cfg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%d", cfg->hl7_listen_port);
    const char *host =
        strcmp(cfg->hl7_listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->hl7_listen_host;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "PORTAL_HL7_LISTEN host must be a numeric IP address: %s",
                 cfg->hl7_listen_host);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on PORTAL_HL7_LISTEN %s:%d (%s)", cfg->hl7_listen_host,
                 cfg->hl7_listen_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    l->port = cfg->hl7_listen_port;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
        l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                 : ((struct sockaddr_in *)&sa)->sin_port);
    l->listen_fd = fd;
    return 0;
}

/* Tells the workers to finish the queue and stop, and waits for them. */
static void join_workers(struct hl7_listener *l)
{
    pthread_mutex_lock(&l->lock);
    l->workers_stop = true;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < l->nworkers; i++)
        pthread_join(l->workers[i], NULL);
}

/* Frees what start made, once no thread is left. */
static void release(struct hl7_listener *l)
{
    if (l->wake[0] >= 0) {
        close(l->wake[0]);
        close(l->wake[1]);
    }
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->work);
    free(l->readbuf);
    free(l);
}

struct hl7_listener *hl7_listener_start(const struct config *cfg, char *err, size_t errlen)
{
    struct hl7_listener *l = calloc(1, sizeof(*l));
    if (!l || !(l->readbuf = malloc(READ_CHUNK))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->listen_fd = -1;
    l->wake[0] = l->wake[1] = -1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->work, NULL);
    if (open_listener(l, err, errlen) < 0 || pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        if (l->listen_fd >= 0) {
            close(l->listen_fd);
            snprintf(err, errlen, "cannot make the HL7 listener's wake-up pipe");
        }
        goto fail;
    }
    for (int i = 0; i < HL7_WORKERS; i++) {
        if (pthread_create(&l->workers[i], NULL, worker_main, l) != 0)
            break;
        l->nworkers++;
    }
    if (l->nworkers == 0 || pthread_create(&l->io, NULL, io_main, l) != 0) {
        snprintf(err, errlen, "cannot start the HL7 listener's threads");
        join_workers(l);
        close(l->listen_fd);
        goto fail;
    }
    metrics_hl7_connections(0);
    return l;
fail:
    release(l);
    return NULL;
}

int hl7_listener_port(const struct hl7_listener *l)
{
    return l->port;
}

void hl7_listener_stop(struct hl7_listener *l, int grace_ms)
{
    if (!l)
        return;
    l->stop_deadline_ms = now_ms() + grace_ms;
    atomic_store(&l->stopping, true);
    wake(l);
    pthread_join(l->io, NULL);
    join_workers(l);
    /* Jobs no worker took (the grace ran out) and answers nobody will send. */
    for (int i = 0; i < l->job_count; i++)
        free(l->jobs[(l->job_head + i) % HL7_QUEUE_MAX].msg);
    for (int i = 0; i < l->done_count; i++)
        free(l->dones[i].ack);
    release(l);
}
