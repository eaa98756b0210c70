/* Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics. */
#include <jansson.h>

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

int h_metrics(struct req *rq)
{
    size_t len = 0;
    int up = db_ping() ? 1 : 0;
    char *text = metrics_render(&len, up, db_open_connections());
    return req_raw(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
