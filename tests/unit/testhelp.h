/* A tiny unit-test harness: CHECK records a result, the test's main returns testhelp_done(),
 * which prints "N passed, N failed". */
#ifndef PORTAL_TESTHELP_H
#define PORTAL_TESTHELP_H

#include <stdio.h>
#include <string.h>

static int testhelp_passed;
static int testhelp_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            testhelp_passed++;                                                                     \
        } else {                                                                                   \
            testhelp_failed++;                                                                     \
            printf("not ok - %s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ && w_ && strcmp(g_, w_) == 0) {                                                     \
            testhelp_passed++;                                                                     \
        } else {                                                                                   \
            testhelp_failed++;                                                                     \
            printf("not ok - %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,                \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                        \
        }                                                                                          \
    } while (0)

static inline int testhelp_done(void)
{
    printf("%d passed, %d failed\n", testhelp_passed, testhelp_failed);
    return testhelp_failed ? 1 : 0;
}

#endif
