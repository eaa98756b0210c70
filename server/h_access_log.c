/* "Who has seen my record" (issue 16): the reads of and actions on a patient's reports, for the
 * patient, and for a proxy only as guardian of a child below the confidentiality age. Rows come
 * from portal.patient_access_log and portal.proxy_access_log (sql/definitions/67_access_log.sql),
 * which give only that patient's rows and only what a patient may see. Newest first; `next` is
 * the cursor for the following page (?before=), null on the last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "timefmt.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX     100

/* Reads ?before= and ?limit=; limit is one more than the page so the next page is known. Returns
 * 0, or 422 with the problem set. */
static int page_args(struct req *rq, char before[24], char limit[8], int *page)
{
    const char *b = req_query(rq, "before");
    const char *l = req_query(rq, "limit");
    before[0] = '\0';
    if (b) {
        char *end;
        long long v = strtoll(b, &end, 10);
        if (!*b || *end || v <= 0 || strlen(b) > 18)
            return req_problem(rq, 422, "before: must be the next value of an earlier page");
        snprintf(before, 24, "%lld", v);
    }
    *page = PAGE_DEFAULT;
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > PAGE_MAX)
            return req_problem(rq, 422, "limit: must be a whole number from 1 to 100");
        *page = (int)v;
    }
    snprintf(limit, 8, "%d", *page + 1);
    return 0;
}

static int answer(struct req *rq, const PGresult *res, int page)
{
    int n = PQntuples(res);
    json_t *entries = json_array();
    for (int i = 0; entries && i < n && i < page; i++) {
        json_t *e = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s}", "action", db_value(res, i, "action"), "actor",
            db_value(res, i, "actor"), "actor_kind", db_value(res, i, "actor_kind"), "study_id",
            db_value(res, i, "study_id"), "accession", db_value(res, i, "accession"), "description",
            db_value(res, i, "description"));
        if (!e || timefmt_json_set(e, "at", db_value(res, i, "at")) < 0 ||
            json_array_append_new(entries, e) < 0) {
            json_decref(e);
            json_decref(entries);
            entries = NULL;
        }
    }
    json_t *next = n > page ? json_string(db_value(res, page - 1, "id")) : json_null();
    return req_json(rq, 200,
                    entries ? json_pack("{s:o, s:o}", "entries", entries, "next", next) : NULL);
}

int h_patient_access_log(struct req *rq)
{
    char before[24], limit[8];
    int page, s;
    if ((s = page_args(rq, before, limit, &page)))
        return s;
    const char *p[3] = {rq->who.sub, before[0] ? before : NULL, limit};
    PGresult *res;
    if ((s = req_run(rq, Q_PATIENT_ACCESS_LOG, 3, p, &res)))
        return s;
    return answer(rq, res, page);
}

int h_proxy_access_log(struct req *rq)
{
    char before[24], limit[8];
    int page, s;
    if ((s = page_args(rq, before, limit, &page)))
        return s;
    const char *p[4] = {rq->who.sub, rq->id, before[0] ? before : NULL, limit};
    PGresult *res;
    if ((s = req_run(rq, Q_PROXY_ACCESS_LOG, 4, p, &res)))
        return s;
    return answer(rq, res, page);
}
