/* The HTTP server on libmicrohttpd 0.9.75 and the request lifecycle:
 *   first call   - allocate struct req, match the route, refuse an oversized body (413) from
 *                  Content-Length before reading it, authenticate and check the role (a refusal
 *                  of a request announcing a body is answered at once, so an unauthenticated
 *                  client cannot make us read it); never answer otherwise (an answer queued on
 *                  the first call makes 0.9.75 close the connection);
 *   upload calls - collect the body up to the route's limit;
 *   last call    - check the body, run the handler, answer;
 *   completion   - metrics, the access log line, and every resource freed, on success, error and
 *                  client disconnect alike. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "conn_addresses.h"
#include "conn_deadline.h"
#include "db.h"
#include "fhir.h"
#include "fhir_outcome.h"
#include "hash_pool.h"
#include "log.h"
#include "metrics.h"
#include "netaddr.h"
#include "problem.h"
#include "request_id.h"
#include "revocation.h"
#include "static_files.h"

#define LISTEN_BACKLOG 1024
/* The longest a stop waits for the hash pool's queued jobs: a full queue of argon2id hashes. */
#define HASH_DRAIN_MS 30000
/* The chosen language (i18n.h), kept for a year: a language is no secret, so the pages may read
 * it too. */
#define LANG_COOKIE         "portal_lang"
#define LANG_COOKIE_MAX_AGE (365 * 24 * 3600)
/* The request head may fill the connection's memory pool but this much: what libmicrohttpd needs
 * besides the head to answer at all (the answer's own head, the parsed header list). Measured on
 * 0.9.75 at the default 5632 bytes: heads up to ~5.3 KB reach us, a little more is dropped without
 * an answer; refusing from here leaves every refusal a clean 431 of ours. */
#define HEAD_ROOM_FOR_ANSWER 1536

struct http_server {
    struct MHD_Daemon *daemon;
    const struct config *cfg;
    struct conn_deadlines *deadlines;
    struct conn_addresses *addresses; /* NULL: no limit per client address */
    atomic_int in_flight;
    int port;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe);
static void on_mhd_log(void *cls, const char *fmt, va_list ap);
static enum MHD_Result admit_address(void *cls, const struct sockaddr *addr, socklen_t addrlen);
static struct req *req_new(struct http_server *s, struct MHD_Connection *conn, const char *url,
                           const char *method);
static void req_free(struct req *rq);
static void dispatch(struct req *rq);
static void run_deferred(void *arg);
static enum MHD_Result respond(struct req *rq);
static int authenticate(struct req *rq);
static bool announces_body(struct req *rq);
static int refuse_framing(struct req *rq);
static void log_access(const struct req *rq, double seconds, bool aborted);

/* ---- answers ---------------------------------------------------------------------------- */

int req_problem(struct req *rq, int status, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), i18n_text(rq->lang, fmt), ap);
    va_end(ap);
    json_decref(rq->out);
    rq->out = rq->fhir ? fhir_outcome_body(status, detail, rq->request_id)
                       : problem_body(status, detail, rq->request_id, rq->lang);
    rq->out_is_problem = true;
    rq->status = status;
    return status;
}

int req_fail(struct req *rq, const struct outcome *o)
{
    req_problem(rq, o->status ? o->status : 500, "%s", o->detail);
    if (o->kind == FAIL_INVALID && rq->out && rq->fhir) {
        fhir_outcome_add_fields(rq->out, "error", "invalid", &o->fields);
    } else if (o->kind == FAIL_INVALID && rq->out) {
        /* Every field that failed, so a sender can fix them all at once; detail names the first. */
        json_t *list = json_array();
        for (int i = 0; list && i < o->fields.count; i++)
            json_array_append_new(list, json_pack("{s:s, s:s}", "field", o->fields.list[i].field,
                                                  "detail", o->fields.list[i].why));
        json_object_set_new(rq->out, "errors", list);
    }
    return rq->status;
}

