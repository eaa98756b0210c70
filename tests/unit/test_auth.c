/* Token verification without a server: sign then verify, every refused claim, alg "none", and a
 * header alg that picks a key we do not hold (HS256 signed with our public key, RS256/ES256 when
 * only a secret is configured). Keys are made in memory with OpenSSL. */
#include "../../server/auth.c"

#include "testhelp.h"

#define SECRET   "unit-test-secret-0123456789abcdef"
#define PREVIOUS "unit-test-old-secret-0123456789abcdef"
#define ISS      "portal-unit"
#define AUD      "portal-unit-aud"
#define PATIENT  "123e4567-e89b-12d3-a456-426614174000"

static struct config cfg;
static time_t now;

/* A signed token with the given grants (a JSON object text); key NULL means alg none. */
static char *token(jwt_alg_t alg, const char *key, const char *grants)
{
    jwt_t *jwt = NULL;
    char *out = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_add_grants_json(jwt, grants) == 0 &&
        jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

/* Grants for a patient token, with members replaced or added by extra (JSON members, may be ""). */
static char *grants(const char *extra)
{
    static char buf[1024];
    char more[600];
    snprintf(more, sizeof(more), "{%s}", extra);
    json_t *g =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "sub", PATIENT, "role", "patient", "iss", ISS,
                  "aud", AUD, "iat", (json_int_t)now, "exp", (json_int_t)now + 600);
    json_t *m = json_loads(more, 0, NULL);
    char *text = NULL;
    if (g && m && json_object_update(g, m) == 0)
        text = json_dumps(g, JSON_COMPACT);
    snprintf(buf, sizeof(buf), "%s", text ? text : "{}");
    free(text);
    json_decref(g);
    json_decref(m);
    return buf;
}

static enum auth_result verify_grants(jwt_alg_t alg, const char *key, const char *json)
{
    char *t = token(alg, key, json);
    struct principal who;
    enum auth_result r = t ? auth_verify(t, now, &who) : AUTH_BAD_TOKEN;
    if (!t)
        printf("# could not sign %s\n", json);
    free(t);
    return r;
}

static void config_hs256(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.jwt_secret = SECRET;
    cfg.jwt_secret_len = strlen(SECRET);
    cfg.jwt_issuer = ISS;
    cfg.jwt_audience = AUD;
    char err[128];
    CHECK(auth_init(&cfg, err, sizeof(err)) == 0);
}

static void sign_then_verify(void)
{
    long exp = 0;
    char *t = auth_sign(ROLE_PATIENT, PATIENT, 1800, now, &exp);
    CHECK(t != NULL);
    CHECK(exp == (long)now + 1800);
    struct principal who;
    CHECK(auth_verify(t, now, &who) == AUTH_OK);
    CHECK(who.role == ROLE_PATIENT);
    CHECK_STR(who.sub, PATIENT);
    CHECK(who.exp == exp);
    /* Past its expiry (and the leeway) the same token is refused, and who is left empty. */
    CHECK(auth_verify(t, now + 1800 + AUTH_LEEWAY_SECONDS + 1, &who) == AUTH_BAD_TOKEN);
    CHECK(who.role == ROLE_NONE && who.sub[0] == '\0');
    free(t);
    t = auth_sign(ROLE_PHYSICIAN, "NPI1234567890", 60, now, NULL);
    CHECK(t && auth_verify(t, now, &who) == AUTH_OK && who.role == ROLE_PHYSICIAN);
    free(t);
}

