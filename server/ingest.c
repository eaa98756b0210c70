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

/* The patient's identifier and demographics, by the same rules in every message that names one. */
static void check_person(struct field_errors *fe, const char *mrn, const char *authority,
                         bool authority_required, bool partial, const char *name,
                         const char *birth_date, const char *email, const char *phone)
{
    field_text(fe, "patient", "mrn", mrn, true, INGEST_ID_MAX);
    field_text(fe, "patient", "assigning_authority", authority, authority_required, INGEST_ID_MAX);
    field_text(fe, "patient", "name", name, !partial, INGEST_NAME_MAX);
    if (partial ? birth_date != NULL : field_present(fe, "patient", "birth_date", birth_date))
        field_date(fe, "patient", "birth_date", birth_date);
    field_text(fe, "patient", "email", email, false, INGEST_EMAIL_MAX);
    if (email && !strchr(email, '@'))
        field_error_add(fe, "patient", "email", "must be an email address");
    field_text(fe, "patient", "phone", phone, false, INGEST_PHONE_MAX);
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

    check_person(fe, e->patient.mrn, e->patient.assigning_authority, false, e->partial,
                 e->patient.name, e->patient.birth_date, e->patient.email, e->patient.phone);

    field_text(fe, "study", "accession", e->study.accession, true, INGEST_ID_MAX);
    if (e->partial ? e->study.modality != NULL
                   : field_present(fe, "study", "modality", e->study.modality))
        field_one_of(fe, "study", "modality", e->study.modality, ingest_modalities, NULL);
    field_text(fe, "study", "description", e->study.description, !e->partial, INGEST_NAME_MAX);
    field_one_of(fe, "study", "priority", e->study.priority, ingest_priorities, NULL);
    field_text(fe, "study", "site", e->study.site, false, INGEST_ID_MAX);

    const char *ph = "referring_physician";
    field_text(fe, ph, "id", e->physician.id, !e->partial, INGEST_ID_MAX);
    field_text(fe, ph, "assigning_authority", e->physician.assigning_authority, false,
               INGEST_ID_MAX);
    field_text(fe, ph, "name", e->physician.name, !e->partial, INGEST_NAME_MAX);
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

int ingest_patient_check(const struct ingest_patient *p, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_text(fe, "", "event_id", p->event_id, true, INGEST_EVENT_ID_MAX);
    check_person(fe, p->mrn, p->assigning_authority, true, false, p->name, p->birth_date, p->email,
                 p->phone);
    return fe->count + fe->dropped - before;
}

int ingest_merge_check(const struct ingest_merge *m, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_text(fe, "", "event_id", m->event_id, true, INGEST_EVENT_ID_MAX);
    field_text(fe, "patient", "mrn", m->mrn, true, INGEST_ID_MAX);
    field_text(fe, "patient", "assigning_authority", m->assigning_authority, true, INGEST_ID_MAX);
    field_text(fe, "merged", "mrn", m->merged_mrn, true, INGEST_ID_MAX);
    field_text(fe, "merged", "assigning_authority", m->merged_authority, true, INGEST_ID_MAX);
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
static int issue_access_code(struct ingest_result *result, const char *event_id,
                             const struct origin *from, struct outcome *o)
{
    const char *request_id = from->request_id;
    struct access_code code;
    if (from->ready_code)
        code = *from->ready_code;
    else if (access_code_new(&code) < 0)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Cannot make an access code.");
    const char *p[4] = {json_string_value(json_object_get(result->answer, "patient_id")),
                        code.selector, code.hash, event_id};
    int s = db_exec_command(Q_SET_ACCESS_CODE, 4, p, o, request_id);
    if (s == 0)
        json_object_set_new(result->answer, "access_code", json_string(code.code));
    memset(&code, 0, sizeof(code));
    return s;
}

/* A replay of the event whose answer carried a new patient's access code: the code is kept only
 * as a hash, so the replay cannot repeat it, and the sender may never have read the first answer
 * (the connection dropped, the server was killed after the commit). The answer says so, and the
 * patient is marked for an operator (`portald access-codes-pending`), so no code is lost
 * silently. */
static int tell_code_not_repeated(struct ingest_result *result, const char *event_id,
                                  const char *request_id, struct outcome *o)
{
    const char *patient = json_string_value(json_object_get(result->answer, "patient_id"));
    if (!patient)
        return 0;
    const char *p[2] = {patient, event_id};
    PGresult *r;
    int s = db_exec(Q_ACCESS_CODE_NOT_REPEATED, 2, p, &r, o, request_id);
    if (s)
        return s;
    bool marked = PQntuples(r) == 1;
    PQclear(r);
    if (marked) {
        json_object_set_new(result->answer, "access_code_status", json_string("not_repeated"));
        log_msg(LOG_WARN,
                "request %s: replay of the event that issued patient %s's access code; the code "
                "is not repeated, see portald access-codes-pending",
                request_id, patient);
    }
    return 0;
}

/* Runs one ingest function: in the caller's batch when one is open, else in a transaction of its
 * own when a new patient's access code must be written with it, else alone. */
static int record(enum query q, int nparams, const char *const *params, const struct origin *from,
                  struct ingest_result *result, struct outcome *o)
{
    const char *id = from->request_id;
    bool in_batch = db_in_transaction();
    bool may_create = (q == Q_INGEST_EVENT || q == Q_INGEST_PATIENT) && from->hands_out_access_code;
    bool own = !in_batch && may_create;
    PGresult *res;
    int s;
    if ((own && (s = db_exec_command(Q_BEGIN, 0, NULL, o, id))) ||
        (s = db_exec(q, nparams, params, &res, o, id)))
        goto fail;
    bool created = false;
    s = take_answer(res, result, &created, o);
    PQclear(res);
    if (s || (created && may_create && (s = issue_access_code(result, params[0], from, o))) ||
        (own && (s = db_exec_command(Q_COMMIT, 0, NULL, o, id))))
        goto fail;
    if (result->replay) {
        log_msg(LOG_INFO, "request %s: message replayed, nothing changed", id);
        if (may_create && (s = tell_code_not_repeated(result, params[0], id, o)))
            goto fail;
    }
    return 0;
fail:
    db_work_done();
    json_decref(result->answer);
    result->answer = NULL;
    return s;
}

/* Starts a call: clears the result, checks the fields, makes the message's fingerprint. */
static int prepare(struct ingest_result *result, int invalid_fields, const struct origin *from,
                   const char *message, size_t message_len, const char *own_fingerprint,
                   char hash[FINGERPRINT_MAX], struct outcome *o)
{
    result->answer = NULL;
    result->replay = false;
    if (invalid_fields) {
        db_work_done(); /* the batch this call was part of is abandoned with it */
        return outcome_invalid(o, &o->fields);
    }
    if (!own_fingerprint && fingerprint(from->cfg, message, message_len, hash) < 0) {
        db_work_done();
        return outcome_fail(o, FAIL_INTERNAL, 500, "Out of memory.");
    }
    return 0;
}

int ingest_event_apply(const struct ingest_event *e, const struct origin *from,
                       struct ingest_result *result, struct outcome *o)
{
    char hash[FINGERPRINT_MAX];
    int s = prepare(result, ingest_event_check(e, &o->fields), from, e->message, e->message_len,
                    e->fingerprint, hash, o);
    if (s)
        return s;
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
        [IEP_PRIORITY] = e->study.priority || e->partial ? e->study.priority : "routine",
        [IEP_SITE] = e->study.site || e->partial ? e->study.site : "main",
        [IEP_PHYSICIAN_ID] = e->physician.id,
        [IEP_PHYSICIAN_NAME] = e->physician.name,
        [IEP_PHYSICIAN_PHONE] = e->physician.phone,
        [IEP_SCHEDULING_URL] = e->physician.scheduling_url,
        [IEP_ASSIGNING_AUTHORITY] = e->patient.assigning_authority,
        [IEP_PATIENT_PHONE] = e->patient.phone,
        [IEP_PHYSICIAN_AUTHORITY] = e->physician.assigning_authority,
        [IEP_ACTOR_ROLE] = from->actor_role,
        [IEP_ACTOR_ID] = from->actor_id,
        [IEP_CLIENT_ADDR] = from->client_addr,
        [IEP_REQUEST_ID] = from->request_id,
    };
    return record(Q_INGEST_EVENT, IEP_COUNT, p, from, result, o);
}

int ingest_report_apply(const struct ingest_report *r, const struct origin *from,
                        struct ingest_result *result, struct outcome *o)
{
    char hash[FINGERPRINT_MAX];
    int s = prepare(result, ingest_report_check(r, &o->fields), from, r->message, r->message_len,
                    r->fingerprint, hash, o);
    if (s)
        return s;
    const char *p[IRP_COUNT] = {
        [IRP_EVENT_ID] = r->event_id,
        [IRP_PAYLOAD_HASH] = r->fingerprint ? r->fingerprint : hash,
        [IRP_ACCESSION] = r->accession,
        [IRP_STATUS] = r->status,
        [IRP_FINDINGS] = r->findings,
        [IRP_IMPRESSION] = r->impression,
        [IRP_RADIOLOGIST] = r->radiologist,
        [IRP_SIGNED_AT] = r->signed_at,
        [IRP_ACTOR_ROLE] = from->actor_role,
        [IRP_ACTOR_ID] = from->actor_id,
        [IRP_CLIENT_ADDR] = from->client_addr,
        [IRP_REQUEST_ID] = from->request_id,
    };
    return record(Q_INGEST_REPORT, IRP_COUNT, p, from, result, o);
}

int ingest_patient_apply(const struct ingest_patient *pt, const struct origin *from,
                         struct ingest_result *result, struct outcome *o)
{
    char hash[FINGERPRINT_MAX];
    int s = prepare(result, ingest_patient_check(pt, &o->fields), from, pt->message,
                    pt->message_len, NULL, hash, o);
    if (s)
        return s;
    const char *p[IPP_COUNT] = {
        [IPP_EVENT_ID] = pt->event_id,
        [IPP_PAYLOAD_HASH] = hash,
        [IPP_ASSIGNING_AUTHORITY] = pt->assigning_authority,
        [IPP_MRN] = pt->mrn,
        [IPP_PATIENT_NAME] = pt->name,
        [IPP_BIRTH_DATE] = pt->birth_date,
        [IPP_EMAIL] = pt->email,
        [IPP_PATIENT_PHONE] = pt->phone,
        [IPP_ACTOR_ROLE] = from->actor_role,
        [IPP_ACTOR_ID] = from->actor_id,
        [IPP_CLIENT_ADDR] = from->client_addr,
        [IPP_REQUEST_ID] = from->request_id,
    };
    return record(Q_INGEST_PATIENT, IPP_COUNT, p, from, result, o);
}

int ingest_merge_apply(const struct ingest_merge *m, const struct origin *from,
                       struct ingest_result *result, struct outcome *o)
{
    char hash[FINGERPRINT_MAX];
    int s = prepare(result, ingest_merge_check(m, &o->fields), from, m->message, m->message_len,
                    NULL, hash, o);
    if (s)
        return s;
    const char *p[IMP_COUNT] = {
        [IMP_EVENT_ID] = m->event_id,
        [IMP_PAYLOAD_HASH] = hash,
        [IMP_ASSIGNING_AUTHORITY] = m->assigning_authority,
        [IMP_MRN] = m->mrn,
        [IMP_MERGED_AUTHORITY] = m->merged_authority,
        [IMP_MERGED_MRN] = m->merged_mrn,
        [IMP_ACTOR_ROLE] = from->actor_role,
        [IMP_ACTOR_ID] = from->actor_id,
        [IMP_CLIENT_ADDR] = from->client_addr,
        [IMP_REQUEST_ID] = from->request_id,
    };
    return record(Q_INGEST_MERGE, IMP_COUNT, p, from, result, o);
}

int ingest_study_owner(const char *accession, const char *authority, const char *mrn,
                       const struct origin *from, bool *exists, bool *same_patient,
                       struct outcome *o)
{
    PGresult *res;
    const char *p[3] = {accession, authority, mrn};
    int s = db_exec(Q_STUDY_OWNER, 3, p, &res, o, from->request_id);
    if (s) {
        db_work_done();
        return s;
    }
    *exists = strcmp(PQgetvalue(res, 0, 0), "true") == 0;
    *same_patient = strcmp(PQgetvalue(res, 0, 1), "true") == 0;
    PQclear(res);
    return 0;
}

int ingest_batch_begin(const struct origin *from, struct outcome *o)
{
    return db_exec_command(Q_BEGIN, 0, NULL, o, from->request_id);
}

int ingest_batch_commit(const struct origin *from, struct outcome *o)
{
    int s = db_exec_command(Q_COMMIT, 0, NULL, o, from->request_id);
    if (s)
        db_work_done();
    return s;
}

void ingest_batch_abandon(void)
{
    db_work_done();
}

/* ---- Images received, from the PACS ---- */

/* A DICOM UID as the database keeps it: numbers separated by single dots. */
static bool dicom_uid(const char *s)
{
    bool digit = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digit = true;
        else if (*s == '.' && digit)
            digit = false;
        else
            return false;
    }
    return digit;
}

