/* The adult patient's view of their proxies: who may act for them, of what kind and until when,
 * and ending any link (proxy.c; the database checks the link is theirs, so another patient's
 * link answers 404 like a missing one). */
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "origin.h"
#include "proxy.h"
#include "req_db.h"
#include "timefmt.h"

int h_patient_proxies(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PATIENT_PROXIES, 1, p, &res)))
        return s;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:b}", "id", db_value(res, i, "link_id"), "name",
                              db_value(res, i, "proxy_name"), "kind", db_value(res, i, "kind"),
                              "active", strcmp(db_value(res, i, "active"), "t") == 0);
        if (!e || timefmt_json_set(e, "starts_at", db_value(res, i, "starts_at")) < 0 ||
            timefmt_json_set(e, "ends_at", db_value(res, i, "ends_at")) < 0 ||
            timefmt_json_set(e, "ended_at", db_value(res, i, "ended_at")) < 0 ||
            json_array_append_new(list, e) < 0) {
            json_decref(e);
            json_decref(list);
            list = NULL;
        }
    }
    return req_json(rq, 200, list ? json_pack("{s:o}", "proxies", list) : NULL);
}

int h_patient_proxy_end(struct req *rq)
{
    struct origin from = {.transport = "http",
                          .request_id = rq->request_id,
                          .client_addr = rq->client_addr,
                          .cfg = rq->cfg,
                          .actor_role = "patient",
                          .actor_id = rq->who.sub};
    struct outcome o = {0};
    if (proxy_link_end(rq->id, rq->who.sub, &from, &o))
        return req_fail(rq, &o);
    return req_json(rq, 200, json_pack("{s:s, s:s}", "id", rq->id, "status", "ended"));
}
