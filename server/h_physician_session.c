/* Physician sign-in for the web page: physician id and password (set by `portald
 * set-password`), answered with the same session cookie as a patient's, role physician. A wrong
 * id and a wrong password answer alike and cost alike (one argon2id verification either way);
 * failures count against the id and the client address in the database. Tokens from an external
 * identity provider keep working for the API without this. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "physician_account.h"
#include "timefmt.h"
#include "validate.h"

#define FAILURES_PER_ID      5
#define FAILURES_PER_ADDRESS 20
#define THROTTLE_WINDOW      "15 minutes"
#define THROTTLE_LOCK        "15 minutes"
#define THROTTLE_RETRY_AFTER "900"
#define PHYSICIAN_ID_MAX     64
#define KEYS_MAX             (2 * (PHYSICIAN_ID_MAX * 2 + 80))

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

static int audit_login(struct req *rq, const char *action, const char *physician_id)
{
    const char *p[7] = {
        "physician",   physician_id ? physician_id : "-", action, NULL, NULL, rq->client_addr,
        rq->request_id};
    PGresult *r;
    return db_run(rq, Q_AUDIT, 7, p, &r);
}

static int set_cookie(struct req *rq, const char *token, int max_age)
{
    char cookie[8192 + 200];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
             AUTH_COOKIE, token, max_age);
    return req_add_header(rq, "Set-Cookie", cookie);
}

int h_physician_session_create(struct req *rq)
{
    static const char *const fields[] = {"physician_id", "password", NULL};
    struct validation v = {rq, 0};
    v_only(&v, rq->in, "", fields);
    const char *id = v_string(&v, rq->in, "", "physician_id", true, PHYSICIAN_ID_MAX);
    const char *password = v_string(&v, rq->in, "", "password", true, PHYSICIAN_PASSWORD_MAX);
    if (v.status)
        return v.status;

    char keys[KEYS_MAX];
    throttle_keys(keys, sizeof(keys), id, rq->client_addr);
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

    const char *ip[1] = {id};
    PGresult *found;
    if ((s = db_run(rq, Q_PHYSICIAN_LOGIN_LOOKUP, 1, ip, &found)))
        return s;
    const char *hash = PQntuples(found) == 1 ? db_value(found, 0, "password_hash") : NULL;
    const char *known_id = PQntuples(found) == 1 ? db_value(found, 0, "id") : NULL;
    if (!physician_password_verify(hash, password)) {
        char limits[32];
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_ID, FAILURES_PER_ADDRESS);
        const char *fp[4] = {keys, limits, THROTTLE_WINDOW, THROTTLE_LOCK};
        PGresult *r;
        if ((s = db_run(rq, Q_LOGIN_FAILED, 4, fp, &r)) ||
            (s = audit_login(rq, "login.failure", known_id)))
            return s;
        return req_problem(rq, 401, "The physician id and password do not match our records.");
    }

    char id_key[PHYSICIAN_ID_MAX + 8];
    snprintf(id_key, sizeof(id_key), "phys:%s", known_id);
    const char *sp[1] = {id_key};
    PGresult *r;
    if ((s = db_run(rq, Q_LOGIN_SUCCEEDED, 1, sp, &r)) ||
        (s = audit_login(rq, "login.success", known_id)))
        return s;
    long exp = 0;
    char *token = auth_sign(ROLE_PHYSICIAN, known_id, rq->cfg->session_ttl, time(NULL), &exp);
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
