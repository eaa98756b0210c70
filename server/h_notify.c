/* Notifications over HTTP (docs/notifications.md): the patient's contact details and how they
 * want to be told, the physician's digest choice, the one-click unsubscribe link of every email
 * (RFC 8058), and the admin's list of failed and waiting messages (states and classes, never an
 * address or a word of a message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "notify_smtp.h"
#include "req_db.h"
#include "timefmt.h"
#include "validate.h"

#define EMAIL_MAX     254
#define PHONE_MAX     40
#define TIME_ZONE_MAX 64

/* An optional member that may be null (clears the value): its string, or NULL. */
static const char *nullable_string(struct validation *v, json_t *in, const char *key, size_t max)
{
    json_t *j = json_object_get(in, key);
    if (!j || json_is_null(j))
        return NULL;
    return v_string(v, in, "", key, false, max);
}

/* A phone number as people write it: digits with + ( ) - . and spaces, at least 3 digits. */
static bool phone_ok(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr("+()-. ", *p))
            return false;
    }
    return digits >= 3;
}

static json_t *contact_body(const PGresult *res)
{
    json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:s?}", "email", db_value(res, 0, "email"),
                          "email_source", db_value(res, 0, "email_source"), "phone",
                          db_value(res, 0, "phone"), "phone_source",
                          db_value(res, 0, "phone_source"), "channel", db_value(res, 0, "channel"),
                          "time_zone", db_value(res, 0, "time_zone"));
    if (o)
        timefmt_json_set(o, "updated_at", db_value(res, 0, "updated_at"));
    return o;
}

int h_patient_contact_get(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PATIENT_CONTACT, 1, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such patient.");
    return req_json(rq, 200, contact_body(res));
}

/* The contact details of patient_id from the body, corrected by the patient themselves or, with
 * staff true, by the front desk for them (audited under the staff member's name, with the values
 * before and after). */
static int contact_put(struct req *rq, const char *patient_id, bool staff)
{
    static const char *const fields[] = {"email", "phone", "channel", "time_zone", NULL};
    static const char *const channels[] = {"email", "text", "both", "none", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *channel = v_choice(&v, rq->in, "", "channel", true, channels);
    const char *email = nullable_string(&v, rq->in, "email", EMAIL_MAX);
    const char *phone = nullable_string(&v, rq->in, "phone", PHONE_MAX);
    const char *zone = nullable_string(&v, rq->in, "time_zone", TIME_ZONE_MAX);
    if (email && !notify_smtp_address_ok(email))
        v_fail(&v, "", "email", "must be an email address such as name@example.org");
    if (phone && !phone_ok(phone))
        v_fail(&v, "", "phone", "must be a phone number: digits, spaces and + ( ) - .");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    PGresult *res;
    int s;
    if (staff) {
        const char *p[9] = {patient_id,  email,          phone,
                            channel,     zone,           role_name(rq->who.role),
                            rq->who.sub, rq->request_id, rq->client_addr};
        s = req_run(rq, Q_STAFF_SET_PATIENT_CONTACT, 9, p, &res);
    } else {
        const char *p[7] = {patient_id, email,          phone,          channel,
                            zone,       rq->request_id, rq->client_addr};
        s = req_run(rq, Q_SET_PATIENT_CONTACT, 7, p, &res);
    }
    if (s)
        return s;
    return req_json(rq, 200, contact_body(res));
}

int h_patient_contact_put(struct req *rq)
{
    return contact_put(rq, rq->who.sub, false);
}

int h_staff_patient_contact_put(struct req *rq)
{
    return contact_put(rq, rq->id, true);
}

int h_physician_notifications_put(struct req *rq)
{
    static const char *const fields[] = {"digest", "email", NULL};
    static const char *const digests[] = {"immediate", "daily", "none", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *digest = v_choice(&v, rq->in, "", "digest", true, digests);
    const char *email = nullable_string(&v, rq->in, "email", EMAIL_MAX);
    if (email && !notify_smtp_address_ok(email))
        v_fail(&v, "", "email", "must be an email address such as name@example.org");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[5] = {rq->who.sub, digest, email, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SET_PHYSICIAN_NOTIFICATIONS, 5, p, &res)))
        return s;
    return req_json(rq, 200,
                    json_pack("{s:s, s:s?}", "digest", db_value(res, 0, "digest"), "email",
                              db_value(res, 0, "email")));
}

/* RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the link; the key in the path
 * is the whole credential, and it can only turn messages off. */
int h_notify_unsubscribe(struct req *rq)
{
    const char *p[3] = {rq->id, rq->request_id, rq->client_addr};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_NOTIFY_UNSUBSCRIBE, 3, p, &res)))
        return s;
    return req_json(rq, 200, json_pack("{s:s}", "status", "unsubscribed"));
}

int h_admin_notifications(struct req *rq)
{
    const char *state = req_query(rq, "state");
    const char *states = "{failed,waiting,sending}";
    if (state && strcmp(state, "failed") == 0)
        states = "{failed}";
    else if (state && strcmp(state, "waiting") == 0)
        states = "{waiting,sending}";
    else if (state && strcmp(state, "all") != 0 && strcmp(state, "open") != 0)
        return req_problem(rq, 422, "state: must be failed, waiting, open or all");
    else if (state && strcmp(state, "all") == 0)
        states = "{failed,waiting,sending,sent,cancelled}";
    const char *p[1] = {states};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_ADMIN_NOTIFICATIONS, 1, p, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s?}", "id", db_value(res, i, "id"),
                      "message_id", db_value(res, i, "message_id"), "kind",
                      db_value(res, i, "kind"), "channel", db_value(res, i, "channel"), "audience",
                      db_value(res, i, "audience"), "state", db_value(res, i, "state"), "attempts",
                      atoi(db_value(res, i, "attempts")), "failure", db_value(res, i, "failure"));
        if (e) {
            timefmt_json_set(e, "due_at", db_value(res, i, "due_at"));
            timefmt_json_set(e, "created_at", db_value(res, i, "created_at"));
            timefmt_json_set(e, "ended_at", db_value(res, i, "ended_at"));
        }
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "messages", items) : NULL);
}