int req_invalid(struct req *rq, const struct field_errors *fe)
{
    struct outcome o = {0};
    outcome_invalid(&o, fe);
    return req_fail(rq, &o);
}

int req_json(struct req *rq, int status, json_t *body)
{
    json_decref(rq->out);
    rq->out = body;
    rq->out_is_problem = false;
    rq->status = status;
    if (!body)
        return req_problem(rq, 500, "Out of memory.");
    return status;
}

int req_raw(struct req *rq, int status, const char *content_type, char *buf, size_t len)
{
    free(rq->raw);
    rq->raw = buf;
    rq->raw_len = len;
    rq->raw_type = content_type;
    rq->status = status;
    if (!buf)
        return req_problem(rq, 500, "Out of memory.");
    return status;
}

int req_add_header(struct req *rq, const char *name, const char *value)
{
    if (rq->nheaders >= REQ_MAX_HEADERS)
        return -1;
    char *v = strdup(value);
    if (!v)
        return -1;
    rq->headers[rq->nheaders].name = name;
    rq->headers[rq->nheaders].value = v;
    rq->nheaders++;
    return 0;
}

const char *req_header(struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *req_query(struct req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct query_visit {
    bool (*each)(void *cls, const char *key, const char *value);
    void *cls;
    int visited;
};

static enum MHD_Result visit_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_visit *v = cls;
    v->visited++;
    return v->each(v->cls, key, value) ? MHD_YES : MHD_NO;
}

int req_query_each(struct req *rq, bool (*each)(void *cls, const char *key, const char *value),
                   void *cls)
{
    struct query_visit v = {each, cls, 0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, visit_query, &v);
    return v.visited;
}

struct cookie_search {
    const char *name;
    const char *value;
};

static enum MHD_Result match_cookie(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    struct cookie_search *c = cls;
    if (key && strcmp(key, c->name) == 0) {
        c->value = value ? value : "";
        return MHD_NO;
    }
    return MHD_YES;
}

/* libmicrohttpd's lookup ignores case, but a cookie's name is case-sensitive (RFC 6265 4.1.1,
 * 5.4): PORTAL_SESSION is another cookie than portal_session. */
const char *req_cookie(struct req *rq, const char *name)
{
    struct cookie_search c = {name, NULL};
    MHD_get_connection_values(rq->conn, MHD_COOKIE_KIND, match_cookie, &c);
    return c.value;
}

PGresult *req_keep(struct req *rq, PGresult *res)
{
    if (rq->nresults == rq->results_cap) {
        int cap = rq->results_cap ? rq->results_cap * 2 : 4;
        PGresult **grown = realloc(rq->results, (size_t)cap * sizeof(*grown));
        if (!grown) {
            PQclear(res);
            return NULL;
        }
        rq->results = grown;
        rq->results_cap = cap;
    }
    rq->results[rq->nresults++] = res;
    return res;
}

/* ---- server ----------------------------------------------------------------------------- */

struct http_server *http_start(const struct config *cfg, char *err, size_t errlen)
{
    /* Each connection is a descriptor: allow as many as the hard limit permits. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    const char *host = cfg->listen_host;
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "PORTAL_LISTEN host must be a numeric IP address: %s",
                 cfg->listen_host);
        return NULL;
    }

    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    if (cfg->per_ip_connections > 0 &&
        !(s->addresses = conn_addresses_new((unsigned)cfg->per_ip_connections))) {
        freeaddrinfo(ai);
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->deadlines =
        conn_deadline_start(cfg->head_timeout, cfg->body_timeout, cfg->idle_timeout, s->addresses);
    if (s->addresses && !s->deadlines) {
        freeaddrinfo(ai);
        conn_addresses_free(s->addresses);
        free(s);
        snprintf(err, errlen,
                 "cannot start the connection watch that PORTAL_PER_IP_CONNECTIONS needs");
        return NULL;
    }
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger first: libmicrohttpd warns about any option set before it. */
    s->daemon = MHD_start_daemon(
        flags, 0, s->addresses ? admit_address : NULL, s->addresses, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->connection_memory,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, conn_deadline_notify, s->deadlines, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on PORTAL_LISTEN %s:%d (in use or not permitted)",
                 cfg->listen_host, cfg->listen_port);
        conn_deadline_stop(s->deadlines);
        conn_addresses_free(s->addresses);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->listen_port;
    return s;
}

int http_port(const struct http_server *s)
{
    return s->port;
}

void http_stop(struct http_server *s, int grace_ms)
{
    if (!s)
        return;
    MHD_socket listener = MHD_quiesce_daemon(s->daemon);
    for (int waited = 0; atomic_load(&s->in_flight) > 0 && waited < grace_ms; waited += 10)
        usleep(10 * 1000);
    /* A suspended connection must be resumed before the daemon stops, and a job of the hash pool
     * resumes its connection when done: let the few queued ones finish, whatever the grace. */
    for (int waited = 0; !hash_pool_idle() && waited < HASH_DRAIN_MS; waited += 10)
        usleep(10 * 1000);
    MHD_stop_daemon(s->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    conn_deadline_stop(s->deadlines);
    conn_addresses_free(s->addresses);
    free(s);
}

/* libmicrohttpd's accept policy: a connection over PORTAL_PER_IP_CONNECTIONS is closed unanswered,
 * as libmicrohttpd's own limit did. A flood from one address is logged once a second at most. */
static enum MHD_Result admit_address(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    if (conn_addresses_admit(cls, addr, addrlen))
        return MHD_YES;
    static atomic_llong last_logged;
    long long now = (long long)time(NULL);
    long long last = atomic_load(&last_logged);
    if (now != last && atomic_compare_exchange_strong(&last_logged, &last, now))
        log_msg(LOG_WARN, "http: a client address is at PORTAL_PER_IP_CONNECTIONS; closing its new "
                          "connections unanswered");
    return MHD_NO;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_msg(LOG_WARN, "http: %s", msg);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct req *rq = *con_cls;
    if (!rq) {
        rq = req_new(s, conn, url, method);
        if (!rq)
            return MHD_NO; /* out of memory: drop the connection */
        *con_cls = rq;
        conn_deadline_phase(conn, announces_body(rq) ? CONN_BODY : CONN_ANSWERING);
        /* The head is complete now: refuse what cannot be framed safely before reading on. */
        if (refuse_framing(rq))
            return respond(rq);
        /* Refuse an oversized body before reading any of it; closing the connection is
         * what we want here. */
        const char *cl = req_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
        size_t limit = rq->route ? rq->route->body_limit : 0;
        if (cl && rq->match == ROUTER_FOUND && strtoull(cl, NULL, 10) > limit) {
            req_problem(rq, 413, "The request body is larger than %zu bytes.", limit);
            return respond(rq);
        }
        /* The token and the role are checked before any of the body is read, so a client without
         * them cannot make the server read up to the route's limit. A refused request that
         * announces a body is answered now (and the connection closed with the body unread);
         * one without a body is answered on the last call, keeping its connection. */
        if (rq->match == ROUTER_FOUND && rq->route->roles != ROLE_NONE) {
            rq->authenticated = true;
            if (authenticate(rq) && announces_body(rq))
                return respond(rq);
        }
        rq->seen = true;
        return MHD_YES;
    }

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        size_t limit = rq->route ? rq->route->body_limit : 0;
        if (rq->body_too_large || rq->body_len + n > limit) {
            rq->body_too_large = true;
            free(rq->body);
            rq->body = NULL;
            rq->body_len = rq->body_cap = 0;
            return MHD_YES;
        }
        if (rq->body_len + n + 1 > rq->body_cap) {
            size_t cap = rq->body_cap ? rq->body_cap * 2 : 1024;
            while (cap < rq->body_len + n + 1)
                cap *= 2;
            char *b = realloc(rq->body, cap);
            if (!b)
                return MHD_NO;
            rq->body = b;
            rq->body_cap = cap;
        }
        memcpy(rq->body + rq->body_len, upload_data, n);
        rq->body_len += n;
        rq->body[rq->body_len] = '\0';
        return MHD_YES;
    }

    if (rq->deferred) {
        /* Resumed: the hash pool did the handler's work; its continuation answers. */
        rq->deferred = false;
        rq->status = rq->then(rq);
        if (!rq->out && !rq->raw)
            req_problem(rq, 500, "Internal error; quote request id %s.", rq->request_id);
        db_work_done();
        return respond(rq);
    }
    conn_deadline_phase(conn, CONN_ANSWERING);
    dispatch(rq);
    /* A transaction the handler left open (it failed between BEGIN and COMMIT) ends now, before
     * this thread serves any other connection: the answer is written later, from another round
     * of the event loop, and the completion callback comes later still. */
    db_work_done();
    if (rq->deferred) {
        /* Suspended before the job is queued, so that its resume can never come first. */
        MHD_suspend_connection(conn);
        hash_pool_submit(run_deferred, rq);
        return MHD_YES;
    }
    return respond(rq);
}

static void run_deferred(void *arg)
{
    struct req *rq = arg;
    rq->work(rq);
    MHD_resume_connection(rq->conn);
}

int req_defer(struct req *rq, void (*work)(struct req *rq), int (*then)(struct req *rq), void *ctx,
              void (*ctx_free)(void *ctx), const char *busy_detail)
{
    rq->ctx = ctx;
    rq->ctx_free = ctx_free;
    if (!hash_pool_running()) {
        work(rq);
        return then(rq);
    }
    if (!hash_pool_reserve()) {
        hash_pool_count_refusal();
        if (req_add_header(rq, "Retry-After", "1") < 0)
            return req_problem(rq, 500, "Out of memory.");
        return req_problem(rq, 503, "%s", i18n_text(rq->lang, busy_detail));
    }
    rq->work = work;
    rq->then = then;
    rq->deferred = true;
    return 0;
}

/* Returns whether the peer is one of PORTAL_TRUSTED_PROXIES. */
static bool fill_client_addr(struct req *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    rq->client_addr[0] = '\0';
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  rq->client_addr, sizeof(rq->client_addr));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  rq->client_addr, sizeof(rq->client_addr));
    /* Behind nginx the peer is the proxy: believe its X-Forwarded-For only when the peer is in
     * PORTAL_TRUSTED_PROXIES, so a forged header from anyone else changes nothing. */
    if (rq->cfg->trusted_proxies.count > 0) {
        char peer[sizeof(rq->client_addr)];
        memcpy(peer, rq->client_addr, sizeof(peer));
        netaddr_client(&rq->cfg->trusted_proxies, peer, req_header(rq, "X-Forwarded-For"),
                       rq->client_addr, sizeof(rq->client_addr));
        return netaddr_list_contains(&rq->cfg->trusted_proxies, peer);
    }
    return false;
}

