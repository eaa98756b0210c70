/* Physician sign-in for the web page: physician id and password (set by `portald
 * set-password`), answered with the same session cookie as a patient's, role physician. A wrong
 * id and a wrong password answer alike and cost alike (one argon2id verification either way);
 * failures count against the id and the client address in the database. Tokens from an external
 * identity provider keep working for the API without this. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "physician_account.h"
#include "session.h"
#include "validate.h"

#define FAILURES_PER_ID      5
#define FAILURES_PER_ADDRESS 20
#define PHYSICIAN_ID_MAX     64
#define KEYS_MAX             (2 * (PHYSICIAN_ID_MAX * 2 + 80))

int h_physician_session_create(struct req *rq)
{
    static const char *const fields[] = {"physician_id", "password", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "physician_id", true, PHYSICIAN_ID_MAX);
    const char *password = v_string(&v, rq->in, "", "password", true, PHYSICIAN_PASSWORD_MAX);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    char keys[KEYS_MAX];
    session_throttle_keys(keys, sizeof(keys), "phys:", id, rq->client_addr);
    int s;
    if ((s = session_throttle_check(rq, keys)))
        return s;

    const char *ip[1] = {id};
    PGresult *found;
    if ((s = req_run(rq, Q_PHYSICIAN_LOGIN_LOOKUP, 1, ip, &found)))
        return s;
    const char *hash = PQntuples(found) == 1 ? db_value(found, 0, "password_hash") : NULL;
    const char *known_id = PQntuples(found) == 1 ? db_value(found, 0, "id") : NULL;
    if (!physician_password_verify(hash, password)) {
        char limits[32];
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_ID, FAILURES_PER_ADDRESS);
        return session_refuse(rq, ROLE_PHYSICIAN, known_id, keys, limits,
                              "The physician id and password do not match our records.");
    }

    char id_key[PHYSICIAN_ID_MAX + 8];
    snprintf(id_key, sizeof(id_key), "phys:%s", known_id);
    return session_issue(rq, ROLE_PHYSICIAN, known_id, id_key);
}
