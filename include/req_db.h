/* The HTTP adapter of the database core: runs a statement for a request, keeps the result until
 * the request is freed, and turns a failure into the request's problem+json answer. */
#ifndef PORTAL_REQ_DB_H
#define PORTAL_REQ_DB_H

#include <libpq-fe.h>

#include "queries.h"

struct req;

/* db_exec for rq: returns 0 with *res kept by the request, or the status with the problem set. */
__attribute__((warn_unused_result)) int req_run(struct req *rq, enum query q, int nparams,
                                                const char *const *params, PGresult **res);

#endif
