/* Orthanc's answers as the PACS follower reads them: a real /changes page and a real study (as
 * Orthanc 1.10.1 wrote them) parse into their structs; every broken or hostile variant is refused
 * with a reason, or read with the value left out; and what the follower hands the ingest core
 * passes the core's rules (ingest_images_check). */
#include "../../server/orthanc.c"

#include "ingest.h"
#include "testhelp.h"

static const char changes_page[] =
    "{\"Changes\": ["
    "{\"ChangeType\": \"NewInstance\", \"Date\": \"20261205T093211\", "
    "\"ID\": \"c7d583c6-43620936-79728543-867991ff-1ec657ec\", "
    "\"Path\": \"/instances/c7d583c6-43620936-79728543-867991ff-1ec657ec\", "
    "\"ResourceType\": \"Instance\", \"Seq\": 1},"
    "{\"ChangeType\": \"NewStudy\", \"Date\": \"20261205T093211\", "
    "\"ID\": \"7adbb589-e2512963-0f859766-02d58e06-30579c0a\", "
    "\"Path\": \"/studies/7adbb589-e2512963-0f859766-02d58e06-30579c0a\", "
    "\"ResourceType\": \"Study\", \"Seq\": 3},"
    "{\"ChangeType\": \"StableStudy\", \"Date\": \"20261205T093213\", "
    "\"ID\": \"7adbb589-e2512963-0f859766-02d58e06-30579c0a\", "
    "\"Path\": \"/studies/7adbb589-e2512963-0f859766-02d58e06-30579c0a\", "
    "\"ResourceType\": \"Study\", \"Seq\": 6},"
    "{\"ChangeType\": \"StablePatient\", \"Date\": \"20261205T093213\", "
    "\"ID\": \"856ddde0-6f81b570-cf601537-028d61be-68a18973\", "
    "\"Path\": \"/patients/856ddde0-6f81b570-cf601537-028d61be-68a18973\", "
    "\"ResourceType\": \"Patient\", \"Seq\": 7}"
    "], \"Done\": true, \"Last\": 7}";

static const char study[] =
    "{\"ID\": \"7adbb589-e2512963-0f859766-02d58e06-30579c0a\", \"IsStable\": true, "
    "\"LastUpdate\": \"20261205T093211\", "
    "\"MainDicomTags\": {\"AccessionNumber\": \"ACC-TEST-1\", \"StudyDate\": \"20261120\", "
    "\"StudyID\": \"1\", \"StudyInstanceUID\": \"1.2.826.0.1.3680043.8.498.100\", "
    "\"StudyTime\": \"140500\"}, "
    "\"ParentPatient\": \"856ddde0-6f81b570-cf601537-028d61be-68a18973\", "
    "\"PatientMainDicomTags\": {\"PatientID\": \"MRN-1\", \"PatientName\": \"Test^Patient\"}, "
    "\"Series\": [\"b29ce04b-491c8eb8-7cc6c23e-cf430a5f-0de339cf\"], \"Type\": \"Study\"}";

#define STUDY_ID "7adbb589-e2512963-0f859766-02d58e06-30579c0a"

static struct orthanc_changes page;

static int changes(const char *body, long long since, char *err)
{
    return orthanc_parse_changes(body, strlen(body), since, &page, err, 160);
}

static void a_real_page(void)
{
    char err[160];
    CHECK(changes(changes_page, 0, err) == 0);
    CHECK(page.count == 4 && page.done && page.last == 7);
    CHECK(page.list[0].seq == 1 && page.list[0].type == ORTHANC_CHANGE_OTHER);
    CHECK_STR(page.list[0].id, "");
    CHECK(page.list[2].seq == 6 && page.list[2].type == ORTHANC_CHANGE_STABLE_STUDY);
    CHECK_STR(page.list[2].id, STUDY_ID);
    CHECK_STR(page.list[2].date, "2026-12-05T09:32:13Z");
    CHECK(page.list[3].type == ORTHANC_CHANGE_OTHER);

    /* An empty page: Orthanc's Last is the position asked for. */
    CHECK(changes("{\"Changes\": [], \"Done\": true, \"Last\": 7}", 7, err) == 0);
    CHECK(page.count == 0 && page.done && page.last == 7);
    /* A missing or odd Date is left out, not a refusal. */
    CHECK(changes("{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"ab-01\", "
                  "\"Seq\": 9, \"Date\": \"yesterday\"}], \"Done\": false, \"Last\": 9}",
                  8, err) == 0);
    CHECK(page.count == 1 && !page.done && page.list[0].date[0] == '\0');
}

