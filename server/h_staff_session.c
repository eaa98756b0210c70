/* Staff sign-in for sites without an identity provider: id, password and a TOTP code (RFC 6238,
 * server/totp.c), answered with the same session cookie as the other sign-ins, with the account's
 * role (staff or admin). A wrong id, a wrong password, a wrong or reused code and a disabled
 * account answer alike, after the same argon2id verification (on the hash pool); failures count
 * against the id and the client address (server/session.c). A code is accepted once: its time step
 * is recorded in the same statement that checks it is later than the last one. Sites with an
 * identity provider need none of this: its tokens with role staff or admin are accepted as they are
 * (server/auth.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "session.h"
#include "staff_account.h"
#include "totp.h"
#include "validate.h"

#define FAILURES_PER_ID      5
#define FAILURES_PER_ADDRESS 20
#define KEYS_MAX             (2 * (STAFF_ID_MAX * 2 + 80))
#define REFUSAL              "The id, password and code do not match our records."

_Static_assert(STAFF_PASSWORD_MAX <= SESSION_SECRET_MAX, "a password fits the check's buffer");

/* What the sign-in carries across its password check on the hash pool. */
struct staff_sign_in {
    struct session_check check; /* first: session.c's part */
    PGresult *found;            /* the account's row (kept with the request), or no row */
    const char *code;
    char keys[KEYS_MAX];
};

static int staff_sign_in_finish(struct req *rq)
{
    struct staff_sign_in *si = rq->ctx;
    PGresult *found = si->found;
    bool one = PQntuples(found) == 1;
    const char *known_id = one ? db_value(found, 0, "id") : NULL;
    int64_t step = -1;
    int s;
    if (si->check.matched && strcmp(db_value(found, 0, "disabled"), "f") == 0) {
        long long last = 0;
        sscanf(db_value(found, 0, "totp_last_step"), "%lld", &last);
        step = totp_check(db_value(found, 0, "totp_secret"), si->code, time(NULL), (int64_t)last);
    }
    if (step >= 0) {
        char step_text[24];
        snprintf(step_text, sizeof(step_text), "%lld", (long long)step);
        const char *up[2] = {known_id, step_text};
        PGresult *used;
        if ((s = req_run(rq, Q_STAFF_TOTP_USE, 2, up, &used)))
            return s;
        if (PQntuples(used) != 1)
            step = -1; /* the same code, accepted a moment ago by another request */
    }
    enum role role =
        one && strcmp(db_value(found, 0, "role"), "admin") == 0 ? ROLE_ADMIN : ROLE_STAFF;
    if (step < 0) {
        char limits[32];
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_ID, FAILURES_PER_ADDRESS);
        return session_refuse(rq, role, known_id, si->keys, limits, REFUSAL);
    }
    char id_key[STAFF_ID_MAX + 8];
    snprintf(id_key, sizeof(id_key), "staff:%s", known_id);
    return session_issue(rq, role, known_id, id_key);
}

int h_staff_session_create(struct req *rq)
{
    static const char *const fields[] = {"id", "password", "code", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "id", true, STAFF_ID_MAX);
    const char *password = v_string(&v, rq->in, "", "password", true, STAFF_PASSWORD_MAX);
    const char *code = v_string(&v, rq->in, "", "code", true, 16);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    struct staff_sign_in *si = calloc(1, sizeof(*si));
    if (!si)
        return req_problem(rq, 500, "Out of memory.");
    session_throttle_keys(si->keys, sizeof(si->keys), "staff:", id, rq->client_addr);
    int s;
    if ((s = session_throttle_check(rq, si->keys))) {
        free(si);
        return s;
    }
    const char *ip[1] = {id};
    if ((s = req_run(rq, Q_STAFF_LOGIN_LOOKUP, 1, ip, &si->found))) {
        free(si);
        return s;
    }
    si->check.hash = PQntuples(si->found) == 1 ? db_value(si->found, 0, "password_hash") : NULL;
    si->code = code;
    si->check.len = strlen(password);
    memcpy(si->check.secret, password, si->check.len);
    return session_check_then(rq, si, sizeof(*si), staff_sign_in_finish);
}

/* Who the session's token names, for the staff page to show what the role may do. */
int h_staff_me(struct req *rq)
{
    return req_json(rq, 200,
                    json_pack("{s:s, s:s}", "role", role_name(rq->who.role), "sub", rq->who.sub));
}
