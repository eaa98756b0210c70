/* Physician sign-in for the web page: physician id and password (set by `portald
 * set-password`), answered with the same session cookie as a patient's, role physician. A wrong
 * id and a wrong password answer alike and cost alike (one argon2id verification either way);
 * failures count against the id and the client address in the database. Tokens from an external
 * identity provider keep working for the API without this. */
#include <stdio.h>
#include <stdlib.h>
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

_Static_assert(PHYSICIAN_PASSWORD_MAX <= SESSION_SECRET_MAX, "a password fits the check's buffer");

/* One element of a PostgreSQL array literal, quoted; the id may hold any character. */
static void append_element(char *out, size_t cap, const char *prefix, const char *value)
{
    size_t o = strlen(out);
    const char *parts[2] = {prefix, value};
    if (o + 1 < cap)
        out[o++] = '"';
    for (int k = 0; k < 2; k++)
        for (const char *c = parts[k]; *c && o + 3 < cap; c++) {
            if (*c == '"' || *c == '\\')
                out[o++] = '\\';
            out[o++] = *c;
        }
    if (o + 1 < cap)
        out[o++] = '"';
    out[o] = '\0';
}

static void throttle_keys(char *keys, size_t cap, const char *id, const char *addr)
{
    snprintf(keys, cap, "{");
    append_element(keys, cap, "phys:", id);
    strncat(keys, ",", cap - strlen(keys) - 1);
    append_element(keys, cap, "addr:", addr);
    strncat(keys, "}", cap - strlen(keys) - 1);
}

/* What the sign-in carries across its check on the hash pool. */
struct physician_sign_in {
    struct session_check check; /* first: session.c's part */
    const char *known_id;
    char keys[KEYS_MAX];
};

static int physician_sign_in_finish(struct req *rq)
{
    struct physician_sign_in *si = rq->ctx;
    if (!si->check.matched) {
        char limits[32];
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_ID, FAILURES_PER_ADDRESS);
        return session_refuse(rq, ROLE_PHYSICIAN, si->known_id, si->keys, limits,
                              "The physician id and password do not match our records.");
    }
    char id_key[PHYSICIAN_ID_MAX + 8];
    snprintf(id_key, sizeof(id_key), "phys:%s", si->known_id);
    return session_issue(rq, ROLE_PHYSICIAN, si->known_id, id_key);
}

int h_physician_session_create(struct req *rq)
{
    static const char *const fields[] = {"physician_id", "password", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "physician_id", true, PHYSICIAN_ID_MAX);
    const char *password = v_string(&v, rq->in, "", "password", true, PHYSICIAN_PASSWORD_MAX);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    struct physician_sign_in *si = calloc(1, sizeof(*si));
    if (!si)
        return req_problem(rq, 500, "Out of memory.");
    throttle_keys(si->keys, sizeof(si->keys), id, rq->client_addr);
    int s;
    if ((s = session_throttle_check(rq, si->keys))) {
        free(si);
        return s;
    }
    const char *ip[1] = {id};
    PGresult *found;
    if ((s = req_run(rq, Q_PHYSICIAN_LOGIN_LOOKUP, 1, ip, &found))) {
        free(si);
        return s;
    }
    si->check.hash = PQntuples(found) == 1 ? db_value(found, 0, "password_hash") : NULL;
    si->known_id = PQntuples(found) == 1 ? db_value(found, 0, "id") : NULL;
    si->check.len = strlen(password);
    memcpy(si->check.secret, password, si->check.len);
    return session_check_then(rq, si, sizeof(*si), physician_sign_in_finish);
}