static void claims(void)
{
    char extra[256];
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("")) == AUTH_OK);
    /* exp: required, a number, in the future (with leeway). */
    snprintf(extra, sizeof(extra), "\"exp\":%ld", (long)now - AUTH_LEEWAY_SECONDS - 1);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
    snprintf(extra, sizeof(extra), "\"exp\":%ld", (long)now - 5);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_OK);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET,
                        "{\"sub\":\"" PATIENT "\",\"role\":\"patient\",\"iss\":\"" ISS
                        "\",\"aud\":\"" AUD "\"}") == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"exp\":\"9999999999\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"exp\":0")) == AUTH_BAD_TOKEN);
    /* nbf and iat: honoured when present. */
    snprintf(extra, sizeof(extra), "\"nbf\":%ld", (long)now + AUTH_LEEWAY_SECONDS + 60);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
    snprintf(extra, sizeof(extra), "\"nbf\":%ld", (long)now + 5);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_OK);
    snprintf(extra, sizeof(extra), "\"iat\":%ld", (long)now + 3600);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
    /* iss and aud. */
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"iss\":\"other\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"iss\":\"" ISS "x\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":\"other\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":[\"a\",\"b\"]")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":[]")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":7")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":[\"a\",\"" AUD "\"]")) == AUTH_OK);
    /* An array with anything but strings is malformed, whatever else it holds (issue 20). */
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"aud\":[7,\"" AUD "\"]")) ==
          AUTH_BAD_TOKEN);
    /* sub and role. */
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"sub\":\"\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"sub\":\"MRN001\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET,
                        grants("\"sub\":\"123e4567-e89b-12d3-a456-42661417400g\"")) ==
          AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"role\":\"root\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"role\":\"Patient\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("\"role\":\"ris\",\"sub\":\"pacs-1\"")) ==
          AUTH_OK);
    char longsub[200];
    memset(longsub, 'a', sizeof(longsub));
    snprintf(extra, sizeof(extra), "\"role\":\"ris\",\"sub\":\"%.150s\"", longsub);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
}

static void refused_tokens(void)
{
    struct principal who;
    CHECK(auth_verify(NULL, now, &who) == AUTH_BAD_TOKEN);
    CHECK(auth_verify("", now, &who) == AUTH_BAD_TOKEN);
    CHECK(auth_verify("garbage", now, &who) == AUTH_BAD_TOKEN);
    CHECK(auth_verify("a.b.c", now, &who) == AUTH_BAD_TOKEN);
    CHECK(auth_verify("....", now, &who) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, "wrong-secret-0123456789abcdefghij", grants("")) ==
          AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_NONE, NULL, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS512, SECRET, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS384, SECRET, grants("")) == AUTH_BAD_TOKEN);
    /* A header that claims HS256 over an unsigned body. */
    char *t = token(JWT_ALG_NONE, NULL, grants(""));
    CHECK(t != NULL);
    if (t) {
        char forged[2048];
        /* {"alg":"HS256","typ":"JWT"} */
        snprintf(forged, sizeof(forged), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9%s", strchr(t, '.'));
        CHECK(auth_verify(forged, now, &who) == AUTH_BAD_TOKEN);
        free(t);
    }
    /* Longer than any token we accept. */
    char *huge = malloc(TOKEN_MAX_BYTES + 10);
    memset(huge, 'a', TOKEN_MAX_BYTES + 9);
    huge[TOKEN_MAX_BYTES + 9] = '\0';
    huge[10] = '.';
    CHECK(auth_verify(huge, now, &who) == AUTH_BAD_TOKEN);
    free(huge);
    /* The previous secret is still accepted during a rotation; only the current one signs. */
    CHECK(verify_grants(JWT_ALG_HS256, PREVIOUS, grants("")) == AUTH_BAD_TOKEN);
    cfg.jwt_previous_secret = PREVIOUS;
    cfg.jwt_previous_secret_len = strlen(PREVIOUS);
    CHECK(verify_grants(JWT_ALG_HS256, PREVIOUS, grants("")) == AUTH_OK);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("")) == AUTH_OK);
    cfg.jwt_previous_secret = NULL;
    cfg.jwt_previous_secret_len = 0;
}

