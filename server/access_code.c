/* Access codes: 16 symbols of Crockford's base32 from getrandom(2). The first 8 are a selector
 * stored as is (unique, 40 bits); the last 8 (40 bits) are verified against an argon2id hash,
 * which compares in constant time; logins are throttled per selector and per address. */
#include "access_code.h"

#include <string.h>
#include <sys/random.h>

#include "secret_hash.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int access_code_new(struct access_code *out)
{
    unsigned char rnd[ACCESS_SELECTOR_LEN + ACCESS_VERIFIER_LEN];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -1;
    char raw[ACCESS_SELECTOR_LEN + ACCESS_VERIFIER_LEN + 1];
    for (int i = 0; i < ACCESS_SELECTOR_LEN + ACCESS_VERIFIER_LEN; i++)
        raw[i] = alphabet[rnd[i] & 31];
    raw[ACCESS_SELECTOR_LEN + ACCESS_VERIFIER_LEN] = '\0';
    for (int g = 0, o = 0; g < 4; g++) {
        memcpy(out->code + o, raw + 4 * g, 4);
        o += 4;
        out->code[o++] = g < 3 ? '-' : '\0';
    }
    memcpy(out->selector, raw, ACCESS_SELECTOR_LEN);
    out->selector[ACCESS_SELECTOR_LEN] = '\0';
    int rc = secret_hash(raw + ACCESS_SELECTOR_LEN, ACCESS_VERIFIER_LEN, out->hash);
    memset(raw, 0, sizeof(raw));
    memset(rnd, 0, sizeof(rnd));
    return rc;
}

static int symbol(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == 'O')
        c = '0';
    if (c == 'I' || c == 'L')
        c = '1';
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

bool access_code_parse(const char *typed, char selector[ACCESS_SELECTOR_LEN + 1],
                       char verifier[ACCESS_VERIFIER_LEN + 1])
{
    char raw[ACCESS_SELECTOR_LEN + ACCESS_VERIFIER_LEN];
    int n = 0;
    for (const char *p = typed; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        int s = symbol(*p);
        if (s < 0 || n >= (int)sizeof(raw))
            return false;
        raw[n++] = alphabet[s];
    }
    if (n != (int)sizeof(raw))
        return false;
    memcpy(selector, raw, ACCESS_SELECTOR_LEN);
    selector[ACCESS_SELECTOR_LEN] = '\0';
    memcpy(verifier, raw + ACCESS_SELECTOR_LEN, ACCESS_VERIFIER_LEN);
    verifier[ACCESS_VERIFIER_LEN] = '\0';
    return true;
}

bool access_code_verify(const char *hash, const char *verifier)
{
    return secret_hash_verify(hash, verifier, strlen(verifier));
}
