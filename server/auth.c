/* JWT verification and signing on libjwt 1.10. The algorithm is pinned by configuration: the
 * header's alg only selects among the keys we hold, and the decoded token's algorithm must equal
 * the one that key belongs to, so neither alg "none" nor an HS256 token signed with our public key
 * gets through. Expiry, not-before, issuer, audience, subject and role are checked here because
 * libjwt checks none of them. */
#include "auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define TOKEN_MAX_BYTES 8192

static const struct config *auth_cfg;

static bool header_alg(const char *token, char *alg, size_t alg_len);
static bool claims_ok(jwt_t *jwt, time_t now, struct principal *who);
static bool audience_ok(jwt_t *jwt);
static bool is_uuid_text(const char *s);

int auth_init(const struct config *cfg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    auth_cfg = cfg;
    return 0;
}

static jwt_t *decode_with(const char *token, jwt_alg_t alg, const char *key, size_t key_len)
{
    jwt_t *jwt = NULL;
    if (!key || jwt_decode(&jwt, token, (const unsigned char *)key, (int)key_len) != 0)
        return NULL;
    if (jwt_get_alg(jwt) != alg) {
        jwt_free(jwt);
        return NULL;
    }
    return jwt;
}

enum auth_result auth_verify(const char *token, time_t now, struct principal *who)
{
    memset(who, 0, sizeof(*who));
    if (!token || !*token || strlen(token) > TOKEN_MAX_BYTES || !auth_cfg)
        return AUTH_BAD_TOKEN;
    char alg[16];
    if (!header_alg(token, alg, sizeof(alg)))
        return AUTH_BAD_TOKEN;

    jwt_t *jwt = NULL;
    const struct config *c = auth_cfg;
    if (strcmp(alg, "HS256") == 0) {
        jwt = decode_with(token, JWT_ALG_HS256, c->jwt_secret, c->jwt_secret_len);
        if (!jwt)
            jwt = decode_with(token, JWT_ALG_HS256, c->jwt_previous_secret,
                              c->jwt_previous_secret_len);
    } else if (strcmp(alg, "RS256") == 0 && c->jwt_key_kind == JWT_KEY_RS256) {
        jwt = decode_with(token, JWT_ALG_RS256, c->jwt_public_key, c->jwt_public_key_len);
    } else if (strcmp(alg, "ES256") == 0 && c->jwt_key_kind == JWT_KEY_ES256) {
        jwt = decode_with(token, JWT_ALG_ES256, c->jwt_public_key, c->jwt_public_key_len);
    }
    if (!jwt)
        return AUTH_BAD_TOKEN;
    bool ok = claims_ok(jwt, now, who);
    jwt_free(jwt);
    if (!ok)
        memset(who, 0, sizeof(*who));
    return ok ? AUTH_OK : AUTH_BAD_TOKEN;
}

/* Reads "alg" from the token's header segment. Only a choice among our keys rides on it. */
static bool header_alg(const char *token, char *alg, size_t alg_len)
{
    const char *dot = strchr(token, '.');
    if (!dot || dot == token || dot - token > 1024)
        return false;
    size_t n = (size_t)(dot - token);
    char b64[1100];
    memcpy(b64, token, n);
    while (n % 4)
        b64[n++] = '=';
    b64[n] = '\0';
    unsigned char raw[800];
    size_t raw_len = 0;
    unsigned int acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && b64[i] != '='; i++) {
        char ch = b64[i];
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '-')
            v = 62;
        else if (ch == '_')
            v = 63;
        else
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (raw_len >= sizeof(raw))
                return false;
            raw[raw_len++] = (unsigned char)(acc >> bits);
        }
    }
    json_error_t jerr;
    json_t *h = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *a = h ? json_string_value(json_object_get(h, "alg")) : NULL;
    bool ok = a && strlen(a) < alg_len;
    if (ok)
        strcpy(alg, a);
    json_decref(h);
    return ok;
}

static bool claims_ok(jwt_t *jwt, time_t now, struct principal *who)
{
    errno = 0;
    long exp = jwt_get_grant_int(jwt, "exp");
    if (errno || exp <= 0 || now > exp + AUTH_LEEWAY_SECONDS)
        return false;
    errno = 0;
    long nbf = jwt_get_grant_int(jwt, "nbf");
    if (errno == 0 && now + AUTH_LEEWAY_SECONDS < nbf)
        return false;
    errno = 0;
    long iat = jwt_get_grant_int(jwt, "iat");
    if (errno == 0 && now + AUTH_LEEWAY_SECONDS < iat)
        return false;

    const char *iss = jwt_get_grant(jwt, "iss");
    if (!iss || strcmp(iss, auth_cfg->jwt_issuer) != 0)
        return false;
    if (!audience_ok(jwt))
        return false;

    const char *sub = jwt_get_grant(jwt, "sub");
    if (!sub || !*sub || strlen(sub) >= sizeof(who->sub))
        return false;
    enum role role = role_from_name(jwt_get_grant(jwt, "role"));
    if (role == ROLE_NONE)
        return false;
    /* A patient's sub is the portal's patient id; anything else can name no patient. */
    if (role == ROLE_PATIENT && !is_uuid_text(sub))
        return false;
    who->role = role;
    who->exp = exp;
    strcpy(who->sub, sub);
    return true;
}

/* aud may be one string or an array of strings (RFC 7519 4.1.3). */
static bool audience_ok(jwt_t *jwt)
{
    const char *aud = jwt_get_grant(jwt, "aud");
    if (aud)
        return strcmp(aud, auth_cfg->jwt_audience) == 0;
    char *json = jwt_get_grants_json(jwt, "aud");
    if (!json)
        return false;
    json_t *arr = json_loads(json, 0, NULL);
    free(json);
    bool ok = false;
    size_t i;
    json_t *v;
    if (json_is_array(arr)) {
        json_array_foreach(arr, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), auth_cfg->jwt_audience) == 0)
                ok = true;
        }
    }
    json_decref(arr);
    return ok;
}

static bool is_uuid_text(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (ch != '-')
                return false;
        } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                     (ch >= 'A' && ch <= 'F'))) {
            return false;
        }
    }
    return true;
}

char *auth_sign(enum role role, const char *sub, int ttl, time_t now, long *exp_out)
{
    if (!auth_cfg || !auth_cfg->jwt_secret)
        return NULL;
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    long exp = (long)now + ttl;
    char *out = NULL;
    if (jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "role", role_name(role)) == 0 &&
        jwt_add_grant(jwt, "iss", auth_cfg->jwt_issuer) == 0 &&
        jwt_add_grant(jwt, "aud", auth_cfg->jwt_audience) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 && jwt_add_grant_int(jwt, "exp", exp) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)auth_cfg->jwt_secret,
                    (int)auth_cfg->jwt_secret_len) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (out && exp_out)
        *exp_out = exp;
    return out;
}
