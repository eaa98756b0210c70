/* Timestamp checks at the edges: real dates and times only, zones required, and PostgreSQL's UTC
 * text turned into RFC 3339. */
#include "../../server/timefmt.c"

#include "testhelp.h"

static void rfc3339_accepts(void)
{
    CHECK(timefmt_is_rfc3339("2026-11-20T14:05:00Z"));
    CHECK(timefmt_is_rfc3339("2026-11-20t14:05:00z"));
    CHECK(timefmt_is_rfc3339("2026-11-20T14:05:00.1Z"));
    CHECK(timefmt_is_rfc3339("2026-11-20T14:05:00.123456789Z"));
    CHECK(timefmt_is_rfc3339("2026-11-20T14:05:00+01:00"));
    CHECK(timefmt_is_rfc3339("2026-11-20T14:05:00-23:59"));
    CHECK(timefmt_is_rfc3339("2024-02-29T00:00:00Z"));
    CHECK(timefmt_is_rfc3339("2000-02-29T23:59:60Z")); /* a leap second */
}

static void rfc3339_refuses(void)
{
    const char *bad[] = {"",
                         "2026-11-20",
                         "2026-11-20T14:05:00",             /* no zone */
                         "2026-11-20 14:05:00Z",            /* space */
                         "2026-11-20T14:05Z",               /* no seconds */
                         "2026-13-20T14:05:00Z",            /* month */
                         "2026-00-20T14:05:00Z",            /* month */
                         "2026-11-31T14:05:00Z",            /* November has 30 days */
                         "2026-02-29T14:05:00Z",            /* not a leap year */
                         "1900-02-29T14:05:00Z",            /* century, not leap */
                         "2026-11-00T14:05:00Z",            /* day */
                         "2026-11-20T24:00:00Z",            /* hour */
                         "2026-11-20T14:60:00Z",            /* minute */
                         "2026-11-20T14:05:61Z",            /* second */
                         "2026-11-20T14:05:00.Z",           /* empty fraction */
                         "2026-11-20T14:05:00.1234567890Z", /* fraction too long */
                         "2026-11-20T14:05:00+0100",        /* offset without colon */
                         "2026-11-20T14:05:00+24:00",       /* offset hour */
                         "2026-11-20T14:05:00+01:60",       /* offset minute */
                         "2026-11-20T14:05:00Z ",           /* trailing space */
                         "2026-11-20T14:05:00ZZ",
                         "1849-12-31T00:00:00Z", /* before any patient */
                         "+2026-11-20T14:05:00Z",
                         "2026-1-20T14:05:00Z",
                         "yesterday at noon, roughly",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        if (timefmt_is_rfc3339(bad[i])) {
            printf("# accepted %s\n", bad[i]);
            CHECK(!"a bad timestamp was accepted");
        } else {
            CHECK(1);
        }
    }
}

static void dates(void)
{
    CHECK(timefmt_is_date("1985-12-10"));
    CHECK(timefmt_is_date("2000-02-29"));
    CHECK(!timefmt_is_date("2001-02-29"));
    CHECK(!timefmt_is_date("1985-12-1"));
    CHECK(!timefmt_is_date("1985-12-10T00:00:00Z"));
    CHECK(!timefmt_is_date("10/12/1985"));
    CHECK(!timefmt_is_date("1985-04-31"));
    CHECK(!timefmt_is_date(""));
}

static void from_postgres(void)
{
    char out[TIMEFMT_RFC3339_LEN];
    CHECK_STR(timefmt_pg_to_rfc3339("2026-11-20 14:05:00+00", out), "2026-11-20T14:05:00Z");
    CHECK_STR(timefmt_pg_to_rfc3339("2026-11-20 14:05:00.123456+00", out), "2026-11-20T14:05:00Z");
    CHECK(timefmt_pg_to_rfc3339(NULL, out) == NULL);
    /* Text that is not a timestamp is passed through, bounded, never overrun. */
    CHECK_STR(timefmt_pg_to_rfc3339("infinity", out), "infinity");
    char long_text[100];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    CHECK(strlen(timefmt_pg_to_rfc3339(long_text, out)) == TIMEFMT_RFC3339_LEN - 1);
}

int main(void)
{
    rfc3339_accepts();
    rfc3339_refuses();
    dates();
    from_postgres();
    return testhelp_done();
}
