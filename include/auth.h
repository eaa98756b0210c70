/* Token verification and signing. The accepted algorithms come from configuration, never from
 * the token: HS256 with PORTAL_JWT_SECRET (and PORTAL_JWT_PREVIOUS_SECRET during a rotation),
 * and RS256 or ES256 with PORTAL_JWT_PUBLIC_KEY_FILE. libjwt 1.10 checks only the signature, so
 * every claim is checked here. */
#ifndef PORTAL_AUTH_H
#define PORTAL_AUTH_H

#include <stddef.h>
#include <time.h>

#include "http.h"

#define AUTH_COOKIE         "portal_session"
#define AUTH_LEEWAY_SECONDS 30

struct config;

enum auth_result { AUTH_OK, AUTH_BAD_TOKEN };

__attribute__((warn_unused_result)) int auth_init(const struct config *cfg, char *err,
                                                  size_t errlen);
/* Verifies token as of now; fills who on AUTH_OK. */
enum auth_result auth_verify(const char *token, time_t now, struct principal *who);
/* Signs an HS256 token for role and sub valid for ttl seconds. Returns a malloc'd string, or NULL
 * when no secret is configured or memory ran out. */
char *auth_sign(enum role role, const char *sub, int ttl, time_t now, long *exp_out);

#endif
