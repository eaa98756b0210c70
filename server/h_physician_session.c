/* Physician sign-in for the web page: physician id and password (set by `portald
 * set-password`), answered with the same session cookie as a patient's, role physician. A wrong
 * id and a wrong password answer alike and cost alike (one argon2id verification either way);
 * failures count against the id and the client address in the database. Tokens from an external
 * identity provider keep working for the API without this. A disabled physician cannot sign in. An
 * invitation from an administrator sets the password the first time (or after a reset). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_code.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "physician_account.h"
#include "secret_hash.h"
#include "session.h"
#include "validate.h"

#define FAILURES_PER_ID      5
#define FAILURES_PER_ADDRESS 20
#define PHYSICIAN_ID_MAX     64
#define KEYS_MAX             (2 * (PHYSICIAN_ID_MAX * 2 + 80))

_Static_assert(PHYSICIAN_PASSWORD_MAX <= SESSION_SECRET_MAX, "a password fits the check's buffer");

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
    session_throttle_keys(si->keys, sizeof(si->keys), "phys:", id, rq->client_addr);
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

/* A physician's invitation (from an administrator, h_staff_physicians.c) used on the physician
 * page to set their own password: the code is checked like an access code (selector, then an
 * argon2id verification that costs the same for an unknown one), failures count against the
 * code's selector and the client address, and the database marks it used once. Both argon2id
 * steps (checking the code, hashing the new password) run on the hash pool. */
struct invitation_use {
    struct session_check check; /* first: the code's verifier against its hash */
    char password[PHYSICIAN_PASSWORD_MAX + 1];
    char new_hash[SECRET_HASH_MAX];
    bool hashed;
    char selector[ACCESS_SELECTOR_LEN + 1];
    char keys[KEYS_MAX];
};

static void wipe_invitation_use(void *state)
{
    explicit_bzero(state, sizeof(struct invitation_use));
    free(state);
}

static void check_code_and_hash(struct req *rq)
{
    struct invitation_use *u = rq->ctx;
    u->check.matched = secret_hash_verify(u->check.hash, u->check.secret, u->check.len);
    u->hashed = u->check.matched && secret_hash(u->password, strlen(u->password), u->new_hash) == 0;
}

static int invitation_finish(struct req *rq)
{
    struct invitation_use *u = rq->ctx;
    if (!u->check.matched) {
        char limits[32];
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_ID, FAILURES_PER_ADDRESS);
        return session_refuse(rq, ROLE_PHYSICIAN, NULL, u->keys, limits,
                              "This invitation code is not valid; check it, or ask for a new one.");
    }
    if (!u->hashed)
        return req_problem(rq, 500, "Hashing the password failed.");
    const char *ap[4] = {u->selector, u->new_hash, rq->request_id, rq->client_addr};
    PGresult *accepted;
    int s = req_run(rq, Q_ACCEPT_INVITATION, 4, ap, &accepted);
    if (s)
        return s;
    return req_json(rq, 200,
                    json_pack("{s:s}", "physician_id", db_value(accepted, 0, "physician_id")));
}

int h_physician_invitation_accept(struct req *rq)
{
    static const char *const fields[] = {"invitation_code", "password", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *typed = v_string(&v, rq->in, "", "invitation_code", true, 64);
    const char *password = v_string(&v, rq->in, "", "password", true, PHYSICIAN_PASSWORD_MAX);
    if (password && strlen(password) < PHYSICIAN_PASSWORD_MIN)
        v_fail(&v, "", "password", "must have at least 12 characters");
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    struct invitation_use *u = calloc(1, sizeof(*u));
    if (!u)
        return req_problem(rq, 500, "Out of memory.");
    char verifier[ACCESS_VERIFIER_LEN + 1] = "";
    bool parsed = access_code_parse(typed, u->selector, verifier);
    session_throttle_keys(u->keys, sizeof(u->keys), "invite:", u->selector, rq->client_addr);
    int s;
    if ((s = session_throttle_check(rq, u->keys))) {
        free(u);
        return s;
    }
    const char *ip[1] = {u->selector};
    PGresult *found;
    if ((s = req_run(rq, Q_INVITATION_LOOKUP, 1, ip, &found))) {
        free(u);
        return s;
    }
    u->check.hash = parsed && PQntuples(found) == 1 ? db_value(found, 0, "verifier_hash") : NULL;
    u->check.len = strlen(verifier);
    memcpy(u->check.secret, verifier, u->check.len);
    explicit_bzero(verifier, sizeof(verifier));
    snprintf(u->password, sizeof(u->password), "%s", password);
    return req_defer(rq, check_code_and_hash, invitation_finish, u, wipe_invitation_use,
                     sign_ins_busy);
}
