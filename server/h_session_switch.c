/* A proxy who is also a patient (issue 16) switches between the people they follow and their own
 * record with one sign-in: a signed-in session of one identity answers a new session of the
 * other, with the same token and cookie as a sign-in. Each token keeps one role, so every audit
 * row says in which role the person acted; the switch itself is audited by
 * portal.session_switch (sql/definitions/66_same_person.sql). The new session ends no later than
 * the one it came from: switching back and forth never makes a sign-in last longer. */
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "i18n.h"
#include "req_db.h"
#include "session.h"

/* Answers {available}: whether the signed-in person has another identity to switch to. */
static int answer_available(struct req *rq)
{
    const char *p[2] = {role_name(rq->who.role), rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SAME_PERSON, 2, p, &res)))
        return s;
    return req_json(rq, 200, json_pack("{s:b}", "available", PQntuples(res) > 0));
}

/* 0 with res holding the identity switched to, 1 when there is none, or an error status. */
static int switch_identity(struct req *rq, PGresult **res)
{
    const char *p[4] = {role_name(rq->who.role), rq->who.sub, rq->request_id, rq->client_addr};
    int s;
    if ((s = req_run(rq, Q_SESSION_SWITCH, 4, p, res)))
        return s;
    return PQntuples(*res) == 1 ? 0 : 1;
}

static int answer_session(struct req *rq, PGresult *res)
{
    long left = rq->who.exp - (long)time(NULL);
    int ttl = left < rq->cfg->session_ttl ? (int)left : rq->cfg->session_ttl;
    if (ttl <= 0)
        return req_problem(
            rq, 401, "For your safety you were signed out. Please sign in again to continue.");
    /* The patient's saved language follows them into their own record, as at sign-in. */
    const char *language = db_value(res, 0, "language");
    if (language) {
        rq->lang = (enum lang)i18n_lang_of_tag(language, strlen(language));
        if (req_set_language_cookie(rq, rq->lang) < 0)
            return req_problem(rq, 500, "Out of memory.");
    }
    return session_answer(rq, role_from_name(db_value(res, 0, "role")), db_value(res, 0, "sub"),
                          ttl);
}

int h_proxy_own_record_get(struct req *rq)
{
    return answer_available(rq);
}

int h_proxy_own_record(struct req *rq)
{
    PGresult *res;
    int s = switch_identity(rq, &res);
    if (s == 1)
        return req_problem(rq, 404,
                           "You have no record of your own here: the clinic has not recorded you "
                           "as one of its patients.");
    if (s)
        return s;
    return answer_session(rq, res);
}

int h_patient_family_access_get(struct req *rq)
{
    return answer_available(rq);
}

int h_patient_family_access(struct req *rq)
{
    PGresult *res;
    int s = switch_identity(rq, &res);
    if (s == 1)
        return req_problem(rq, 404,
                           "You have no family access here: the clinic has not recorded you as "
                           "following anyone's results.");
    if (s)
        return s;
    return answer_session(rq, res);
}