/* Takes X-Request-Id from the proxy when it is a plain token, else makes one. Once
 * PORTAL_TRUSTED_PROXIES is set, only a trusted proxy may name the request: the id goes into the
 * audit log (CONTRACT invariant 4), and a client that picked its own could make its requests
 * share an id with someone else's. */
static void fill_request_id(struct req *rq, bool from_trusted_proxy)
{
    bool may_name = rq->cfg->trusted_proxies.count == 0 || from_trusted_proxy;
    const char *given = may_name ? req_header(rq, "X-Request-Id") : NULL;
    if (request_id_acceptable(given))
        snprintf(rq->request_id, sizeof(rq->request_id), "%s", given);
    else
        request_id_new(rq->request_id);
}

/* The saved choice (the portal_lang cookie, set at sign-in and by the switch), else the best of
 * Accept-Language, else PORTAL_DEFAULT_LANGUAGE. */
static void fill_lang(struct req *rq)
{
    const char *saved = req_cookie(rq, LANG_COOKIE);
    int l = saved && strlen(saved) == 2 ? i18n_lang_of_tag(saved, 2) : -1;
    rq->lang = l >= 0 ? (enum lang)l
                      : i18n_accept_language(req_header(rq, MHD_HTTP_HEADER_ACCEPT_LANGUAGE),
                                             rq->cfg->default_language);
}

