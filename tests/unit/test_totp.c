/* TOTP against RFC 6238 Appendix B's SHA-1 test vectors, the window of one step either way, a code
 * never accepted twice, base32 and the otpauth:// URI. */
#include "../../server/totp.c"

#include "testhelp.h"

/* RFC 6238 Appendix B: the SHA-1 seed is the ASCII of "12345678901234567890". */
static const unsigned char seed[] = "12345678901234567890";
#define SEED_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void rfc6238_vectors(void)
{
    static const struct {
        uint64_t t;
        long code;
    } v[] = {
        {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
        {1234567890, 89005924}, {2000000000, 69279037}, {20000000000ULL, 65353130},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        CHECK(totp_code(seed, 20, v[i].t / TOTP_STEP_SECONDS, 8) == v[i].code);
    /* Six digits are the same code's last six. */
    CHECK(totp_code(seed, 20, 59 / 30, 6) == 287082);
    CHECK(totp_code(seed, 20, 1, 5) == -1);
}

static void base32(void)
{
    unsigned char key[TOTP_KEY_MAX];
    CHECK(totp_base32_decode(SEED_B32, key, sizeof(key)) == 20 && memcmp(key, seed, 20) == 0);
    CHECK(totp_base32_decode("GEZD1", key, sizeof(key)) == -1);
    CHECK(totp_base32_decode("gezd", key, sizeof(key)) == -1);
    char out[TOTP_SECRET_B32];
    base32_encode(seed, 20, out);
    CHECK_STR(out, SEED_B32);
    char a[TOTP_SECRET_B32], b[TOTP_SECRET_B32];
    CHECK(totp_secret_new(a) == 0 && totp_secret_new(b) == 0);
    CHECK(strlen(a) == 32 && strcmp(a, b) != 0);
}

static void window_and_replay(void)
{
    /* 287082 is step 1's code (t = 30..59). */
    CHECK(totp_check(SEED_B32, "287082", 59, -1) == 1);
    CHECK(totp_check(SEED_B32, "287082", 30 + 30, -1) == 1); /* one step late: accepted */
    CHECK(totp_check(SEED_B32, "287082", 30 - 30 + 30, -1) == 1);
    CHECK(totp_check(SEED_B32, "287082", 30 + 60, -1) == -1); /* two steps late: refused */
    CHECK(totp_check(SEED_B32, "287082", 59, 1) == -1);       /* already used */
    CHECK(totp_check(SEED_B32, "287082", 59, 0) == 1);
    CHECK(totp_check(SEED_B32, "287083", 59, -1) == -1);
    CHECK(totp_check(SEED_B32, "28708", 59, -1) == -1);
    CHECK(totp_check(SEED_B32, "2870822", 59, -1) == -1);
    CHECK(totp_check(SEED_B32, "28708a", 59, -1) == -1);
    CHECK(totp_check(NULL, "287082", 59, -1) == -1);
    CHECK(totp_check("not base32!", "287082", 59, -1) == -1);
}

static void uri(void)
{
    char out[TOTP_URI_MAX];
    CHECK(totp_uri(out, sizeof(out), "Results portal", "ann@clinic", SEED_B32) == 0);
    CHECK_STR(out, "otpauth://totp/Results%20portal:ann%40clinic?secret=" SEED_B32
                   "&issuer=Results%20portal&algorithm=SHA1&digits=6&period=30");
    CHECK(totp_uri(out, 20, "Results portal", "ann", SEED_B32) == -1);
}

int main(void)
{
    rfc6238_vectors();
    base32();
    window_and_replay();
    uri();
    return testhelp_done();
}
