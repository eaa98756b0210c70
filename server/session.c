/* Web sign-in sessions: what patient and physician sign-in share. Failures count in the database
 * (portal.login_failed), so the limit holds across restarts and instances; both outcomes are
 * audited; a success answers the token in an HttpOnly cookie and in the body. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "i18n.h"
#include "req_db.h"
#include "revocation.h"
#include "secret_hash.h"
#include "timefmt.h"

#define THROTTLE_WINDOW      "15 minutes"
#define THROTTLE_LOCK        "15 minutes"
#define THROTTLE_RETRY_AFTER "900"

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

void session_throttle_keys(char *keys, size_t cap, const char *prefix, const char *id,
                           const char *addr)
{
    snprintf(keys, cap, "{");
    append_element(keys, cap, prefix, id);
    strncat(keys, ",", cap - strlen(keys) - 1);
    append_element(keys, cap, "addr:", addr);
    strncat(keys, "}", cap - strlen(keys) - 1);
}

static int audit_login(struct req *rq, enum role role, const char *action, const char *sub)
{
    const char *p[7] = {role_name(role), sub ? sub : "-", action, NULL, NULL,
                        rq->client_addr, rq->request_id};
    PGresult *r;
    return req_run(rq, Q_AUDIT, 7, p, &r);
}

int session_set_cookie(struct req *rq, const char *token, int max_age)
{
    char cookie[8192 + 200];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Strict",
             AUTH_COOKIE, token, max_age);
    return req_add_header(rq, "Set-Cookie", cookie);
}

int session_throttle_check(struct req *rq, const char *keys)
{
    const char *p[1] = {keys};
    PGresult *locked;
    int s;
    if ((s = req_run(rq, Q_LOGIN_LOCKED, 1, p, &locked)))
        return s;
    if (strcmp(PQgetvalue(locked, 0, 0), "t") != 0)
        return 0;
    if (req_add_header(rq, "Retry-After", THROTTLE_RETRY_AFTER) < 0)
        return req_problem(rq, 500, "Out of memory.");
    return req_problem(rq, 429, "Too many sign-in attempts; try again in 15 minutes.");
}

int session_refuse(struct req *rq, enum role role, const char *sub, const char *keys,
                   const char *limits, const char *message)
{
    const char *p[4] = {keys, limits, THROTTLE_WINDOW, THROTTLE_LOCK};
    PGresult *r;
    int s;
    if ((s = req_run(rq, Q_LOGIN_FAILED, 4, p, &r)) ||
        (s = audit_login(rq, role, "login.failure", sub)))
        return s;
    return req_problem(rq, 401, "%s", message);
}

int session_issue(struct req *rq, enum role role, const char *sub, const char *success_key)
{
    const char *p[1] = {success_key};
    PGresult *r;
    int s;
    if ((s = req_run(rq, Q_LOGIN_SUCCEEDED, 1, p, &r)) ||
        (s = audit_login(rq, role, "login.success", sub)))
        return s;
    return session_answer(rq, role, sub, rq->cfg->session_ttl);
}

int session_answer(struct req *rq, enum role role, const char *sub, int ttl)
{
    long exp = 0;
    /* Issued no earlier than the person's last revocation, or a sign-in in the same second as a
     * sign-out would make a token that is born ended. */
    char *token = auth_sign(role, sub, ttl, revocation_issue_time(role, sub, time(NULL)), &exp);
    if (!token)
        return req_problem(rq, 500, "Sign-in is not configured (PORTAL_JWT_SECRET).");
    time_t t = (time_t)exp;
    struct tm tm;
    gmtime_r(&t, &tm);
    char expires[TIMEFMT_RFC3339_LEN];
    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *body = json_pack("{s:s, s:s}", "token", token, "expires_at", expires);
    int cookie_rc = session_set_cookie(rq, token, ttl);
    free(token);
    if (cookie_rc < 0) {
        json_decref(body);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_json(rq, 201, body);
}

static void check_secret(struct req *rq)
{
    struct session_check *c = rq->ctx;
    c->matched = secret_hash_verify(c->hash, c->secret, c->len);
}

/* The state holds the typed secret: it is wiped before its memory goes back. */
static void wipe_state(void *state)
{
    struct session_check *c = state;
    explicit_bzero(state, c->state_size);
    free(state);
}

const char sign_ins_busy[] = N_("Too many sign-ins at this moment; try again in a second.");

int session_check_then(struct req *rq, void *state, size_t state_size, int (*then)(struct req *rq))
{
    struct session_check *c = state;
    c->state_size = state_size;
    return req_defer(rq, check_secret, then, state, wipe_state, sign_ins_busy);
}