int req_set_language_cookie(struct req *rq, enum lang lang)
{
    char cookie[96];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; Secure; SameSite=Strict",
             LANG_COOKIE, i18n_code(lang), LANG_COOKIE_MAX_AGE);
    return req_add_header(rq, "Set-Cookie", cookie);
}

static struct req *req_new(struct http_server *s, struct MHD_Connection *conn, const char *url,
                           const char *method)
{
    struct req *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return NULL;
    atomic_fetch_add(&s->in_flight, 1);
    clock_gettime(CLOCK_MONOTONIC, &rq->started);
    rq->cfg = s->cfg;
    rq->conn = conn;
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    if (strlen(url) >= sizeof(rq->path))
        snprintf(rq->path, sizeof(rq->path), "/(too-long)");
    else
        memcpy(rq->path, url, strlen(url) + 1);
    rq->fhir = strncmp(rq->path, FHIR_BASE_PATH "/", strlen(FHIR_BASE_PATH) + 1) == 0 ||
               strcmp(rq->path, FHIR_BASE_PATH) == 0;
    bool from_trusted_proxy = fill_client_addr(rq);
    fill_request_id(rq, from_trusted_proxy);
    fill_lang(rq);
    char allow[64];
    rq->match = router_match(rq->method, rq->path, &rq->route, rq->id, allow, sizeof(allow));
    if (rq->match == ROUTER_BAD_METHOD && req_add_header(rq, "Allow", allow) < 0)
        rq->match = ROUTER_NOT_FOUND;
    return rq;
}

