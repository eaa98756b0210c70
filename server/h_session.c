/* Sign-in with an access code and a birth date, for patients and for proxies (each with their own
 * code, never the patient's), and sign-out. A wrong code and a wrong birth date answer alike, cost
 * alike (an argon2id verification either way, on the hash pool), and count against the code and
 * the client address in the database, so the limit holds across restarts and instances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "access_code.h"
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "revocation.h"
#include "session.h"
#include "validate.h"

#define FAILURES_PER_CODE    5
#define FAILURES_PER_ADDRESS 20

/* What the sign-in carries across its check on the hash pool. */
struct code_sign_in_state {
    struct session_check check; /* first: session.c's part */
    enum role role;
    const char *person_id, *stored_birth, *birth, *language;
    char code_key[32], keys[200], limits[32];
};

static int code_sign_in_finish(struct req *rq)
{
    struct code_sign_in_state *si = rq->ctx;
    const char *stored = si->stored_birth;
    bool birth_ok = stored && strlen(stored) == 10 && strlen(si->birth) == 10;
    unsigned diff = 0;
    for (int i = 0; birth_ok && i < 10; i++)
        diff |= (unsigned)(stored[i] ^ si->birth[i]);
    if (!si->check.matched || !birth_ok || diff)
        return session_refuse(rq, si->role, si->person_id, si->keys, si->limits,
                              "The access code and birth date do not match our records.");
    /* The saved language follows the patient to every browser they sign in on. */
    if (si->language) {
        rq->lang = (enum lang)i18n_lang_of_tag(si->language, strlen(si->language));
        if (req_set_language_cookie(rq, rq->lang) < 0)
            return req_problem(rq, 500, "Out of memory.");
    }
    return session_issue(rq, si->role, si->person_id, si->code_key);
}

/* One code sign-in: lookup finds the person by selector (id, birth_date, access_hash); the code's
 * failures count under prefix, apart for patients and proxies. */
static int code_sign_in(struct req *rq, enum query lookup, enum role role, const char *prefix)
{
    static const char *const fields[] = {"access_code", "birth_date", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *typed = v_string(&v, rq->in, "", "access_code", true, 64);
    const char *birth = v_date(&v, rq->in, "", "birth_date", true);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    struct code_sign_in_state *si = calloc(1, sizeof(*si));
    if (!si)
        return req_problem(rq, 500, "Out of memory.");
    si->role = role;
    char selector[ACCESS_SELECTOR_LEN + 1] = "", verifier[ACCESS_VERIFIER_LEN + 1] = "";
    bool well_formed = access_code_parse(typed, selector, verifier);
    char addr_key[80];
    snprintf(si->code_key, sizeof(si->code_key), "%s:%s", prefix, selector);
    snprintf(addr_key, sizeof(addr_key), "addr:%s", rq->client_addr);

    /* A malformed code names no one, so it counts against the address alone. */
    if (well_formed) {
        snprintf(si->keys, sizeof(si->keys), "{\"%s\",\"%s\"}", si->code_key, addr_key);
        snprintf(si->limits, sizeof(si->limits), "{%d,%d}", FAILURES_PER_CODE,
                 FAILURES_PER_ADDRESS);
    } else {
        snprintf(si->keys, sizeof(si->keys), "{\"%s\"}", addr_key);
        snprintf(si->limits, sizeof(si->limits), "{%d}", FAILURES_PER_ADDRESS);
    }
    int s;
    if ((s = session_throttle_check(rq, si->keys))) {
        free(si);
        return s;
    }
    if (well_formed) {
        const char *p[1] = {selector};
        PGresult *r;
        if ((s = req_run(rq, lookup, 1, p, &r))) {
            free(si);
            return s;
        }
        if (PQntuples(r) == 1) {
            si->person_id = db_value(r, 0, "id");
            si->check.hash = db_value(r, 0, "access_hash");
            si->stored_birth = db_value(r, 0, "birth_date");
            si->language = db_value(r, 0, "language"); /* patients only: NULL for a proxy */
        }
    }
    si->birth = birth;
    const char *secret = well_formed ? verifier : "--------";
    si->check.len = strlen(secret);
    memcpy(si->check.secret, secret, si->check.len);
    explicit_bzero(verifier, sizeof(verifier));
    return session_check_then(rq, si, sizeof(*si), code_sign_in_finish);
}

int h_session_create(struct req *rq)
{
    return code_sign_in(rq, Q_LOGIN_LOOKUP, ROLE_PATIENT, "code");
}

int h_proxy_session_create(struct req *rq)
{
    return code_sign_in(rq, Q_PROXY_LOGIN_LOOKUP, ROLE_PROXY, "proxycode");
}

/* Signs out: every token of the person whose token came with the request ends now, on every
 * instance (revocation.c), and the cookie is cleared. Without a valid token there is no one to
 * sign out, and only the cookie is cleared. */
int h_session_delete(struct req *rq)
{
    const char *authz = req_header(rq, "Authorization");
    const char *token =
        authz && strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7 : req_cookie(rq, AUTH_COOKIE);
    struct principal who;
    if (token && auth_verify(token, time(NULL), &who) == AUTH_OK &&
        revocation_check(&who, rq->request_id) == REVOCATION_VALID) {
        struct outcome o = {0};
        if (revocation_revoke(who.role, who.sub, rq->request_id, &o))
            return req_fail(rq, &o);
    }
    if (session_set_cookie(rq, "", 0) < 0)
        return req_problem(rq, 500, "Out of memory.");
    return req_json(rq, 200, json_pack("{s:s}", "status", "signed_out"));
}
