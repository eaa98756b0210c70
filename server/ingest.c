/* Ingest: every field checked by the same rules whichever transport carried it, then one call of
 * portal.ingest_event or portal.ingest_report with named arguments (queries.h), in one
 * transaction with the new patient's access code. */
#include "ingest.h"

#include <stdio.h>
#include <string.h>

#include "access_code.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "fields.h"
#include "log.h"
#include "queries.h"

const char *const ingest_event_types[] = {
    "ordered",        "scheduled",    "arrived",   "exam_started",
    "exam_completed", "read_started", "cancelled", NULL};
const char *const ingest_modalities[] = {"CT", "MR", "XR", "US", "MG", "NM", "PET", NULL};
const char *const ingest_priorities[] = {"routine", "urgent", "stat", NULL};
const char *const ingest_report_statuses[] = {"preliminary", "final", "amended", NULL};

/* The fingerprint of a message, keyed with the server's secret: a plain hash of a report body
 * stored in the database would let anyone holding the server's database role test guesses of the
 * report text offline (CONTRACT invariant 1). During a key rotation the fingerprint under the
 * previous secret follows, space-separated, so a replay still matches (portal.ingest_claim).
 * Without a secret (RS256-only set-ups) it is plain SHA-256. */
#define FINGERPRINT_MAX (2 * DIGEST_HEX_LEN + 2)

static int fingerprint(const struct config *c, const char *msg, size_t len,
                       char out[FINGERPRINT_MAX])
{
    if (!msg)
        return -1;
    if (!c || !c->jwt_secret)
        return digest_sha256_hex(msg, len, out);
    if (digest_hmac_sha256_hex(c->jwt_secret, c->jwt_secret_len, msg, len, out) < 0)
        return -1;
    if (c->jwt_previous_secret) {
        char previous[DIGEST_HEX_LEN + 1];
        if (digest_hmac_sha256_hex(c->jwt_previous_secret, c->jwt_previous_secret_len, msg, len,
                                   previous) < 0)
            return -1;
        out[DIGEST_HEX_LEN] = ' ';
        memcpy(out + DIGEST_HEX_LEN + 1, previous, DIGEST_HEX_LEN + 1);
    }
    return 0;
}

int ingest_event_check(const struct ingest_event *e, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_text(fe, "", "event_id", e->event_id, true, INGEST_EVENT_ID_MAX);
    if (field_present(fe, "", "type", e->type))
        field_one_of(fe, "", "type", e->type, ingest_event_types, NULL);
    if (field_present(fe, "", "occurred_at", e->occurred_at))
        field_timestamp(fe, "", "occurred_at", e->occurred_at);
    field_timestamp(fe, "", "scheduled_for", e->scheduled_for);
    if (e->type && strcmp(e->type, "scheduled") == 0 && !e->scheduled_for)
        field_error_add(fe, "", "scheduled_for", "is required when type is scheduled");

    field_text(fe, "patient", "mrn", e->patient.mrn, true, INGEST_ID_MAX);
    field_text(fe, "patient", "name", e->patient.name, true, INGEST_NAME_MAX);
    if (field_present(fe, "patient", "birth_date", e->patient.birth_date))
        field_date(fe, "patient", "birth_date", e->patient.birth_date);
    field_text(fe, "patient", "email", e->patient.email, false, INGEST_EMAIL_MAX);
    if (e->patient.email && !strchr(e->patient.email, '@'))
        field_error_add(fe, "patient", "email", "must be an email address");

    field_text(fe, "study", "accession", e->study.accession, true, INGEST_ID_MAX);
    if (field_present(fe, "study", "modality", e->study.modality))
        field_one_of(fe, "study", "modality", e->study.modality, ingest_modalities, NULL);
    field_text(fe, "study", "description", e->study.description, true, INGEST_NAME_MAX);
    field_one_of(fe, "study", "priority", e->study.priority, ingest_priorities, NULL);
    field_text(fe, "study", "site", e->study.site, false, INGEST_ID_MAX);

    const char *ph = "referring_physician";
    field_text(fe, ph, "id", e->physician.id, true, INGEST_ID_MAX);
    field_text(fe, ph, "name", e->physician.name, true, INGEST_NAME_MAX);
    field_text(fe, ph, "phone", e->physician.phone, false, INGEST_PHONE_MAX);
    const char *url = e->physician.scheduling_url;
    field_text(fe, ph, "scheduling_url", url, false, INGEST_URL_MAX);
    if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        field_error_add(fe, ph, "scheduling_url", "must be an http(s) URL");
    return fe->count + fe->dropped - before;
}

int ingest_report_check(const struct ingest_report *r, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_text(fe, "", "event_id", r->event_id, true, INGEST_EVENT_ID_MAX);
    field_text(fe, "", "accession", r->accession, true, INGEST_ID_MAX);
    if (field_present(fe, "", "status", r->status))
        field_one_of(fe, "", "status", r->status, ingest_report_statuses, NULL);
    field_text(fe, "", "findings", r->findings, true, INGEST_REPORT_TEXT_MAX);
    field_text(fe, "", "impression", r->impression, true, INGEST_REPORT_TEXT_MAX);
    field_text(fe, "radiologist", "name", r->radiologist, true, INGEST_NAME_MAX);
    if (field_present(fe, "", "signed_at", r->signed_at))
        field_timestamp(fe, "", "signed_at", r->signed_at);
    return fe->count + fe->dropped - before;
}

