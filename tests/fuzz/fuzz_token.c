/* libFuzzer harness for token parsing and the claim rules (server/auth.c): any bytes as a token,
 * and any bytes as the header and the payload of a token correctly signed with the server's key,
 * so the rules after the signature are reached too. Whatever is accepted names a known role and a
 * sub that fits, a patient's sub is a UUID, and it was accepted with "typ" JWT, no "crit", and
 * no duplicate claim. The first byte splits the rest into header and payload. */
#include "../../server/auth.c"
#include "../../server/fhir_resources.c"
#include "../../server/fhir_scope.c"
#include "../../server/router.c"

#include <openssl/hmac.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const struct route routes[] = {{NULL, NULL, NULL, 0, BODY_NONE, 0, NULL}};

#define SECRET "fuzz-secret-0123456789abcdef0123456789"

static struct config cfg = {.jwt_secret = SECRET,
                            .jwt_secret_len = sizeof(SECRET) - 1,
                            .jwt_issuer = "portal",
                            .jwt_audience = "portal"};

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    return o;
}

static void check(enum auth_result r, const struct principal *who)
{
    if (r != AUTH_OK)
        return;
    if (who->role == ROLE_NONE || !who->sub[0] || strlen(who->sub) >= sizeof(who->sub))
        __builtin_trap();
    if (who->role == ROLE_PATIENT && !router_is_uuid(who->sub, strlen(who->sub)))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        char err[128];
        if (auth_init(&cfg, err, sizeof(err)) != 0)
            __builtin_trap();
        ready = true;
    }
    if (size < 1 || size > 4096)
        return 0;
    struct principal who;
    /* The bytes as a token. */
    char *raw = malloc(size + 1);
    memcpy(raw, data, size);
    raw[size] = '\0';
    check(auth_verify(raw, 1800000000, &who), &who);
    free(raw);

    /* The bytes as a signed token's header and payload. */
    size_t head_len = (size_t)data[0] % size;
    const uint8_t *head = data + 1, *body = data + 1 + head_len;
    size_t body_len = size - 1 - head_len;
    char *token = malloc(2 * size + 64);
    size_t n = b64url(head, head_len, token);
    token[n++] = '.';
    n += b64url(body, body_len, token + n);
    unsigned char mac[32];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), SECRET, (int)sizeof(SECRET) - 1, (const unsigned char *)token, n, mac,
         &mac_len);
    token[n++] = '.';
    n += b64url(mac, mac_len, token + n);
    token[n] = '\0';
    enum auth_result r = auth_verify(token, 1800000000, &who);
    check(r, &who);
    if (r == AUTH_OK) {
        /* What was accepted keeps the header rules. */
        json_t *h = segment_json((const char *)token, strchr(token, '.') - token);
        const char *typ = json_string_value(json_object_get(h, "typ"));
        if (!h || !typ || strcasecmp(typ, "JWT") != 0 || json_object_get(h, "crit"))
            __builtin_trap();
        json_decref(h);
    }
    free(token);
    return 0;
}
