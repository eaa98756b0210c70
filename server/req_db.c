/* Statements run for an HTTP request: the result lives as long as the request, a failure becomes
 * its answer. */
#include "req_db.h"

#include "db.h"
#include "http.h"

int req_run(struct req *rq, enum query q, int nparams, const char *const *params, PGresult **res)
{
    /* Not cleared: it is 2.6 KB, this runs on every page view, and db_exec sets every member a
     * failure is read by (outcome_fail). */
    struct outcome o;
    PGresult *r;
    *res = NULL;
    if (db_exec(q, nparams, params, &r, &o, rq->request_id))
        return req_fail(rq, &o);
    *res = req_keep(rq, r);
    return *res ? 0 : req_problem(rq, 500, "Out of memory.");
}
