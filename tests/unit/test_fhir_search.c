/* FHIR search parameters: dates as periods, prefixes, tokens, references, ids, result
 * parameters, strict and lenient handling, and every error naming its parameter. */
#include "../../server/fhir_search.c"

#include "testhelp.h"

#define US 1000000LL

static const struct fhir_resource *reports = &fhir_resources[FHIR_DIAGNOSTIC_REPORT];

static int parse1(const struct fhir_resource *r, const char *key, const char *value, bool strict,
                  struct fhir_search *s)
{
    struct fhir_kv kv[1] = {{key, value}};
    return fhir_search_parse(r, kv, 1, strict, s);
}

static void date_spans(void)
{
    long long a, b;
    CHECK(fhir_date_span("2026", &a, &b) && a == 1767225600LL * US && b == 1798761600LL * US);
    CHECK(fhir_date_span("2026-02", &a, &b) && b - a == 28 * 86400 * US);
    CHECK(fhir_date_span("2024-02", &a, &b) && b - a == 29 * 86400 * US);
    CHECK(fhir_date_span("2026-12", &a, &b) && b == 1798761600LL * US);
    CHECK(fhir_date_span("2026-11-20", &a, &b) && b - a == 86400 * US);
    CHECK(fhir_date_span("2026-11-20T14:05", &a, &b) && b - a == 60 * US);
    CHECK(fhir_date_span("2026-11-20T14:05:07Z", &a, &b) && b - a == US);
    CHECK(fhir_date_span("2026-11-20T14:05:07.25Z", &a, &b) && b - a == US / 100 &&
          a % US == 250000);
    long long z, plus;
    CHECK(fhir_date_span("2026-11-20T14:05:00Z", &z, &b) &&
          fhir_date_span("2026-11-20T15:05:00+01:00", &plus, &b) && z == plus);
    static const char *const bad[] = {"",
                                      "20",
                                      "2026-13",
                                      "2026-02-29",
                                      "2026-1-01",
                                      "2026-11-20T",
                                      "2026-11-20T24:00",
                                      "2026-11-20T10:00:60",
                                      "2026-11-20T10:00:00.1234567Z",
                                      "2026-11-20T10:00+15:00",
                                      "2026-11-20Z",
                                      "0000",
                                      "2026-11-20T10:00:00ZZ",
                                      NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(!fhir_date_span(bad[i], &a, &b));
}

static void dates_narrow_a_range(void)
{
    struct fhir_search s;
    struct fhir_kv kv[2] = {{"date", "ge2026-02-01"}, {"date", "lt2026-03-01"}};
    CHECK(fhir_search_parse(reports, kv, 2, true, &s) == 0);
    CHECK(s.date.has_lower && s.date.has_upper &&
          s.date.upper_us - s.date.lower_us == 28 * 86400 * US);
    CHECK(!s.matches_nothing);
    struct fhir_kv none[2] = {{"date", "gt2026-03"}, {"date", "le2026-03-31"}};
    CHECK(fhir_search_parse(reports, none, 2, true, &s) == 0 && s.matches_nothing);
    CHECK(parse1(reports, "date", "ap2026", true, &s) < 0);
    CHECK_STR(s.errors.list[0].field, "date");
    CHECK(parse1(reports, "_lastUpdated", "le2026-11-20T10:00:00Z", true, &s) == 0);
    CHECK(s.updated.has_upper && !s.updated.has_lower);
}

static void tokens_and_references(void)
{
    struct fhir_search s;
    CHECK(parse1(reports, "status", "final,amended", true, &s) == 0 && s.has_status);
    CHECK(s.statuses == ((1u << 1) | (1u << 2)));
    struct fhir_kv both[2] = {{"status", "final,amended"}, {"status", "amended"}};
    CHECK(fhir_search_parse(reports, both, 2, true, &s) == 0 && s.statuses == (1u << 2));
    CHECK(parse1(reports, "status", "done", true, &s) < 0);
    CHECK_STR(s.errors.list[0].field, "status");
    CHECK(parse1(&fhir_resources[FHIR_SERVICE_REQUEST], "status", "final", true, &s) < 0);
    CHECK(parse1(reports, "category", "LP29684-5", true, &s) == 0 && !s.matches_nothing);
    CHECK(parse1(reports, "category", "http://loinc.org|LP29684-5", true, &s) == 0 &&
          !s.matches_nothing);
    CHECK(parse1(reports, "category", "http://loinc.org|", true, &s) == 0 && !s.matches_nothing);
    CHECK(parse1(reports, "category", "|LP29684-5", true, &s) == 0 && s.matches_nothing);
    CHECK(parse1(reports, "category", "LAB", true, &s) == 0 && s.matches_nothing);
    CHECK(parse1(reports, "code", "x,18748-4", true, &s) == 0 && !s.matches_nothing);
    CHECK(parse1(reports, "patient", "Patient/abc-1", true, &s) == 0 && s.has_patient);
    CHECK_STR(s.patient, "abc-1");
    CHECK(parse1(reports, "patient", "abc", true, &s) == 0);
    CHECK(parse1(reports, "patient", "Group/abc", true, &s) < 0);
    struct fhir_kv two[2] = {{"patient", "a"}, {"patient", "b"}};
    CHECK(fhir_search_parse(reports, two, 2, true, &s) == 0 && s.matches_nothing);
}

static void ids(void)
{
    struct fhir_search s;
    CHECK(parse1(reports, "_id", "a-1,b-2", true, &s) == 0 && s.nids == 2);
    CHECK_STR(s.ids[1], "b-2");
    struct fhir_kv both[2] = {{"_id", "a,b,c"}, {"_id", "c,d,a"}};
    CHECK(fhir_search_parse(reports, both, 2, true, &s) == 0 && s.nids == 2);
    CHECK_STR(s.ids[0], "a");
    CHECK_STR(s.ids[1], "c");
    struct fhir_kv apart[2] = {{"_id", "a"}, {"_id", "b"}};
    CHECK(fhir_search_parse(reports, apart, 2, true, &s) == 0 && s.matches_nothing);
    CHECK(parse1(reports, "_id", "a b", true, &s) < 0);
    CHECK(parse1(reports, "_id", "a,,b", true, &s) < 0);
    char many[21 * 3] = "";
    for (int i = 0; i < 21; i++)
        strcat(many, i ? ",x" : "x");
    CHECK(parse1(reports, "_id", many, true, &s) < 0);
}

static void result_parameters(void)
{
    struct fhir_search s;
    CHECK(parse1(reports, "_count", "7", true, &s) == 0 && s.count == 7 && !s.count_clamped);
    CHECK(parse1(reports, "_count", "100000", true, &s) == 0 && s.count == 100 && s.count_clamped);
    CHECK(parse1(reports, "_count", "-1", true, &s) < 0);
    CHECK(parse1(reports, "_count", "9999999999", true, &s) < 0);
    CHECK(parse1(reports, "_sort", "date", true, &s) == 0 && s.ascending);
    CHECK(parse1(reports, "_sort", "-date", true, &s) == 0 && !s.ascending);
    CHECK(parse1(&fhir_resources[FHIR_PATIENT], "_sort", "date", true, &s) < 0);
    char cursor[FHIR_CURSOR_MAX];
    fhir_cursor_encode(40, cursor);
    CHECK(parse1(reports, "_page", cursor, true, &s) == 0 && s.offset == 40);
    CHECK(parse1(reports, "_page", "p", true, &s) < 0);
    CHECK(parse1(reports, "_page", "pfffffff", true, &s) < 0);
    CHECK(parse1(reports, "_page", "40", true, &s) < 0);
    CHECK(parse1(reports, "_format", "json", true, &s) == 0);
}

static void unknown_parameters_and_modifiers(void)
{
    struct fhir_search s;
    CHECK(parse1(reports, "flavour", "x", false, &s) == 0 && s.warnings.count == 1);
    CHECK_STR(s.warnings.list[0].field, "flavour");
    CHECK(!s.used[0]);
    CHECK(parse1(reports, "flavour", "x", true, &s) < 0);
    CHECK_STR(s.errors.list[0].field, "flavour");
    /* An unknown modifier is refused whatever the handling: ignoring :not inverts a search. */
    CHECK(parse1(reports, "status:not", "final", false, &s) < 0);
    CHECK_STR(s.errors.list[0].field, "status");
    CHECK(parse1(reports, "status", "", true, &s) == 0 && !s.has_status && !s.used[0]);
    char long_value[FHIR_VALUE_MAX + 2];
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    CHECK(parse1(reports, "code", long_value, true, &s) < 0);
    CHECK_STR(s.errors.list[0].field, "code");
    struct fhir_kv kv[FHIR_SEARCH_MAX_PARAMS + 1];
    for (int i = 0; i < FHIR_SEARCH_MAX_PARAMS + 1; i++)
        kv[i] = (struct fhir_kv){"_count", "1"};
    CHECK(fhir_search_parse(reports, kv, FHIR_SEARCH_MAX_PARAMS + 1, false, &s) < 0);
    CHECK(parse1(reports, "", "x", false, &s) < 0);
    CHECK(parse1(reports, ":T139:59Z", "x", false, &s) < 0); /* found by fuzz_fhir_search */
    CHECK_STR(s.errors.list[0].field, "_query");
}

int main(void)
{
    date_spans();
    dates_narrow_a_range();
    tokens_and_references();
    ids();
    result_parameters();
    unknown_parameters_and_modifiers();
    return testhelp_done();
}
