/* Kept patient pages: keyed by patient and study, never across patients, returned with their
 * stamps, bounded by the byte budget (least recently used first out), forgotten after the time to
 * live, and safe to use from many threads at once. */
#include "../../server/page_cache.c"

#include <stdio.h>

#include "testhelp.h"

#define PATIENT_A "0b9d6c52-35a4-4b1e-9d1e-5c1f7a9e2b10"
#define PATIENT_B "7f3e2a11-90c4-4d6b-8a2f-3e5d9c1b4a77"
#define STUDY_1   "c2a1f0e3-4b5d-4e6f-8a7b-9c0d1e2f3a4b"
#define STUDY_2   "d3b2e1f4-5c6e-4f70-9b8c-0d1e2f3a4b5c"

static char *get(const char *patient, const char *study, struct page_stamp *st, size_t *len)
{
    return page_cache_get(patient, study, LANG_EN, st, len);
}

static void keeps_pages_by_patient_and_study(void)
{
    CHECK(page_cache_init(1 << 20, 60) == 0);
    CHECK(page_cache_enabled());
    struct page_stamp st = {0, 0, 0};
    size_t len = 0;
    CHECK(get(PATIENT_A, STUDY_1, &st, &len) == NULL);

    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){7, 3, 0}, "{\"a\":1}", 7,
                   page_cache_generation());
    page_cache_put(PATIENT_A, NULL, LANG_EN, (struct page_stamp){7, 3, 0}, "{\"list\":[]}", 11,
                   page_cache_generation());
    char *page = get(PATIENT_A, STUDY_1, &st, &len);
    CHECK_STR(page, "{\"a\":1}");
    CHECK(len == 7 && st.patient == 7 && st.global == 3);
    free(page);

    /* Another patient never gets the page, even for the same study id. */
    CHECK(get(PATIENT_B, STUDY_1, &st, &len) == NULL);
    /* The list and a study are different pages. */
    page = get(PATIENT_A, NULL, &st, &len);
    CHECK_STR(page, "{\"list\":[]}");
    free(page);
    CHECK(get(PATIENT_A, STUDY_2, &st, &len) == NULL);
    /* The nil UUID is a study id like any other, never the list. */
    CHECK(get(PATIENT_A, "00000000-0000-0000-0000-000000000000", &st, &len) == NULL);

    /* Upper-case spelling of the same ids is the same key. */
    page = get("0B9D6C52-35A4-4B1E-9D1E-5C1F7A9E2B10", "C2A1F0E3-4B5D-4E6F-8A7B-9C0D1E2F3A4B", &st,
               &len);
    CHECK_STR(page, "{\"a\":1}");
    free(page);

    /* A newer page replaces the kept one, stamps and all. */
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){8, 3, 2}, "{\"a\":2}", 7,
                   page_cache_generation());
    page = get(PATIENT_A, STUDY_1, &st, &len);
    CHECK_STR(page, "{\"a\":2}");
    CHECK(st.patient == 8 && st.report_version == 2);
    free(page);

    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.pages == 2);
    CHECK(s.stored == 3);
    page_cache_free();
}

static void refuses_what_is_not_a_uuid(void)
{
    CHECK(page_cache_init(1 << 20, 60) == 0);
    struct page_stamp st;
    size_t len;
    const char *bad[] = {"",
                         "not-a-uuid",
                         PATIENT_A "0",
                         "0b9d6c52-35a4-4b1e-9d1e-5c1f7a9e2b1",
                         "0b9d6c52x35a4-4b1e-9d1e-5c1f7a9e2b10",
                         "0b9d6c52-35a4-4b1e-9d1e-5c1f7a9e2b1g"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        page_cache_put(bad[i], STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, "x", 1,
                       page_cache_generation());
        page_cache_put(PATIENT_A, bad[i], LANG_EN, (struct page_stamp){1, 1, 0}, "x", 1,
                       page_cache_generation());
        CHECK(get(bad[i], STUDY_1, &st, &len) == NULL);
        CHECK(get(PATIENT_A, bad[i], &st, &len) == NULL);
    }
    CHECK(get(NULL, STUDY_1, &st, &len) == NULL);
    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.pages == 0);
    page_cache_free();
}

static void stays_within_its_budget(void)
{
    /* 64 shards of 4 KiB: three 1,000-byte pages fit in a shard, a 5,000-byte page in none. */
    CHECK(page_cache_init(NSHARDS * 4096, 60) == 0);
    char body[1000];
    memset(body, 'x', sizeof(body));
    char study[40];
    for (int i = 0; i < 2000; i++) {
        snprintf(study, sizeof(study), "00000000-0000-4000-8000-%012d", i);
        page_cache_put(PATIENT_A, study, LANG_EN, (struct page_stamp){i, 1, 0}, body, sizeof(body),
                       page_cache_generation());
    }
    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.bytes <= (size_t)NSHARDS * 4096);
    CHECK(s.pages > 0 && s.pages < 2000);
    CHECK(s.evicted == 2000 - s.pages);
    /* The last one put is still there; the first ones are gone. */
    struct page_stamp st;
    size_t len;
    char *page = get(PATIENT_A, study, &st, &len);
    CHECK(page != NULL && len == sizeof(body) && st.patient == 1999);
    free(page);
    CHECK(get(PATIENT_A, "00000000-0000-4000-8000-000000000000", &st, &len) == NULL);

    char big[5000];
    memset(big, 'y', sizeof(big));
    page_cache_put(PATIENT_B, STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, big, sizeof(big),
                   page_cache_generation());
    CHECK(get(PATIENT_B, STUDY_1, &st, &len) == NULL);
    page_cache_free();
}

