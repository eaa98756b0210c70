/* What the session-revocation check (server/revocation.c) costs on the hot path, beside the
 * token check every request already pays (a cache hit in server/auth.c): 10,000,000 in-memory
 * checks against 100,000 revoked people, and 1,000,000 verifications of a cached token. Build and
 * run from the repository root after `make`:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude $(pkg-config --cflags libpq jansson) \
 *     -o build/revocation_cost tests/bench/revocation_cost.c \
 *     $(ls build/obj/*.o | grep -v 'main.o\|revocation.o') \
 *     $(pkg-config --libs libmicrohttpd libpq jansson libjwt libargon2 libcrypto libcurl) -lpthread
 *   build/revocation_cost */
#include "../../server/revocation.c"

#include <time.h>

#include "auth.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    char sub[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(sub, sizeof(sub), "%08x-0000-4000-8000-%012d", i, i);
        remember(ROLE_PATIENT, sub, 1800000000L, true);
    }
    atomic_store(&in_memory, true);
    struct principal who = {.role = ROLE_PATIENT, .iat = 1700000000L};
    strcpy(who.sub, "deadbeef-0000-4000-8000-000000000001");
    int n = 10000000, ended = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        who.sub[0] = (char)('a' + (i & 3));
        ended += revocation_check(&who, "bench") == REVOCATION_ENDED;
    }
    double t1 = now_s();
    printf("revocation_check in memory, 100,000 revoked people: %.1f ns per call\n",
           (t1 - t0) / n * 1e9);

    static struct config c = {.jwt_secret = "bench-secret-0123456789abcdef0123456789",
                              .jwt_secret_len = 39,
                              .jwt_issuer = "portal",
                              .jwt_audience = "portal"};
    char err[64];
    if (auth_init(&c, err, sizeof(err)))
        return 1;
    char *tok = auth_sign(ROLE_PATIENT, who.sub, 600, time(NULL), NULL);
    struct principal w;
    time_t now = time(NULL);
    if (!tok || auth_verify(tok, now, &w) != AUTH_OK)
        return 2;
    t0 = now_s();
    for (int i = 0; i < 1000000; i++)
        ended += auth_verify(tok, now, &w) != AUTH_OK;
    t1 = now_s();
    printf("auth_verify of a cached token: %.1f ns per call\n", (t1 - t0) / 1000000 * 1e9);
    free(tok);
    return ended ? 3 : 0;
}
