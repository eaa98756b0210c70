/* Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30 s steps, 6 digits): the second factor of
 * staff sign-in, with the secrets' base32 text (RFC 4648) and the otpauth:// URI authenticator
 * apps read. */
#ifndef PORTAL_TOTP_H
#define PORTAL_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS       6
#define TOTP_SECRET_BYTES 20 /* 160 bits, the size RFC 4226 recommends for HMAC-SHA1 */
#define TOTP_SECRET_B32   33 /* 32 base32 symbols and the NUL */
#define TOTP_KEY_MAX      80 /* the longest key a stored secret may decode to */
#define TOTP_URI_MAX      512

/* The code for a time step of key (RFC 4226's HOTP with that step as the counter), reduced to
 * digits decimal digits (6 to 8). Returns -1 when HMAC fails. */
long totp_code(const unsigned char *key, size_t keylen, uint64_t step, int digits);
/* Checks what a person typed against the codes of the steps around now (one step either way, for
 * clocks that drift), in constant time per step, accepting only a step later than last_step (-1:
 * none yet) so that a code is never accepted twice. Returns the step matched, or -1. */
int64_t totp_check(const char *secret_b32, const char *typed, time_t now, int64_t last_step);
/* A new random secret as base32 text (TOTP_SECRET_B32 bytes with the NUL). Returns 0, or -1 when
 * the kernel gives no randomness. */
__attribute__((warn_unused_result)) int totp_secret_new(char out[TOTP_SECRET_B32]);
/* RFC 4648 base32 without padding (upper case). Returns the decoded length, or -1 when in is not
 * base32 or does not fit cap. */
int totp_base32_decode(const char *in, unsigned char *out, size_t cap);
/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 (Key Uri
 * Format), issuer and account percent-encoded. Returns 0, or -1 when it does not fit. */
int totp_uri(char *out, size_t cap, const char *issuer, const char *account,
             const char *secret_b32);

#endif
