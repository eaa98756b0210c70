/* JWT verification and signing on libjwt 1.10. The algorithm is pinned by configuration: the
 * header's alg only selects among the keys we hold, and the decoded token's algorithm must equal
 * the one that key belongs to, so neither alg "none" nor an HS256 token signed with our public key
 * gets through. Expiry, not-before, issuer, audience, subject and role are checked here because
 * libjwt checks none of them. */
#include "auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "fhir_scope.h"

#define TOKEN_MAX_BYTES 8192

static const struct config *auth_cfg;

/* Verified tokens, per thread (no lock). A patient's page makes several calls with one token, and
 * libjwt's decode (base64, JSON, the signature) costs more than the rest of a small request. An
 * entry is keyed by the token's SHA-256, so only the identical token reuses it; only successes are
 * kept, with the window in which the claims hold (nbf/iat to exp), checked again on every use, and
 * auth_init() (new keys or settings) makes every entry stale. */
#define TOKEN_CACHE_SLOTS 8192
struct token_cache_entry {
    unsigned char hash[32];
    unsigned generation;
    long valid_from; /* claims hold for valid_from <= now <= exp + leeway */
    struct principal who;
};
static _Thread_local struct token_cache_entry token_cache[TOKEN_CACHE_SLOTS];
static atomic_uint token_cache_generation = 1;

static bool header_ok(const char *token, char *alg, size_t alg_len);
static bool claims_ok(const char *token, time_t now, struct principal *who, long *valid_from);
static bool audience_ok(json_t *aud);

int auth_init(const struct config *cfg, char *err, size_t errlen)
{
    /* A key of the wrong kind would refuse every token while the server looks healthy: stop at
     * start-up instead, naming the setting. */
    if (cfg->jwt_key_kind != JWT_KEY_NONE) {
        bool rsa = cfg->jwt_key_kind == JWT_KEY_RS256;
        BIO *b = BIO_new_mem_buf(cfg->jwt_public_key, (int)cfg->jwt_public_key_len);
        EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        char group[32] = "";
        size_t group_len = 0;
        bool ok = k && EVP_PKEY_base_id(k) == (rsa ? EVP_PKEY_RSA : EVP_PKEY_EC);
        if (ok && !rsa)
            ok = EVP_PKEY_get_group_name(k, group, sizeof(group), &group_len) == 1 &&
                 strcmp(group, "prime256v1") == 0;
        EVP_PKEY_free(k);
        BIO_free(b);
        if (!ok) {
            snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE must hold %s public key for %s",
                     rsa ? "an RSA" : "a P-256 EC", rsa ? "RS256" : "ES256");
            return -1;
        }
    }
    auth_cfg = cfg;
    atomic_fetch_add(&token_cache_generation, 1);
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

static struct token_cache_entry *token_cache_slot(const char *token, size_t len,
                                                  unsigned char hash[32])
{
    unsigned int hash_len = 0;
    if (EVP_Digest(token, len, hash, &hash_len, EVP_sha256(), NULL) != 1 || hash_len != 32)
        return NULL;
    unsigned slot;
    memcpy(&slot, hash, sizeof(slot));
    return &token_cache[slot % TOKEN_CACHE_SLOTS];
}

enum auth_result auth_verify(const char *token, time_t now, struct principal *who)
{
    memset(who, 0, sizeof(*who));
    size_t token_len = token ? strlen(token) : 0;
    if (!token_len || token_len > TOKEN_MAX_BYTES || !auth_cfg)
        return AUTH_BAD_TOKEN;
    unsigned char hash[32];
    struct token_cache_entry *cached = token_cache_slot(token, token_len, hash);
    unsigned generation = atomic_load(&token_cache_generation);
    if (cached && cached->generation == generation && memcmp(cached->hash, hash, 32) == 0 &&
        now >= cached->valid_from && now - AUTH_LEEWAY_SECONDS <= cached->who.exp) {
        *who = cached->who;
        return AUTH_OK;
    }
    char alg[16];
    if (!header_ok(token, alg, sizeof(alg)))
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
    jwt_free(jwt);
    long valid_from = LONG_MIN;
    bool ok = claims_ok(token, now, who, &valid_from);
    if (!ok) {
        memset(who, 0, sizeof(*who));
        return AUTH_BAD_TOKEN;
    }
    if (cached) {
        memcpy(cached->hash, hash, 32);
        cached->generation = generation;
        cached->valid_from = valid_from;
        cached->who = *who;
    }
    return AUTH_OK;
}

/* Decodes one base64url segment of the token (no padding, RFC 7515 2) into a JSON object, refusing
 * duplicate member names: a claim or a header parameter that is given twice could be read one way
 * here and another way elsewhere (RFC 8725 3.1). Returns a new reference, or NULL. */