static void broken_pages(void)
{
    static const struct {
        const char *body;
        long long since;
        const char *why;
    } cases[] = {
        {"", 0, "the answer to /changes is not JSON"},
        {"<html><body>502 Bad Gateway</body></html>", 0, "the answer to /changes is not JSON"},
        {"{\"Changes\": [", 0, "the answer to /changes is not JSON"},
        {"[]", 0, "the answer to /changes lacks Changes, Done or Last"},
        {"{\"Changes\": {}, \"Done\": true, \"Last\": 1}", 0,
         "the answer to /changes lacks Changes, Done or Last"},
        {"{\"Changes\": [], \"Done\": \"yes\", \"Last\": 1}", 0,
         "the answer to /changes lacks Changes, Done or Last"},
        {"{\"Changes\": [], \"Done\": true, \"Last\": \"1\"}", 0,
         "the answer to /changes lacks Changes, Done or Last"},
        {"{\"Changes\": [7], \"Done\": true, \"Last\": 1}", 0,
         "a change without an integer Seq and a ChangeType"},
        {"{\"Changes\": [{\"ChangeType\": \"NewStudy\", \"Seq\": 1.5}], \"Done\": true, "
         "\"Last\": 1}",
         0, "a change without an integer Seq and a ChangeType"},
        {"{\"Changes\": [{\"ChangeType\": 3, \"Seq\": 1}], \"Done\": true, \"Last\": 1}", 0,
         "a change without an integer Seq and a ChangeType"},
        /* Changes at or before the position asked for, or out of order, would be applied twice. */
        {"{\"Changes\": [{\"ChangeType\": \"NewStudy\", \"Seq\": 5}], \"Done\": true, "
         "\"Last\": 5}",
         5, "the changes' Seq do not increase past the position asked for"},
        {"{\"Changes\": [{\"ChangeType\": \"NewStudy\", \"Seq\": 7}, {\"ChangeType\": "
         "\"NewSeries\", \"Seq\": 6}], \"Done\": true, \"Last\": 7}",
         0, "the changes' Seq do not increase past the position asked for"},
        {"{\"Changes\": [{\"ChangeType\": \"NewStudy\", \"Seq\": -3}], \"Done\": true, "
         "\"Last\": 1}",
         0, "the changes' Seq do not increase past the position asked for"},
        {"{\"Changes\": [{\"ChangeType\": \"NewStudy\", \"Seq\": 4}], \"Done\": true, "
         "\"Last\": 3}",
         0, "the answer to /changes has a Last below its changes"},
        /* A study id goes into a URL path: nothing but Orthanc's own form. */
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"Seq\": 1}], \"Done\": true, "
         "\"Last\": 1}",
         0, "a StableStudy change without a well-formed study ID"},
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"../../system\", "
         "\"Seq\": 1}], \"Done\": true, \"Last\": 1}",
         0, "a StableStudy change without a well-formed study ID"},
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"ABCDEF\", \"Seq\": 1}], "
         "\"Done\": true, \"Last\": 1}",
         0, "a StableStudy change without a well-formed study ID"},
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"ab?x=1\", \"Seq\": 1}], "
         "\"Done\": true, \"Last\": 1}",
         0, "a StableStudy change without a well-formed study ID"},
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"\", \"Seq\": 1}], "
         "\"Done\": true, \"Last\": 1}",
         0, "a StableStudy change without a well-formed study ID"},
        /* jansson refuses an escaped NUL, which would cut a C string short. */
        {"{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"ab\\u0000cd\", \"Seq\": 1}], "
         "\"Done\": true, \"Last\": 1}",
         0, "the answer to /changes is not JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[160] = "";
        int rc = changes(cases[i].body, cases[i].since, err);
        CHECK(rc == -1 && page.count == 0);
        CHECK_STR(err, cases[i].why);
    }

    /* An id of the longest form passes; one byte more does not. */
    char body[512], id[ORTHANC_ID_MAX + 2], err[160];
    memset(id, 'a', sizeof(id));
    id[ORTHANC_ID_MAX] = '\0';
    snprintf(body, sizeof(body),
             "{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"%s\", \"Seq\": 1}], "
             "\"Done\": true, \"Last\": 1}",
             id);
    CHECK(changes(body, 0, err) == 0 && page.count == 1);
    id[ORTHANC_ID_MAX] = 'a';
    id[ORTHANC_ID_MAX + 1] = '\0';
    snprintf(body, sizeof(body),
             "{\"Changes\": [{\"ChangeType\": \"StableStudy\", \"ID\": \"%s\", \"Seq\": 1}], "
             "\"Done\": true, \"Last\": 1}",
             id);
    CHECK(changes(body, 0, err) == -1);

    /* More changes than a page holds. */
    static char big[64 * 1024];
    size_t n = (size_t)snprintf(big, sizeof(big), "{\"Changes\": [");
    for (int i = 1; i <= ORTHANC_CHANGES_MAX + 1; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n,
                              "%s{\"ChangeType\": \"NewStudy\", "
                              "\"Seq\": %d}",
                              i > 1 ? "," : "", i);
    snprintf(big + n, sizeof(big) - n, "], \"Done\": false, \"Last\": 101}");
    CHECK(changes(big, 0, err) == -1);
    CHECK_STR(err, "the answer to /changes holds more changes than asked for");
}