/* A new key pair as PEM texts (malloc'd). */
static int keypair(const char *type, char **priv, char **pub)
{
    EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!k)
        return -1;
    BIO *a = BIO_new(BIO_s_mem()), *b = BIO_new(BIO_s_mem());
    int ok = a && b && PEM_write_bio_PrivateKey(a, k, NULL, NULL, 0, NULL, NULL) &&
             PEM_write_bio_PUBKEY(b, k);
    char *p;
    long n;
    if (ok) {
        n = BIO_get_mem_data(a, &p);
        *priv = strndup(p, (size_t)n);
        n = BIO_get_mem_data(b, &p);
        *pub = strndup(p, (size_t)n);
    }
    BIO_free(a);
    BIO_free(b);
    EVP_PKEY_free(k);
    return ok && *priv && *pub ? 0 : -1;
}

static void public_keys(void)
{
    char *rsa_priv = NULL, *rsa_pub = NULL, *ec_priv = NULL, *ec_pub = NULL;
    char *rsa2_priv = NULL, *rsa2_pub = NULL;
    if (keypair("RSA", &rsa_priv, &rsa_pub) < 0 || keypair("EC", &ec_priv, &ec_pub) < 0 ||
        keypair("RSA", &rsa2_priv, &rsa2_pub) < 0) {
        CHECK(!"key generation failed");
        return;
    }
    /* Only a secret configured: a header naming RS256 or ES256 finds no key. */
    CHECK(verify_grants(JWT_ALG_RS256, rsa_priv, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_ES256, ec_priv, grants("")) == AUTH_BAD_TOKEN);

    /* A key of the wrong kind (or no key at all) stops start-up with one line. */
    char err[128];
    struct config bad = cfg;
    bad.jwt_key_kind = JWT_KEY_ES256;
    bad.jwt_public_key = rsa_pub;
    bad.jwt_public_key_len = strlen(rsa_pub);
    CHECK(auth_init(&bad, err, sizeof(err)) == -1);
    CHECK_STR(err, "PORTAL_JWT_PUBLIC_KEY_FILE must hold a P-256 EC public key for ES256");
    bad.jwt_key_kind = JWT_KEY_RS256;
    bad.jwt_public_key = ec_pub;
    bad.jwt_public_key_len = strlen(ec_pub);
    CHECK(auth_init(&bad, err, sizeof(err)) == -1);
    CHECK_STR(err, "PORTAL_JWT_PUBLIC_KEY_FILE must hold an RSA public key for RS256");
    bad.jwt_public_key = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
    bad.jwt_public_key_len = strlen(bad.jwt_public_key);
    CHECK(auth_init(&bad, err, sizeof(err)) == -1);
    /* A failed init leaves the working configuration in place. */
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("")) == AUTH_OK);

    cfg.jwt_key_kind = JWT_KEY_RS256;
    cfg.jwt_public_key = rsa_pub;
    cfg.jwt_public_key_len = strlen(rsa_pub);
    CHECK(auth_init(&cfg, err, sizeof(err)) == 0);
    CHECK(verify_grants(JWT_ALG_RS256, rsa_priv, grants("")) == AUTH_OK);
    CHECK(verify_grants(JWT_ALG_RS256, rsa2_priv, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_RS512, rsa_priv, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_ES256, ec_priv, grants("")) == AUTH_BAD_TOKEN);
    /* Our public key used as an HMAC secret: the algorithm-confusion attack. */
    CHECK(verify_grants(JWT_ALG_HS256, rsa_pub, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_RS256, rsa_priv, grants("\"iss\":\"evil\"")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("")) == AUTH_OK);

    cfg.jwt_key_kind = JWT_KEY_ES256;
    cfg.jwt_public_key = ec_pub;
    cfg.jwt_public_key_len = strlen(ec_pub);
    CHECK(auth_init(&cfg, err, sizeof(err)) == 0);
    CHECK(verify_grants(JWT_ALG_ES256, ec_priv, grants("")) == AUTH_OK);
    CHECK(verify_grants(JWT_ALG_RS256, rsa_priv, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_HS256, ec_pub, grants("")) == AUTH_BAD_TOKEN);

    /* A public key only: the portal cannot sign its own tokens. */
    cfg.jwt_secret = NULL;
    cfg.jwt_secret_len = 0;
    CHECK(auth_sign(ROLE_PATIENT, PATIENT, 60, now, NULL) == NULL);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants("")) == AUTH_BAD_TOKEN);
    CHECK(verify_grants(JWT_ALG_ES256, ec_priv, grants("")) == AUTH_OK);

    free(rsa_priv);
    free(rsa_pub);
    free(rsa2_priv);
    free(rsa2_pub);
    free(ec_priv);
    free(ec_pub);
}

