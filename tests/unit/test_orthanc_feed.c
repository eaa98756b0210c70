/* The PACS follower's own rules, without Orthanc or a database: the back-off doubles from the poll
 * interval up to its cap; the message the core fingerprints is one canonical text per change (so a
 * replay is recognised and a changed one refused); the arrival time prefers the study's last
 * instance; an unset URL starts nothing. The follower against a real Orthanc is
 * tests/integration/test_orthanc.py. */
#include "../../server/orthanc_feed.c"

#include "testhelp.h"

static void backoff(void)
{
    int want1[] = {1, 2, 4, 8, 16, 30, 30};
    int s = 0;
    for (size_t i = 0; i < sizeof(want1) / sizeof(want1[0]); i++) {
        s = backoff_next(s, 1);
        CHECK(s == want1[i]);
    }
    CHECK(backoff_next(0, 2) == 2 && backoff_next(2, 2) == 4 && backoff_next(16, 2) == 30);
    /* A poll interval above the cap is the cap. */
    CHECK(backoff_next(0, 120) == 120 && backoff_next(120, 120) == 120);
}

static void message(void)
{
    struct orthanc_change c = {.seq = 42, .type = ORTHANC_CHANGE_STABLE_STUDY, .id = "ab-cd"};
    struct ingest_images im = {
        .accession = "ACC-1", .study_instance_uid = "1.2.3", .occurred_at = "2026-11-20T14:05:00Z"};
    char *m = images_message(&c, &im);
    CHECK_STR(m, "{\"accession\":\"ACC-1\",\"change\":42,\"occurred_at\":\"2026-11-20T14:05:00Z\","
                 "\"orthanc_study\":\"ab-cd\",\"study_instance_uid\":\"1.2.3\"}");
    free(m);
    im.study_instance_uid = NULL;
    m = images_message(&c, &im);
    CHECK(m && strstr(m, "\"study_instance_uid\":null"));
    free(m);
}

static void arrival_time(void)
{
    struct orthanc_study st = {.last_update = "2026-11-20T14:05:00Z"};
    struct orthanc_change c = {.date = "2026-11-20T14:05:02Z"};
    char now[ORTHANC_TIME_SIZE];
    CHECK_STR(arrival(&st, &c, now), "2026-11-20T14:05:00Z");
    st.last_update[0] = '\0';
    CHECK_STR(arrival(&st, &c, now), "2026-11-20T14:05:02Z");
    c.date[0] = '\0';
    const char *t = arrival(&st, &c, now);
    CHECK(t == now && strlen(now) == 20 && now[10] == 'T' && now[19] == 'Z');
}

static void off_without_a_url(void)
{
    struct config cfg = {0};
    struct orthanc_feed_stats s;
    CHECK(orthanc_feed_start(&cfg) == NULL);
    CHECK(!orthanc_feed_stats(&s) && s.position == -1 && s.changes == 0);
    orthanc_feed_stop(NULL);
}

int main(void)
{
    backoff();
    message();
    arrival_time();
    off_without_a_url();
    return testhelp_done();
}