int ingest_images_check(const struct ingest_images *im, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_text(fe, "", "event_id", im->event_id, true, INGEST_EVENT_ID_MAX);
    field_text(fe, "", "accession", im->accession, true, INGEST_ID_MAX);
    const char *uid = im->study_instance_uid;
    if (field_text(fe, "", "study_instance_uid", uid, false, INGEST_UID_MAX) && uid &&
        !dicom_uid(uid))
        field_error_add(fe, "", "study_instance_uid", "must be a DICOM UID (digits and dots)");
    if (field_present(fe, "", "occurred_at", im->occurred_at))
        field_timestamp(fe, "", "occurred_at", im->occurred_at);
    return fe->count + fe->dropped - before;
}

int ingest_images_apply(const struct ingest_images *im, const struct origin *from,
                        struct ingest_result *result, struct outcome *o)
{
    char hash[FINGERPRINT_MAX];
    int s = prepare(result, ingest_images_check(im, &o->fields), from, im->message, im->message_len,
                    NULL, hash, o);
    if (s)
        return s;
    const char *p[IIP_COUNT] = {
        [IIP_EVENT_ID] = im->event_id,       [IIP_PAYLOAD_HASH] = hash,
        [IIP_ACCESSION] = im->accession,     [IIP_STUDY_INSTANCE_UID] = im->study_instance_uid,
        [IIP_OCCURRED_AT] = im->occurred_at, [IIP_ACTOR_ROLE] = from->actor_role,
        [IIP_ACTOR_ID] = from->actor_id,     [IIP_CLIENT_ADDR] = from->client_addr,
        [IIP_REQUEST_ID] = from->request_id,
    };
    return record(Q_INGEST_IMAGES, IIP_COUNT, p, from, result, o);
}
