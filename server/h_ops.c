/* Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "metrics.h"

int h_healthz(struct req *rq)
{
    return req_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}

int h_readyz(struct req *rq)
{
    if (!db_ping())
        return req_problem(rq, 503, "The database is unavailable.");
    return req_json(rq, 200, json_pack("{s:s}", "status", "ready"));
}

/* The counts tell a server's traffic and how many studies are overdue: with
 * PORTAL_METRICS_TOKEN only to a scraper that sends it, else only to this machine (nginx hides the
 * path from the public site; a server reached directly must not tell either). */
static bool metrics_allowed(struct req *rq)
{
    const char *token = rq->cfg->metrics_token;
    if (!token) {
        const char *a = rq->client_addr;
        return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
               strncmp(a, "::ffff:127.", 11) == 0;
    }
    const char *authz = req_header(rq, "Authorization");
    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
        return false;
    size_t n = strlen(token);
    if (strlen(authz + 7) != n)
        return false;
    return CRYPTO_memcmp(authz + 7, token, n) == 0;
}

int h_metrics(struct req *rq)
{
    if (!metrics_allowed(rq))
        return req_problem(rq, 403,
                           "Metrics need the bearer token PORTAL_METRICS_TOKEN names, or "
                           "a client on this machine.");
    size_t len = 0;
    int up = db_ping() ? 1 : 0;
    char *text = metrics_render(&len, up, db_open_connections());
    return req_raw(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