/* Takes the function's jsonb answer, dropping the internal flags. */
static int take_answer(const PGresult *res, struct ingest_result *result, bool *created,
                       struct outcome *o)
{
    json_t *a = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (!a)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Out of memory.");
    if (created)
        *created = json_is_true(json_object_get(a, "created_patient"));
    result->replay = json_is_true(json_object_get(a, "replay"));
    json_object_del(a, "created_patient");
    json_object_del(a, "replay");
    result->answer = a;
    return 0;
}

/* Gives a patient the ingest just created an access code, inside the ingest's transaction: the
 * database keeps its hash, and the code itself is in this answer only. */
static int issue_access_code(struct ingest_result *result, const char *request_id,
                             struct outcome *o)
{
    struct access_code code;
    if (access_code_new(&code) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Cannot make an access code.");
    const char *p[3] = {json_string_value(json_object_get(result->answer, "patient_id")),
                        code.selector, code.hash};
    int s = db_exec_command(Q_SET_ACCESS_CODE, 3, p, o, request_id);
    if (s == 0)
        json_object_set_new(result->answer, "access_code", json_string(code.code));
    memset(&code, 0, sizeof(code));
    return s;
}

int ingest_event_apply(const struct ingest_event *e, const struct origin *from,
                       struct ingest_result *result, struct outcome *o)
{
    result->answer = NULL;
    result->replay = false;
    if (ingest_event_check(e, &o->fields))
        return outcome_invalid(o, &o->fields);
    char hash[FINGERPRINT_MAX];
    if (!e->fingerprint && fingerprint(from->cfg, e->message, e->message_len, hash) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Out of memory.");
    const char *p[IEP_COUNT] = {
        [IEP_EVENT_ID] = e->event_id,
        [IEP_PAYLOAD_HASH] = e->fingerprint ? e->fingerprint : hash,
        [IEP_TYPE] = e->type,
        [IEP_OCCURRED_AT] = e->occurred_at,
        [IEP_SCHEDULED_FOR] = e->scheduled_for,
        [IEP_MRN] = e->patient.mrn,
        [IEP_PATIENT_NAME] = e->patient.name,
        [IEP_BIRTH_DATE] = e->patient.birth_date,
        [IEP_EMAIL] = e->patient.email,
        [IEP_ACCESSION] = e->study.accession,
        [IEP_MODALITY] = e->study.modality,
        [IEP_DESCRIPTION] = e->study.description,
        [IEP_PRIORITY] = e->study.priority ? e->study.priority : "routine",
        [IEP_SITE] = e->study.site ? e->study.site : "main",
        [IEP_PHYSICIAN_ID] = e->physician.id,
        [IEP_PHYSICIAN_NAME] = e->physician.name,
        [IEP_PHYSICIAN_PHONE] = e->physician.phone,
        [IEP_SCHEDULING_URL] = e->physician.scheduling_url,
    };
    const char *id = from->request_id;
    PGresult *res;
    int s;
    if ((s = db_exec_command(Q_BEGIN, 0, NULL, o, id)) ||
        (s = db_exec(Q_INGEST_EVENT, IEP_COUNT, p, &res, o, id)))
        goto fail;
    bool created = false;
    s = take_answer(res, result, &created, o);
    PQclear(res);
    if (s || (created && (s = issue_access_code(result, id, o))) ||
        (s = db_exec_command(Q_COMMIT, 0, NULL, o, id)))
        goto fail;
    if (result->replay)
        log_msg(LOG_INFO, "request %s: event replayed, nothing changed", id);
    return 0;
fail:
    db_work_done();
    json_decref(result->answer);
    result->answer = NULL;
    return s;
}

int ingest_report_apply(const struct ingest_report *r, const struct origin *from,
                        struct ingest_result *result, struct outcome *o)
{
    result->answer = NULL;
    result->replay = false;
    if (ingest_report_check(r, &o->fields))
        return outcome_invalid(o, &o->fields);
    char hash[FINGERPRINT_MAX];
    if (!r->fingerprint && fingerprint(from->cfg, r->message, r->message_len, hash) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Out of memory.");
    const char *p[IRP_COUNT] = {
        [IRP_EVENT_ID] = r->event_id,
        [IRP_PAYLOAD_HASH] = r->fingerprint ? r->fingerprint : hash,
        [IRP_ACCESSION] = r->accession,
        [IRP_STATUS] = r->status,
        [IRP_FINDINGS] = r->findings,
        [IRP_IMPRESSION] = r->impression,
        [IRP_RADIOLOGIST] = r->radiologist,
        [IRP_SIGNED_AT] = r->signed_at,
    };
    PGresult *res;
    int s = db_exec(Q_INGEST_REPORT, IRP_COUNT, p, &res, o, from->request_id);
    if (s)
        return s;
    s = take_answer(res, result, NULL, o);
    PQclear(res);
    return s;
}
