/* The ingest core's field rules, as every transport meets them: a complete event passes; each
 * missing, too long or unknown value is named by its field; every failure is collected. */
#include "../../server/ingest.c"

#include "testhelp.h"

static struct ingest_event valid_event(void)
{
    struct ingest_event e = {
        .event_id = "ev-1",
        .type = "ordered",
        .occurred_at = "2026-11-20T14:05:00Z",
        .patient = {.mrn = "MRN-1",
                    .name = "Ada Lovelace",
                    .birth_date = "1985-12-10",
                    .email = "ada@example.org"},
        .study = {"ACC-1", "CT", "CT chest", NULL, NULL},
        .physician = {.id = "NPI-1",
                      .name = "Dr. Grace Hopper",
                      .scheduling_url = "https://clinic.example/schedule"},
    };
    return e;
}

static const char *first(const struct field_errors *fe, char *buf, size_t len)
{
    if (!fe->count)
        return NULL;
    snprintf(buf, len, "%s: %s", fe->list[0].field, fe->list[0].why);
    return buf;
}

static void events(void)
{
    char text[300];
    struct ingest_event e = valid_event();
    struct field_errors fe = {0};
    CHECK(ingest_event_check(&e, &fe) == 0 && fe.count == 0);

    e.patient.mrn = NULL;
    CHECK(ingest_event_check(&e, &fe) == 1);
    CHECK_STR(first(&fe, text, sizeof(text)), "patient.mrn: is required");

    e = valid_event();
    fe = (struct field_errors){0};
    e.type = "discharged";
    e.study.modality = "XRAY";
    e.physician.scheduling_url = "javascript:alert(1)";
    CHECK(ingest_event_check(&e, &fe) == 3);
    CHECK_STR(first(&fe, text, sizeof(text)),
              "type: must be one of ordered, scheduled, arrived, exam_started, exam_completed, "
              "read_started, cancelled");
    CHECK_STR(fe.list[1].field, "study.modality");
    CHECK_STR(fe.list[2].field, "referring_physician.scheduling_url");
    CHECK_STR(fe.list[2].why, "must be an http(s) URL");

    e = valid_event();
    fe = (struct field_errors){0};
    e.type = "scheduled";
    CHECK(ingest_event_check(&e, &fe) == 1);
    CHECK_STR(first(&fe, text, sizeof(text)), "scheduled_for: is required when type is scheduled");

    e = valid_event();
    fe = (struct field_errors){0};
    char long_id[INGEST_EVENT_ID_MAX + 2];
    memset(long_id, 'e', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    e.event_id = long_id;
    e.patient.birth_date = "1985-02-30";
    e.patient.email = "not-an-email";
    e.occurred_at = "2026-11-20 10:00:00Z";
    CHECK(ingest_event_check(&e, &fe) == 4);
    CHECK_STR(first(&fe, text, sizeof(text)), "event_id: must be at most 128 bytes");
    CHECK_STR(fe.list[1].field, "occurred_at");
    CHECK_STR(fe.list[2].why, "must be a date such as 1985-12-10");
    CHECK_STR(fe.list[3].why, "must be an email address");

    /* Nothing at all: every required field named, the list bounded. */
    struct ingest_event empty = {0};
    fe = (struct field_errors){0};
    CHECK(ingest_event_check(&empty, &fe) == 11);
    CHECK(fe.count == FIELD_ERRORS_MAX && fe.dropped == 11 - FIELD_ERRORS_MAX);
    CHECK_STR(first(&fe, text, sizeof(text)), "event_id: is required");
}

static void reports(void)
{
    char text[300];
    struct ingest_report r = {.event_id = "rep-1",
                              .accession = "ACC-1",
                              .status = "final",
                              .findings = "Findings.",
                              .impression = "Impression.",
                              .radiologist = "Dr. Marie Curie",
                              .signed_at = "2026-11-20T15:00:00Z"};
    struct field_errors fe = {0};
    CHECK(ingest_report_check(&r, &fe) == 0);
    r.status = "draft";
    r.radiologist = NULL;
    CHECK(ingest_report_check(&r, &fe) == 2);
    CHECK_STR(first(&fe, text, sizeof(text)), "status: must be one of preliminary, final, amended");
    CHECK_STR(fe.list[1].field, "radiologist.name");
}

/* A failed check never reaches the database: the outcome is a 422 naming the first field. */
static void invalid_is_422_without_a_database(void)
{
    struct ingest_event e = valid_event();
    e.study.accession = NULL;
    struct origin from = {.transport = "unit", .request_id = "unit-1"};
    struct ingest_result result;
    struct outcome o = {0};
    CHECK(ingest_event_apply(&e, &from, &result, &o) == 422);
    CHECK(o.kind == FAIL_INVALID && result.answer == NULL);
    CHECK_STR(o.detail, "study.accession: is required");
}

int main(void)
{
    events();
    reports();
    invalid_is_422_without_a_database();
    return testhelp_done();
}
