/* Patient sign-in with access code and birth date, and sign-out. A wrong code and a wrong birth
 * date answer alike, cost alike (an argon2id verification either way), and count against the
 * code and the client address in the database, so the limit holds across restarts and
 * instances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access_code.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "timefmt.h"
#include "validate.h"

#define FAILURES_PER_CODE    5
#define FAILURES_PER_ADDRESS 20
#define THROTTLE_WINDOW      "15 minutes"
#define THROTTLE_LOCK        "15 minutes"
#define THROTTLE_RETRY_AFTER "900"

static int audit_login(struct req *rq, const char *action, const char *patient_id)
{
    const char *p[7] = {
        "patient",     patient_id ? patient_id : "-", action, NULL, NULL, rq->client_addr,
        rq->request_id};
    PGresult *r;
    return db_run(rq, Q_AUDIT, 7, p, &r);
}

static int refuse(struct req *rq, const char *code_key, const char *addr_key,
                  const char *patient_id)
{
    /* A malformed code names no patient, so it counts against the address alone. */
    char keys[200], limits[32];
    if (code_key) {
        snprintf(keys, sizeof(keys), "{\"%s\",\"%s\"}", code_key, addr_key);
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_CODE, FAILURES_PER_ADDRESS);
    } else {
        snprintf(keys, sizeof(keys), "{\"%s\"}", addr_key);
        snprintf(limits, sizeof(limits), "{%d}", FAILURES_PER_ADDRESS);
    }
    const char *p[4] = {keys, limits, THROTTLE_WINDOW, THROTTLE_LOCK};
    PGresult *r;
    int s;
    if ((s = db_run(rq, Q_LOGIN_FAILED, 4, p, &r)) ||
        (s = audit_login(rq, "login.failure", patient_id)))
        return s;
    return req_problem(rq, 401, "The access code and birth date do not match our records.");
}

static int set_cookie(struct req *rq, const char *token, int max_age)
{
    char cookie[8192 + 200];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
             AUTH_COOKIE, token, max_age);
    return req_add_header(rq, "Set-Cookie", cookie);
}

int h_session_create(struct req *rq)
{
    static const char *const fields[] = {"access_code", "birth_date", NULL};
    struct validation v = {rq, 0};
    v_only(&v, rq->in, "", fields);
    const char *typed = v_string(&v, rq->in, "", "access_code", true, 64);
    const char *birth = v_date(&v, rq->in, "", "birth_date", true);
    if (v.status)
        return v.status;

    char selector[ACCESS_SELECTOR_LEN + 1] = "", verifier[ACCESS_VERIFIER_LEN + 1] = "";
    bool well_formed = access_code_parse(typed, selector, verifier);
    char code_key[32], addr_key[80];
    snprintf(code_key, sizeof(code_key), "code:%s", selector);
    snprintf(addr_key, sizeof(addr_key), "addr:%s", rq->client_addr);

    char keys[200];
    if (well_formed)
        snprintf(keys, sizeof(keys), "{\"%s\",\"%s\"}", code_key, addr_key);
    else
        snprintf(keys, sizeof(keys), "{\"%s\"}", addr_key);
    const char *lp[1] = {keys};
    PGresult *locked;
    int s;
    if ((s = db_run(rq, Q_LOGIN_LOCKED, 1, lp, &locked)))
        return s;
    if (strcmp(PQgetvalue(locked, 0, 0), "t") == 0) {
        if (req_add_header(rq, "Retry-After", THROTTLE_RETRY_AFTER) < 0)
            return req_problem(rq, 500, "Out of memory.");
        return req_problem(rq, 429, "Too many sign-in attempts; try again in 15 minutes.");
    }

    const char *patient_id = NULL, *hash = NULL, *stored_birth = NULL;
    if (well_formed) {
        const char *p[1] = {selector};
        PGresult *r;
        if ((s = db_run(rq, Q_LOGIN_LOOKUP, 1, p, &r)))
            return s;
        if (PQntuples(r) == 1) {
            patient_id = db_value(r, 0, "id");
            hash = db_value(r, 0, "access_hash");
            stored_birth = db_value(r, 0, "birth_date");
        }
    }
    bool code_ok = access_code_verify(hash, well_formed ? verifier : "--------");
    bool birth_ok = stored_birth && strlen(stored_birth) == 10 && strlen(birth) == 10;
    unsigned diff = 0;
    for (int i = 0; birth_ok && i < 10; i++)
        diff |= (unsigned)(stored_birth[i] ^ birth[i]);
    if (!code_ok || !birth_ok || diff)
        return refuse(rq, well_formed ? code_key : NULL, addr_key, patient_id);

    const char *sp[1] = {code_key};
    PGresult *r;
    if ((s = db_run(rq, Q_LOGIN_SUCCEEDED, 1, sp, &r)) ||
        (s = audit_login(rq, "login.success", patient_id)))
        return s;
    long exp = 0;
    char *token = auth_sign(ROLE_PATIENT, patient_id, rq->cfg->session_ttl, time(NULL), &exp);
    if (!token)
        return req_problem(rq, 500, "Sign-in is not configured (PORTAL_JWT_SECRET).");
    time_t t = (time_t)exp;
    struct tm tm;
    gmtime_r(&t, &tm);
    char expires[TIMEFMT_RFC3339_LEN];
    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *body = json_pack("{s:s, s:s}", "token", token, "expires_at", expires);
    int cookie_rc = set_cookie(rq, token, rq->cfg->session_ttl);
    free(token);
    if (cookie_rc < 0) {
        json_decref(body);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_json(rq, 201, body);
}

int h_session_delete(struct req *rq)
{
    if (set_cookie(rq, "", 0) < 0)
        return req_problem(rq, 500, "Out of memory.");
    return req_json(rq, 200, json_pack("{s:s}", "status", "signed_out"));
}
