/* Web sign-in sessions shared by patients (h_session.c) and physicians (h_physician_session.c):
 * the failed-sign-in throttle kept in the database, the typed secret checked on the hash pool,
 * and the signed token answered as a cookie. */
#ifndef PORTAL_SESSION_H
#define PORTAL_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "router.h"

struct req;

#define SESSION_SECRET_MAX 256 /* bytes of a secret typed at sign-in (a password, a code) */

/* A secret typed at sign-in, checked against its argon2id hash on the hash pool (hash_pool.h)
 * instead of on an HTTP thread. It is the first member of the handler's own state, so the
 * handler's continuation finds both. */
struct session_check {
    const char *hash; /* the encoded hash (kept with the request), or NULL: nobody by that name */
    char secret[SESSION_SECRET_MAX];
    size_t len;
    bool matched;
    size_t state_size; /* of the handler's whole state, wiped when the request ends */
};

/* What a sign-in hears when the hash pool's queue is full (English; req_defer translates it). */
extern const char sign_ins_busy[];

/* Checks state->check (state is the handler's malloc'd struct, whose first member is a struct
 * session_check) on the hash pool, then then(rq) answers with rq->ctx = state; state is wiped
 * and freed with the request. The handler returns what this returns (0, or 503 when the pool is
 * full). A NULL hash costs the same as a real one (secret_hash_verify). */
int session_check_then(struct req *rq, void *state, size_t state_size, int (*then)(struct req *rq));

/* The throttle keys of a sign-in by id (prefix + id, e.g. "phys:NPI1") and from addr
 * ("addr:" + addr), as a PostgreSQL text[] literal with both quoted. */
void session_throttle_keys(char *keys, size_t cap, const char *prefix, const char *id,
                           const char *addr);
/* Whether any of keys (a PostgreSQL text[] literal, e.g. {"code:X","addr:Y"}) is locked out.
 * Returns 0 when sign-in may go on, else the status with the problem set (429 with Retry-After
 * when locked). */
__attribute__((warn_unused_result)) int session_throttle_check(struct req *rq, const char *keys);
/* Counts a failed sign-in against keys with the matching limits (an integer[] literal), audits
 * login.failure for (role, sub; NULL when nobody matched) and answers 401 with message, which
 * must say the same whichever part was wrong. Returns the status. */
int session_refuse(struct req *rq, enum role role, const char *sub, const char *keys,
                   const char *limits, const char *message);
/* Clears the failures counted against success_key, audits login.success, signs a token for (role,
 * sub) and answers 201 {token, expires_at} with the same token as the session cookie. Returns the
 * status. */
int session_issue(struct req *rq, enum role role, const char *sub, const char *success_key);
/* Signs a token for (role, sub) valid for ttl seconds and answers 201 {token, expires_at} with it
 * as the session cookie, auditing nothing: for a caller that has audited the session itself (a
 * switch between a proxy and the same person's own record, h_session_switch.c). Returns the
 * status. */
int session_answer(struct req *rq, enum role role, const char *sub, int ttl);
/* Adds the Set-Cookie header carrying token for max_age seconds ("" and 0 sign out). Returns 0,
 * or -1 when memory ran out. */
__attribute__((warn_unused_result)) int session_set_cookie(struct req *rq, const char *token,
                                                           int max_age);

#endif
