/* argon2id hashing of typed secrets: a hash verifies only its own secret, carries the pinned
 * cost, never holds the secret, and a missing hash never verifies yet does the same work. */
#include "../../server/secret_hash.c"

#include <time.h>

#include "testhelp.h"

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hash_verifies_its_own_secret(void)
{
    char a[SECRET_HASH_MAX], b[SECRET_HASH_MAX];
    const char *secret = "correct horse battery";
    CHECK(secret_hash(secret, strlen(secret), a) == 0);
    CHECK(secret_hash(secret, strlen(secret), b) == 0);
    CHECK(strncmp(a, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    CHECK(strcmp(a, b) != 0); /* a fresh salt each time */
    CHECK(strstr(a, secret) == NULL);
    CHECK(secret_hash_verify(a, secret, strlen(secret)));
    CHECK(secret_hash_verify(b, secret, strlen(secret)));
    CHECK(!secret_hash_verify(a, "correct horse batterx", strlen(secret)));
    CHECK(!secret_hash_verify(a, secret, strlen(secret) - 1));
    CHECK(!secret_hash_verify(a, "", 0));
    CHECK(!secret_hash_verify("", secret, strlen(secret)));
    CHECK(!secret_hash_verify("$argon2id$garbage", secret, strlen(secret)));
}

static void missing_hash_costs_alike_and_never_verifies(void)
{
    char h[SECRET_HASH_MAX];
    CHECK(secret_hash("s3cret", 6, h) == 0);
    CHECK(!secret_hash_verify(NULL, "s3cret", 6));
    CHECK(dummy_hash[0] == '$'); /* the dummy was made, so the work is real */
    CHECK(!secret_hash_verify(NULL, "", 0));
    /* Best of three each, so a busy machine does not decide: a missing hash must cost at least
     * half of a real verification (argon2id at 19 MiB takes tens of milliseconds). */
    double real = 1e9, missing = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = seconds();
        CHECK(!secret_hash_verify(h, "wrong", 5));
        double t1 = seconds();
        CHECK(!secret_hash_verify(NULL, "wrong", 5));
        double t2 = seconds();
        real = t1 - t0 < real ? t1 - t0 : real;
        missing = t2 - t1 < missing ? t2 - t1 : missing;
    }
    CHECK(missing > real / 2);
}

int main(void)
{
    hash_verifies_its_own_secret();
    missing_hash_costs_alike_and_never_verifies();
    return testhelp_done();
}
