/* TOTP (RFC 6238) over libcrypto's HMAC-SHA1: the staff's second factor. The secret is kept as
 * base32 text because the server must compute the codes to check them; a code is accepted for its
 * step and one step either side, once (the caller stores the step matched). */
#include "totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

long totp_code(const unsigned char *key, size_t keylen, uint64_t step, int digits)
{
    unsigned char msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (digits < 6 || digits > 8 ||
        !HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen) || maclen < 20)
        return -1;
    /* RFC 4226 5.3: dynamic truncation. */
    int off = mac[maclen - 1] & 0x0f;
    unsigned long bin = ((unsigned long)(mac[off] & 0x7f) << 24) |
                        ((unsigned long)mac[off + 1] << 16) | ((unsigned long)mac[off + 2] << 8) |
                        (unsigned long)mac[off + 3];
    unsigned long mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return (long)(bin % mod);
}

int totp_base32_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned buffer = 0;
    int bits = 0;
    for (const char *p = in; *p; p++) {
        const char *at = strchr(b32_alphabet, *p);
        if (!at)
            return -1;
        buffer = (buffer << 5) | (unsigned)(at - b32_alphabet);
        bits += 5;
        if (bits >= 8) {
            if (n >= cap)
                return -1;
            out[n++] = (unsigned char)((buffer >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return (int)n;
}

static void base32_encode(const unsigned char *in, size_t len, char *out)
{
    unsigned buffer = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        buffer = (buffer << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(buffer << (5 - bits)) & 31];
    out[o] = '\0';
}

int totp_secret_new(char out[TOTP_SECRET_B32])
{
    unsigned char key[TOTP_SECRET_BYTES];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        return -1;
    base32_encode(key, sizeof(key), out);
    memset(key, 0, sizeof(key));
    return 0;
}

/* Equal strings of the same length, compared without an early exit. */
static bool same(const char *a, const char *b, size_t len)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int64_t totp_check(const char *secret_b32, const char *typed, time_t now, int64_t last_step)
{
    if (!secret_b32 || !typed || strlen(typed) != TOTP_DIGITS || now < TOTP_STEP_SECONDS)
        return -1;
    for (const char *p = typed; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    unsigned char key[TOTP_KEY_MAX];
    int keylen = totp_base32_decode(secret_b32, key, sizeof(key));
    if (keylen <= 0)
        return -1;
    int64_t now_step = (int64_t)now / TOTP_STEP_SECONDS;
    int64_t matched = -1;
    /* Every candidate is computed and compared, whichever matches. */
    for (int64_t step = now_step - 1; step <= now_step + 1; step++) {
        long code = totp_code(key, (size_t)keylen, (uint64_t)step, TOTP_DIGITS);
        char want[24];
        snprintf(want, sizeof(want), "%0*ld", TOTP_DIGITS, code < 0 ? 0 : code);
        if (code >= 0 && same(want, typed, TOTP_DIGITS) && step > last_step && matched < 0)
            matched = step;
    }
    memset(key, 0, sizeof(key));
    return matched;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static int encode(char *out, size_t cap, size_t *o, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        int w = plain ? snprintf(out + *o, cap - *o, "%c", *p)
                      : snprintf(out + *o, cap - *o, "%%%02X", *p);
        if (w < 0 || (size_t)w >= cap - *o)
            return -1;
        *o += (size_t)w;
    }
    return 0;
}

static int append(char *out, size_t cap, size_t *o, const char *s)
{
    int w = snprintf(out + *o, cap - *o, "%s", s);
    if (w < 0 || (size_t)w >= cap - *o)
        return -1;
    *o += (size_t)w;
    return 0;
}

int totp_uri(char *out, size_t cap, const char *issuer, const char *account, const char *secret_b32)
{
    size_t o = 0;
    char tail[64];
    snprintf(tail, sizeof(tail), "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS,
             TOTP_STEP_SECONDS);
    if (cap == 0 || append(out, cap, &o, "otpauth://totp/") || encode(out, cap, &o, issuer) ||
        append(out, cap, &o, ":") || encode(out, cap, &o, account) ||
        append(out, cap, &o, "?secret=") || append(out, cap, &o, secret_b32) ||
        append(out, cap, &o, "&issuer=") || encode(out, cap, &o, issuer) ||
        append(out, cap, &o, tail))
        return -1;
    return 0;
}