static int parse_study(const char *body, struct orthanc_study *st, char *err)
{
    return orthanc_parse_study(body, strlen(body), STUDY_ID, st, err, 160);
}

/* The study with its MainDicomTags replaced (and LastUpdate, when given). */
static const char *variant(const char *tags, const char *last_update)
{
    static char body[1024];
    snprintf(body, sizeof(body),
             "{\"ID\": \"" STUDY_ID "\", \"LastUpdate\": \"%s\", \"MainDicomTags\": %s}",
             last_update ? last_update : "20261205T093211", tags);
    return body;
}

static void studies(void)
{
    struct orthanc_study st;
    char err[160];
    CHECK(parse_study(study, &st, err) == 0);
    CHECK_STR(st.accession, "ACC-TEST-1");
    CHECK_STR(st.study_instance_uid, "1.2.826.0.1.3680043.8.498.100");
    CHECK_STR(st.last_update, "2026-12-05T09:32:11Z");

    /* DICOM pads with spaces; a blank, missing or overlong accession is none. */
    CHECK(parse_study(variant("{\"AccessionNumber\": \"  ACC 7 \", \"StudyInstanceUID\": "
                              "\"1.2 \"}",
                              NULL),
                      &st, err) == 0);
    CHECK_STR(st.accession, "ACC 7");
    CHECK_STR(st.study_instance_uid, "1.2");
    CHECK(parse_study(variant("{\"AccessionNumber\": \"   \"}", NULL), &st, err) == 0);
    CHECK_STR(st.accession, "");
    CHECK_STR(st.study_instance_uid, "");
    CHECK(parse_study(variant("{\"StudyInstanceUID\": \"1.2.3\"}", NULL), &st, err) == 0);
    CHECK_STR(st.accession, "");
    CHECK(parse_study(variant("{\"AccessionNumber\": 1234}", NULL), &st, err) == 0);
    CHECK_STR(st.accession, "");
    char tags[256], acc[ORTHANC_ACCESSION_MAX + 2];
    memset(acc, 'A', sizeof(acc));
    acc[ORTHANC_ACCESSION_MAX] = '\0';
    snprintf(tags, sizeof(tags), "{\"AccessionNumber\": \"%s\"}", acc);
    CHECK(parse_study(variant(tags, NULL), &st, err) == 0 &&
          strlen(st.accession) == ORTHANC_ACCESSION_MAX);
    acc[ORTHANC_ACCESSION_MAX] = 'A';
    acc[ORTHANC_ACCESSION_MAX + 1] = '\0';
    snprintf(tags, sizeof(tags), "{\"AccessionNumber\": \"%s\"}", acc);
    CHECK(parse_study(variant(tags, NULL), &st, err) == 0);
    CHECK_STR(st.accession, "");
    /* A LastUpdate that is not a real time is left out. */
    CHECK(parse_study(variant("{}", "20261305T093211"), &st, err) == 0);
    CHECK_STR(st.last_update, "");

    static const struct {
        const char *body;
        const char *why;
    } refused[] = {
        {"", "the answer to /studies/{id} is not JSON"},
        {"Unauthorized", "the answer to /studies/{id} is not JSON"},
        {"[1, 2]", "the answer to /studies/{id} lacks MainDicomTags"},
        {"{\"ID\": \"" STUDY_ID "\"}", "the answer to /studies/{id} lacks MainDicomTags"},
        {"{\"ID\": \"" STUDY_ID "\", \"MainDicomTags\": []}",
         "the answer to /studies/{id} lacks MainDicomTags"},
        {"{\"ID\": \"another\", \"MainDicomTags\": {}}",
         "the answer to /studies/{id} is about another resource"},
        {"{\"MainDicomTags\": {}}", "the answer to /studies/{id} is about another resource"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        CHECK(parse_study(refused[i].body, &st, err) == -1);
        CHECK_STR(err, refused[i].why);
        CHECK(st.accession[0] == '\0');
    }
}

static void times_and_ids(void)
{
    char out[ORTHANC_TIME_SIZE];
    CHECK(orthanc_time("20261120T140500", out));
    CHECK_STR(out, "2026-11-20T14:05:00Z");
    CHECK(orthanc_time("20240229T235959", out));
    static const char *const bad[] = {"20230229T120000",
                                      "20261120T250000",
                                      "20261120 140500",
                                      "20261120T1405",
                                      "2026-11-20T14:05:00Z",
                                      "20261120T14050x",
                                      "",
                                      "20261120T140500.123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!orthanc_time(bad[i], out));
        CHECK_STR(out, "");
    }
    CHECK(!orthanc_time(NULL, out));

    CHECK(orthanc_id_valid(STUDY_ID));
    CHECK(!orthanc_id_valid(""));
    CHECK(!orthanc_id_valid("7ADBB589"));
    CHECK(!orthanc_id_valid("7adbb589/../x"));
    CHECK(!orthanc_id_valid("7adbb589 "));
}

/* What the follower builds from a study passes the core's rules; what it must not send does not. */
static void core_rules(void)
{
    struct ingest_images im = {.event_id = "orthanc:6:" STUDY_ID,
                               .accession = "ACC-TEST-1",
                               .study_instance_uid = "1.2.826.0.1.3680043.8.498.100",
                               .occurred_at = "2026-12-05T09:32:11Z"};
    struct field_errors fe = {0};
    CHECK(ingest_images_check(&im, &fe) == 0);
    im.study_instance_uid = NULL;
    CHECK(ingest_images_check(&im, &fe) == 0);

    static const char *const bad_uids[] = {"", "1..2", ".1", "1.", "a.b", "1.2.3 ", "-1",
                                           /* 65 bytes */
                                           "1234567890123456789012345678901234567890123456789012"
                                           "3456789012.45"};
    for (size_t i = 0; i < sizeof(bad_uids) / sizeof(bad_uids[0]); i++) {
        im.study_instance_uid = bad_uids[i];
        fe = (struct field_errors){0};
        CHECK(ingest_images_check(&im, &fe) == 1);
        CHECK_STR(fe.list[0].field, "study_instance_uid");
    }
    im.study_instance_uid = "1.2";
    im.accession = NULL;
    im.occurred_at = "20261205T093211";
    fe = (struct field_errors){0};
    CHECK(ingest_images_check(&im, &fe) == 2);
    CHECK_STR(fe.list[0].field, "accession");
    CHECK_STR(fe.list[1].field, "occurred_at");
}

int main(void)
{
    a_real_page();
    broken_pages();
    studies();
    times_and_ids();
    core_rules();
    return testhelp_done();
}