static json_t *segment_json(const char *seg, size_t n)
{
    if (n == 0 || n > TOKEN_MAX_BYTES)
        return NULL;
    unsigned char *raw = malloc(n);
    if (!raw)
        return NULL;
    size_t raw_len = 0;
    unsigned int acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = seg[i];
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
        else {
            free(raw);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[raw_len++] = (unsigned char)(acc >> bits);
        }
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The header's rules (docs/security-review.md, "Token rules"): a JSON object without duplicate
 * names; "alg" a string, which only chooses among the keys we hold; "typ" the string "JWT" in any
 * case, so a token of another kind signed with the same key is not taken for ours (RFC 8725
 * 3.11); no "crit", since we implement no extension a token could declare critical (RFC 7515
 * 4.1.11). Other parameters ("kid") are ignored. */
static bool header_ok(const char *token, char *alg, size_t alg_len)
{
    const char *dot = strchr(token, '.');
    if (!dot || dot == token || dot - token > 1024)
        return false;
    json_t *h = segment_json(token, (size_t)(dot - token));
    const char *a = h ? json_string_value(json_object_get(h, "alg")) : NULL;
    const char *typ = h ? json_string_value(json_object_get(h, "typ")) : NULL;
    bool ok = a && strlen(a) < alg_len && typ && strcasecmp(typ, "JWT") == 0 &&
              !json_object_get(h, "crit");
    if (ok)
        strcpy(alg, a);
    json_decref(h);
    return ok;
}

/* A NumericDate (RFC 7519 2): a JSON number, fractions cut off. A claim that is present in any
 * other form (a string, null) is refused rather than ignored. */
static bool numeric_date(json_t *claims, const char *name, bool required, long *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return !required;
    if (json_is_integer(v)) {
        *out = (long)json_integer_value(v); /* json_int_t is long long, as wide as long here */
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d > -9.2e18 && d < 9.2e18))
            return false;
        *out = (long)d;
        return true;
    }
    return false;
}

/* Checks the claims of a token whose signature holds. On success, *valid_from is the earliest
 * time the time claims (nbf, iat) allow. */
static bool claims_ok(const char *token, time_t now, struct principal *who, long *valid_from)
{
    const char *p1 = strchr(token, '.');
    const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
    json_t *c = p2 ? segment_json(p1 + 1, (size_t)(p2 - p1 - 1)) : NULL;
    if (!c)
        return false;
    bool ok = false;
    /* The leeway is applied to now, never added to or taken from a claim: a claim near either
     * end of the range would overflow (undefined behaviour, an abort under UBSan). */
    long exp = 0, nbf = LONG_MIN, iat = LONG_MIN;
    if (!numeric_date(c, "exp", true, &exp) || exp <= 0 || now - AUTH_LEEWAY_SECONDS > exp)
        goto done;
    if (!numeric_date(c, "nbf", false, &nbf) || now + AUTH_LEEWAY_SECONDS < nbf)
        goto done;
    if (!numeric_date(c, "iat", false, &iat) || now + AUTH_LEEWAY_SECONDS < iat)
        goto done;
    if (nbf > LONG_MIN + AUTH_LEEWAY_SECONDS && nbf - AUTH_LEEWAY_SECONDS > *valid_from)
        *valid_from = nbf - AUTH_LEEWAY_SECONDS;
    if (iat > LONG_MIN + AUTH_LEEWAY_SECONDS && iat - AUTH_LEEWAY_SECONDS > *valid_from)
        *valid_from = iat - AUTH_LEEWAY_SECONDS;

    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (!iss || strcmp(iss, auth_cfg->jwt_issuer) != 0 || !audience_ok(json_object_get(c, "aud")))
        goto done;
    const char *sub = json_string_value(json_object_get(c, "sub"));
    if (!sub || !*sub || strlen(sub) >= sizeof(who->sub))
        goto done;
    enum role role = role_from_name(json_string_value(json_object_get(c, "role")));
    if (role == ROLE_NONE)
        goto done;
    /* A patient's sub is the portal's patient id, a proxy's the portal's proxy id; anything else
     * can name no one. */
    if ((role == ROLE_PATIENT || role == ROLE_PROXY) && !router_is_uuid(sub, strlen(sub)))
        goto done;
    /* The SMART scope claim is one space-separated string (App Launch 2.0); a scope of another
     * JSON type makes the token invalid rather than unrestricted. */
    json_t *scope = json_object_get(c, "scope");
    if (scope && !json_is_string(scope))
        goto done;
    who->has_scope = scope != NULL;
    who->fhir_grants = scope ? fhir_scope_grants(json_string_value(scope), role) : 0;
    who->role = role;
    who->exp = exp;
    who->iat = iat;
    strcpy(who->sub, sub);
    ok = true;
done:
    json_decref(c);
    return ok;
}

/* aud may be one string or an array of strings (RFC 7519 4.1.3); ours must be among them. */
static bool audience_ok(json_t *aud)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), auth_cfg->jwt_audience) == 0;
    bool ok = false;
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v))
            return false;
        if (strcmp(json_string_value(v), auth_cfg->jwt_audience) == 0)
            ok = true;
    }
    return ok;
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