static void req_free(struct req *rq)
{
    if (rq->ctx_free)
        rq->ctx_free(rq->ctx);
    free(rq->body);
    json_decref(rq->in);
    json_decref(rq->out);
    free(rq->raw);
    for (int i = 0; i < rq->nheaders; i++)
        free(rq->headers[i].value);
    for (int i = 0; i < rq->nresults; i++)
        PQclear(rq->results[i]);
    free(rq->results);
    free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct req *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - rq->started.tv_sec) +
                     (double)(end.tv_nsec - rq->started.tv_nsec) / 1e9;
    bool aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    int route_index = rq->route ? (int)(rq->route - routes) : -1;
    metrics_observe(route_index, rq->status ? rq->status : 499, seconds);
    log_access(rq, seconds, aborted);
    db_work_done();
    if (!aborted)
        conn_deadline_phase(conn, CONN_NEXT_HEAD);
    req_free(rq);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- dispatch --------------------------------------------------------------------------- */

static bool is_state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* A cookie rides along with any request the browser makes, so a write authenticated by cookie
 * must come from our own pages (CSRF). */
static bool origin_allowed(struct req *rq)
{
    const char *origin = req_header(rq, "Origin");
    if (!origin)
        return false;
    if (rq->cfg->public_origin)
        return strcmp(origin, rq->cfg->public_origin) == 0;
    /* Without a configured origin, accept the page's own host as the browser sent it. */
    const char *host = req_header(rq, "Host");
    if (!host)
        return false;
    const char *p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

static int authenticate(struct req *rq)
{
    const char *authz = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *token = NULL;
    if (authz) {
        /* The scheme name is case-insensitive (RFC 9110 11.1). */
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return req_problem(rq, 401, "Use an Authorization: Bearer token.");
        token = authz + 7;
    } else {
        token = req_cookie(rq, AUTH_COOKIE);
        rq->who.via_cookie = token != NULL;
    }
    if (!token || !*token)
        return req_problem(rq, 401, "This endpoint needs a token; sign in first.");
    bool via_cookie = rq->who.via_cookie;
    if (auth_verify(token, time(NULL), &rq->who) != AUTH_OK)
        return req_problem(rq, 401, "The token is invalid or has expired; sign in again.");
    enum revocation_verdict ended = revocation_check(&rq->who, rq->request_id);
    if (ended != REVOCATION_VALID) {
        memset(&rq->who, 0, sizeof(rq->who));
        if (ended == REVOCATION_UNKNOWN)
            return req_problem(rq, 503, "The database is unavailable; try again shortly.");
        return req_problem(rq, 401, "This session has ended; sign in again.");
    }
    rq->who.via_cookie = via_cookie;
    if (!(rq->route->roles & rq->who.role))
        return req_problem(rq, 403, "The %s role may not use this endpoint.",
                           role_name(rq->who.role));
    /* A token with SMART scopes was granted to an app for reading FHIR resources; the JSON API
     * can write (discussion requests, preferences, releases), which no scope grants. */
    if (rq->who.has_scope && !rq->fhir)
        return req_problem(rq, 403, "A token with a scope claim may use the FHIR API (%s) only.",
                           FHIR_BASE_PATH);
    if (rq->who.via_cookie && is_state_changing(rq->method) && !origin_allowed(rq))
        return req_problem(rq, 403, "Cross-site request refused: the Origin is not allowed.");
    return 0;
}

static bool announces_body(struct req *rq)
{
    const char *cl = req_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return req_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strtoull(cl, NULL, 10) > 0);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    if (key && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        (*(int *)cls)++;
    return MHD_YES;
}

/* Request shapes a proxy and we could frame differently (request smuggling, RFC 9112 6.1-6.3),
 * and heads too large to answer from the connection's memory. Each is refused on the first call,
 * which closes the connection with the body unread. libmicrohttpd itself refuses a malformed
 * Content-Length before we are called (its own 400 or 413); nginx refuses those in production. */
static int refuse_framing(struct req *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t head_max = (size_t)rq->cfg->connection_memory - HEAD_ROOM_FOR_ANSWER;
    if (ci && ci->header_size > head_max) {
        /* The room left for this answer was measured in English, without Content-Language. */
        rq->lang = LANG_EN;
        return req_problem(rq, 431, "The request head is larger than %zu bytes.", head_max);
    }
    const char *te = req_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    int lengths = 0;
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_header, &lengths);
    if (te && lengths)
        return req_problem(rq, 400, "Send Content-Length or Transfer-Encoding, not both.");
    if (lengths > 1)
        return req_problem(rq, 400, "Send one Content-Length.");
    if (te && strcasecmp(te, "chunked") != 0)
        return req_problem(rq, 501, "Transfer-Encoding %s is not supported.",
                           strlen(te) < 32 ? te : "(long)");
    /* Bodies are small JSON: a length known up front lets us refuse an oversized one before
     * reading it, and leaves chunk extensions, which libmicrohttpd answers with its own 500 when
     * they outgrow its memory, out of the picture. nginx sends every body with its length. */
    if (te)
        return req_problem(rq, 411, "Send the body with a Content-Length.");
    return 0;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int parse_body(struct req *rq)
{
    if (!is_json_type(req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return req_problem(rq, 415, "Send the body as application/json.");
    if (rq->body_len == 0)
        return req_problem(rq, 400, "A JSON object body is required.");
    json_error_t jerr;
    rq->in = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    /* jansson's message can quote the body, which may be report text: give the place only. */
    if (!rq->in)
        return req_problem(rq, 400, "Malformed JSON at line %d, column %d.", jerr.line,
                           jerr.column);
    if (!json_is_object(rq->in))
        return req_problem(rq, 400, "The body must be a JSON object.");
    return 0;
}

static void dispatch(struct req *rq)
{
    if (rq->match == ROUTER_NOT_FOUND) {
        bool page = (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0) &&
                    strncmp(rq->path, "/api/", 5) != 0 && !rq->fhir;
        if (page && rq->cfg->static_dir && *rq->cfg->static_dir && static_serve(rq))
            return;
        if (rq->fhir)
            req_problem(rq, 404,
                        "No such resource: this server serves Patient, Practitioner, "
                        "ServiceRequest, ImagingStudy and DiagnosticReport (see %s/metadata).",
                        FHIR_BASE_PATH);
        else
            req_problem(rq, 404, "No such resource.");
        return;
    }
    if (rq->match == ROUTER_BAD_METHOD) {
        req_problem(rq, 405, "This resource does not accept %s.", rq->method);
        return;
    }
    if (rq->body_too_large) {
        req_problem(rq, 413, "The request body is larger than %zu bytes.", rq->route->body_limit);
        return;
    }
    /* Authenticated on the first call already; a refusal is the answer. */
    if (rq->route->roles != ROLE_NONE && (rq->authenticated ? rq->status != 0 : authenticate(rq)))
        return;
    if (rq->route->body == BODY_JSON && parse_body(rq))
        return;
    rq->status = rq->route->handler(rq);
    if (!rq->out && !rq->raw && !rq->deferred)
        req_problem(rq, 500, "Internal error; quote request id %s.", rq->request_id);
}

static enum MHD_Result respond(struct req *rq)
{
    struct MHD_Response *resp;
    const char *type;
    if (rq->raw) {
        resp = MHD_create_response_from_buffer(rq->raw_len, rq->raw, MHD_RESPMEM_MUST_FREE);
        if (resp)
            rq->raw = NULL;
        type = rq->raw_type;
    } else {
        if (!rq->out)
            req_problem(rq, 500, "Internal error; quote request id %s.", rq->request_id);
        char *text = rq->out ? json_dumps(rq->out, JSON_COMPACT) : NULL;
        if (!text)
            return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(text);
        type = rq->fhir             ? FHIR_CONTENT_TYPE
               : rq->out_is_problem ? "application/problem+json"
                                    : "application/json";
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Every JSON answer's human texts are in rq->lang; a page file is the same in every language
     * (the pages translate themselves). No Vary: nothing here may be stored (no-store). A 431 has
     * no room to spare (refuse_framing). */
    if ((!rq->raw_type || strcmp(rq->raw_type, "application/json") == 0) && rq->status != 431)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, i18n_code(rq->lang));
    bool has_cache_control = false;
    for (int i = 0; i < rq->nheaders; i++) {
        MHD_add_response_header(resp, rq->headers[i].name, rq->headers[i].value);
        has_cache_control |= strcasecmp(rq->headers[i].name, "Cache-Control") == 0;
    }
    if (!has_cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (rq->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    /* An answer given before the body was read leaves the connection's framing unknown. */
    if (!rq->seen)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void log_access(const struct req *rq, double seconds, bool aborted)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1024];
    size_t len = (size_t)snprintf(
        line, sizeof(line),
        "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"info\",\"msg\":\"request\","
        "\"request_id\":\"%s\",\"method\":\"",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000, rq->request_id);
    len = log_escape(line, len, sizeof(line) - 200, rq->method);
    len += (size_t)snprintf(line + len, sizeof(line) - len, "\",\"route\":\"%s\",\"path\":\"",
                            rq->route ? rq->route->name : "-");
    len = log_escape(line, len, sizeof(line) - 180, rq->path);
    len += (size_t)snprintf(line + len, sizeof(line) - len,
                            "\",\"status\":%d,\"duration_ms\":%.3f,\"client\":\"%s\","
                            "\"role\":\"%s\",\"sub\":\"",
                            rq->status ? rq->status : 499, seconds * 1000.0, rq->client_addr,
                            role_name(rq->who.role));
    len = log_escape(line, len, sizeof(line) - 24, rq->who.sub);
    len += (size_t)snprintf(line + len, sizeof(line) - len, "\"%s}",
                            aborted ? ",\"aborted\":true" : "");
    log_line(line, len < sizeof(line) ? len : sizeof(line) - 1);
}