/* The cache of verified tokens must answer exactly as a fresh verification would: exp and nbf are
 * checked again on a hit, new settings make old entries stale, and each token keeps its own
 * principal. */
static void token_cache_answers_like_verification(void)
{
    config_hs256();
    struct principal who;
    char extra[256];
    snprintf(extra, sizeof(extra), "\"nbf\":%ld", (long)now + 100);
    char *t = token(JWT_ALG_HS256, SECRET, grants(extra));
    CHECK(t && auth_verify(t, now + 100, &who) == AUTH_OK); /* cached from here on */
    CHECK(auth_verify(t, now + 100, &who) == AUTH_OK && strcmp(who.sub, PATIENT) == 0);
    CHECK(auth_verify(t, now, &who) == AUTH_BAD_TOKEN); /* before nbf, cached or not */
    CHECK(auth_verify(t, now + 600 + AUTH_LEEWAY_SECONDS, &who) == AUTH_OK);
    CHECK(auth_verify(t, now + 600 + AUTH_LEEWAY_SECONDS + 1, &who) == AUTH_BAD_TOKEN);
    CHECK(who.role == ROLE_NONE && who.sub[0] == '\0');
    char *other = token(JWT_ALG_HS256, SECRET, grants("\"role\":\"ris\",\"sub\":\"pacs-1\""));
    for (int i = 0; i < 3; i++) {
        CHECK(auth_verify(t, now + 100, &who) == AUTH_OK && who.role == ROLE_PATIENT);
        CHECK(other && auth_verify(other, now, &who) == AUTH_OK && who.role == ROLE_RIS &&
              strcmp(who.sub, "pacs-1") == 0);
    }
    /* A new secret: the token verified (and cached) under the old one is refused. */
    struct config rotated = cfg;
    rotated.jwt_secret = "another-unit-secret-0123456789abcdef";
    rotated.jwt_secret_len = strlen(rotated.jwt_secret);
    char err[128];
    CHECK(auth_init(&rotated, err, sizeof(err)) == 0);
    CHECK(auth_verify(t, now + 100, &who) == AUTH_BAD_TOKEN);
    free(t);
    free(other);
    config_hs256();
}

/* Claims at the ends of the integer range come only from an issuer we trust, but they must be
 * judged without signed overflow (UBSan aborts the server on it): an exp near the maximum is a
 * valid far-future expiry, an nbf or iat near the minimum lies in the past. */
static void extreme_time_claims(void)
{
    config_hs256();
    char extra[256];
    snprintf(extra, sizeof(extra), "\"exp\":%lld", (long long)LONG_MAX);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_OK);
    snprintf(extra, sizeof(extra), "\"exp\":%lld", (long long)LONG_MIN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
    snprintf(extra, sizeof(extra), "\"nbf\":%lld", (long long)LONG_MIN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_OK);
    snprintf(extra, sizeof(extra), "\"nbf\":%lld", (long long)LONG_MAX);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
    snprintf(extra, sizeof(extra), "\"iat\":%lld", (long long)LONG_MIN);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_OK);
    snprintf(extra, sizeof(extra), "\"iat\":%lld", (long long)LONG_MAX);
    CHECK(verify_grants(JWT_ALG_HS256, SECRET, grants(extra)) == AUTH_BAD_TOKEN);
}

int main(void)
{
    now = time(NULL);
    config_hs256();
    sign_then_verify();
    claims();
    refused_tokens();
    public_keys();
    token_cache_answers_like_verification();
    extreme_time_claims();
    return testhelp_done();
}
