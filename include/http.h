/* The HTTP server and the request lifecycle: one struct req per request, created when the URI
 * arrives, freed in the completion callback (which also runs when the client disconnects). */
#ifndef PORTAL_HTTP_H
#define PORTAL_HTTP_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "i18n.h"
#include "outcome.h"
#include "request_id.h"
#include "router.h"

struct MHD_Connection;
struct MHD_Daemon;
struct config;

struct principal {
    enum role role;
    char sub[128];
    long exp;
    long iat; /* LONG_MIN when the token has none */
    bool via_cookie;
    /* A token with a scope claim is a SMART app's (fhir_scope.h): fhir_grants holds what its
     * scopes allow, and it may use the FHIR API only. */
    bool has_scope;
    unsigned fhir_grants;
};

#define REQ_MAX_HEADERS 6

struct req {
    const struct config *cfg;
    struct MHD_Connection *conn;
    const struct route *route;
    enum router_result match;
    char id[ROUTER_MAX_ID]; /* the {id} path segment */
    char method[12];
    char path[256];
    char request_id[REQUEST_ID_SIZE];
    char client_addr[64];
    struct principal who;
    /* The language of every human text in the answer (i18n.h): the portal_lang cookie (the
     * patient's saved choice, or the page's switch), else Accept-Language, else the site's. */
    enum lang lang;
    bool fhir;          /* a /fhir/ path: answers are FHIR JSON, errors OperationOutcomes */
    bool seen;          /* the access handler ran once already */
    bool authenticated; /* the token was checked on the first call (rq->status says how) */
    bool body_too_large;
    char *body;
    size_t body_len;
    size_t body_cap;
    json_t *in; /* parsed JSON body (owned) */
    int status;
    json_t *out; /* JSON answer (owned) */
    bool out_is_problem;
    char *raw; /* non-JSON answer (owned), e.g. metrics text */
    size_t raw_len;
    const char *raw_type;
    struct {
        const char *name;
        char *value; /* owned */
    } headers[REQ_MAX_HEADERS];
    int nheaders;
    /* Work handed to the hash pool (req_defer): run there, then `then` finishes the request on
     * an HTTP thread. ctx is the handler's, freed with the request by ctx_free. */
    bool deferred;
    void (*work)(struct req *rq);
    int (*then)(struct req *rq);
    void *ctx;
    void (*ctx_free)(void *ctx);
    PGresult **results; /* freed with the request */
    int nresults;
    int results_cap;
    struct timespec started;
};

/* Sets a problem+json answer; detail is shown to the client, so it must never hold report text,
 * a token or an access code. fmt is an English msgid: it is translated into the request's language
 * (a new one waits in po/ for translators; docs/languages.md). Returns status, so a handler can
 * `return req_problem(...)`. */
__attribute__((format(printf, 3, 4))) int req_problem(struct req *rq, int status, const char *fmt,
                                                      ...);
/* Sets the problem+json answer for a failure of the core (its status and detail, and for invalid
 * fields an "errors" list of {field, detail}). Returns the status. */
int req_fail(struct req *rq, const struct outcome *o);
/* req_fail for fields a handler found invalid: 422 naming the first. */
int req_invalid(struct req *rq, const struct field_errors *fe);
/* Sets the JSON answer, taking the reference to body. Returns status. */
int req_json(struct req *rq, int status, json_t *body);
/* Sets a non-JSON answer, taking ownership of the malloc'd buf. Returns status. */
int req_raw(struct req *rq, int status, const char *content_type, char *buf, size_t len);
/* Adds a response header (value copied). Returns 0, or -1 when full or out of memory. */
__attribute__((warn_unused_result)) int req_add_header(struct req *rq, const char *name,
                                                       const char *value);
const char *req_header(struct req *rq, const char *name);
const char *req_query(struct req *rq, const char *key);
/* Calls each for every query parameter in the order given (value NULL for "?key"); stops early
 * when each returns false. Returns the number visited. */
int req_query_each(struct req *rq, bool (*each)(void *cls, const char *key, const char *value),
                   void *cls);
const char *req_cookie(struct req *rq, const char *name);
/* Hands slow CPU work (an argon2id hash) to the hash pool, so the HTTP thread goes on serving
 * other connections: the connection is suspended, work(rq) runs on a pool thread, and then(rq)
 * gives the answer on an HTTP thread, as a handler does. ctx (freed with the request by ctx_free,
 * which may be NULL) carries what the three parts share. The handler returns what this returns:
 * 0 when deferred, else the answer's status. Without a running pool (a command, a test) the work
 * runs at once and then(rq) answers. When the pool's queue is full the request is answered 503
 * with Retry-After and busy_detail (translated) at once, and nothing of it is done: work done here
 * instead would hold every other connection of this thread for its tens of milliseconds. */
int req_defer(struct req *rq, void (*work)(struct req *rq), int (*then)(struct req *rq), void *ctx,
              void (*ctx_free)(void *ctx), const char *busy_detail);

/* Sets the portal_lang cookie to lang (the pages read it too, so it is not HttpOnly). Returns 0,
 * or -1 when out of room or memory. */
__attribute__((warn_unused_result)) int req_set_language_cookie(struct req *rq, enum lang lang);
/* Keeps res until the request is freed; returns res (or NULL, having freed it, when memory
 * runs out). */
PGresult *req_keep(struct req *rq, PGresult *res);

struct http_server;

/* Starts listening; returns NULL with a message in err on failure. */
struct http_server *http_start(const struct config *cfg, char *err, size_t errlen);
int http_port(const struct http_server *s);
/* Stops accepting, lets requests in flight finish (up to grace_ms), then closes everything. */
void http_stop(struct http_server *s, int grace_ms);

#endif
