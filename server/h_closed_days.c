/* The site's calendar of closed days (public holidays), kept by administrators: the estimates
 * treat a closed day as a Sunday (docs/estimates.md, "Closed days"), so a patient waiting before a
 * holiday is not promised a result on it. The SQL writes, audits and brings the estimates' clocks
 * up to date in the same transaction (sql/definitions/85_staff.sql). */
#include <jansson.h>
#include <string.h>

#include "db.h"
#include "fields.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "timefmt.h"
#include "validate.h"

#define CLOSED_DAY_NOTE_MAX 200

/* Characters, as the table's check and the form count them: UTF-8 continuation bytes are not. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static json_t *closed_day_json(PGresult *res, int i)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "day", db_value(res, i, "day"), "note",
                          db_value(res, i, "note"), "added_by", db_value(res, i, "added_by"));
    if (e)
        timefmt_json_set(e, "added_at", db_value(res, i, "added_at"));
    return e;
}

int h_admin_closed_days(struct req *rq)
{
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_CLOSED_DAYS, 0, NULL, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e = closed_day_json(res, i);
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "closed_days", items) : NULL);
}

int h_admin_closed_day_put(struct req *rq)
{
    static const char *const fields[] = {"day", "note", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *day = v_date(&v, rq->in, "", "day", true);
    const char *note = "";
    json_t *n = json_object_get(rq->in, "note");
    if (n && !json_is_string(n))
        v_fail(&v, "", "note", "must be a string");
    else if (n && utf8_length(json_string_value(n)) > CLOSED_DAY_NOTE_MAX)
        v_fail(&v, "", "note", "must be at most 200 characters");
    else if (n)
        note = json_string_value(n);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[6] = {day,         note,           role_name(rq->who.role),
                        rq->who.sub, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SET_CLOSED_DAY, 6, p, &res)))
        return s;
    return req_json(rq, 200, closed_day_json(res, 0));
}

int h_admin_closed_day_delete(struct req *rq)
{
    struct field_errors fe = {0};
    if (!field_date(&fe, "", "day", rq->id))
        return req_invalid(rq, &fe);
    const char *p[5] = {rq->id, role_name(rq->who.role), rq->who.sub, rq->request_id,
                        rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_REMOVE_CLOSED_DAY, 5, p, &res)))
        return s;
    if (strcmp(db_value(res, 0, "removed"), "true") != 0)
        return req_problem(rq, 404, "That day is not marked closed.");
    return req_json(rq, 200, json_pack("{s:s, s:b}", "day", rq->id, "closed", 0));
}