static void forgets_after_the_time_to_live(void)
{
    CHECK(page_cache_init(1 << 20, 1) == 0);
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, "{}", 2,
                   page_cache_generation());
    struct page_stamp st;
    size_t len;
    char *page = get(PATIENT_A, STUDY_1, &st, &len);
    CHECK(page != NULL);
    free(page);
    struct timespec pause = {1, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(get(PATIENT_A, STUDY_1, &st, &len) == NULL);
    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.pages == 0 && s.bytes == 0);
    page_cache_free();
}

static void clear_drops_everything(void)
{
    CHECK(page_cache_init(1 << 20, 60) == 0);
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, "{}", 2,
                   page_cache_generation());
    page_cache_put(PATIENT_B, NULL, LANG_EN, (struct page_stamp){1, 1, 0}, "{}", 2,
                   page_cache_generation());
    page_cache_clear();
    struct page_stamp st;
    size_t len;
    CHECK(get(PATIENT_A, STUDY_1, &st, &len) == NULL);
    CHECK(get(PATIENT_B, NULL, &st, &len) == NULL);
    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.pages == 0 && s.bytes == 0);
    /* A page read before the clear is not kept after it. */
    unsigned long long before = page_cache_generation();
    page_cache_clear();
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){3, 1, 0}, "{}", 2, before);
    CHECK(get(PATIENT_A, STUDY_1, &st, &len) == NULL);
    /* Still usable afterwards. */
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){2, 1, 0}, "{\"b\":1}", 7,
                   page_cache_generation());
    char *page = get(PATIENT_A, STUDY_1, &st, &len);
    CHECK_STR(page, "{\"b\":1}");
    free(page);
    page_cache_free();
}

static void off_keeps_nothing(void)
{
    CHECK(page_cache_init(0, 30) == 0);
    CHECK(!page_cache_enabled());
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, "{}", 2,
                   page_cache_generation());
    struct page_stamp st;
    size_t len;
    CHECK(get(PATIENT_A, STUDY_1, &st, &len) == NULL);
    page_cache_free();
}

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    char study[40], body[600];
    memset(body, 'z', sizeof(body));
    for (int i = 0; i < 20000; i++) {
        int n = (int)(rand_r(&seed) % 500);
        snprintf(study, sizeof(study), "00000000-0000-4000-8000-%012d", n);
        if (rand_r(&seed) % 2) {
            page_cache_put(PATIENT_A, study, LANG_EN, (struct page_stamp){n, 1, 0}, body,
                           (size_t)(100 + n % 400), page_cache_generation());
        } else {
            struct page_stamp st;
            size_t len;
            char *page = page_cache_get(PATIENT_A, study, LANG_EN, &st, &len);
            /* A page comes back whole and with its own stamps. */
            if (page && (st.patient != n || len != (size_t)(100 + n % 400)))
                return (void *)1;
            free(page);
        }
    }
    return NULL;
}

static void many_threads_at_once(void)
{
    CHECK(page_cache_init(NSHARDS * 8192, 60) == 0);
    pthread_t t[4];
    for (size_t i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, churn, (void *)(i + 1)) == 0);
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL);
    }
    struct page_cache_stats s;
    page_cache_stats(&s);
    CHECK(s.bytes <= (size_t)NSHARDS * 8192);
    page_cache_free();
}

/* A page's texts are in one language: a Spanish reader never gets the English page. */
static void keeps_each_language_apart(void)
{
    CHECK(page_cache_init(1 << 20, 60) == 0);
    struct page_stamp st = {0, 0, 0};
    size_t len = 0;
    page_cache_put(PATIENT_A, STUDY_1, LANG_EN, (struct page_stamp){1, 1, 0}, "{\"en\":1}", 8,
                   page_cache_generation());
    CHECK(page_cache_get(PATIENT_A, STUDY_1, LANG_ES, &st, &len) == NULL);
    CHECK(page_cache_get(PATIENT_A, STUDY_1, LANG_FR, &st, &len) == NULL);
    page_cache_put(PATIENT_A, STUDY_1, LANG_ES, (struct page_stamp){1, 1, 0}, "{\"es\":1}", 8,
                   page_cache_generation());
    char *page = page_cache_get(PATIENT_A, STUDY_1, LANG_ES, &st, &len);
    CHECK_STR(page, "{\"es\":1}");
    free(page);
    page = page_cache_get(PATIENT_A, STUDY_1, LANG_EN, &st, &len);
    CHECK_STR(page, "{\"en\":1}");
    free(page);
    /* The list in one language is not a study in another. */
    CHECK(page_cache_get(PATIENT_A, NULL, LANG_ES, &st, &len) == NULL);
    page_cache_free();
}

static void counts_outcomes(void)
{
    struct page_cache_stats before, after;
    page_cache_stats(&before);
    page_cache_note(PAGE_HIT);
    page_cache_note(PAGE_HIT);
    page_cache_note(PAGE_STALE);
    page_cache_note(PAGE_MISS);
    page_cache_stats(&after);
    CHECK(after.hits == before.hits + 2);
    CHECK(after.stale == before.stale + 1);
    CHECK(after.misses == before.misses + 1);
}

int main(void)
{
    keeps_pages_by_patient_and_study();
    keeps_each_language_apart();
    refuses_what_is_not_a_uuid();
    stays_within_its_budget();
    forgets_after_the_time_to_live();
    clear_drops_everything();
    off_keeps_nothing();
    many_threads_at_once();
    counts_outcomes();
    return testhelp_done();
}
