/* Ingest from the RIS: lifecycle events and report versions. Each is one transaction, idempotent
 * on event_id (the database keeps the first answer and gives it again), and validated field by
 * field before anything is written (CONTRACT invariant 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_code.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "validate.h"

#define EVENT_ID_MAX    128
#define NAME_MAX_BYTES  200
#define REPORT_TEXT_MAX (200 * 1024)

static const char *const event_types[] = {
    "ordered",        "scheduled",    "arrived",   "exam_started",
    "exam_completed", "read_started", "cancelled", NULL};
static const char *const modalities[] = {"CT", "MR", "XR", "US", "MG", "NM", "PET", NULL};
static const char *const priorities[] = {"routine", "urgent", "stat", NULL};
static const char *const report_statuses[] = {"preliminary", "final", "amended", NULL};

/* A fingerprint of the body independent of key order and spacing, so a replay is recognised and
 * a different payload under a used event_id is refused. It is keyed with the server's secret:
 * a plain hash of a report body stored in the database would let anyone holding the server's
 * database role test guesses of the report text offline (CONTRACT invariant 1). During a key
 * rotation the fingerprint under the previous secret follows, space-separated, so a replay
 * still matches (portal.ingest_claim). Without a secret (RS256-only set-ups) it is plain SHA-256.
 */
#define FINGERPRINT_MAX (2 * DIGEST_HEX_LEN + 2)

static int payload_hash(struct req *rq, char out[FINGERPRINT_MAX])
{
    const struct config *c = rq->cfg;
    char *canon = json_dumps(rq->in, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = -1;
    if (canon && c->jwt_secret) {
        char previous[DIGEST_HEX_LEN + 1];
        rc = digest_hmac_sha256_hex(c->jwt_secret, c->jwt_secret_len, canon, strlen(canon), out);
        if (rc == 0 && c->jwt_previous_secret) {
            rc = digest_hmac_sha256_hex(c->jwt_previous_secret, c->jwt_previous_secret_len, canon,
                                        strlen(canon), previous);
            if (rc == 0) {
                out[DIGEST_HEX_LEN] = ' ';
                memcpy(out + DIGEST_HEX_LEN + 1, previous, DIGEST_HEX_LEN + 1);
            }
        }
    } else if (canon) {
        rc = digest_sha256_hex(canon, strlen(canon), out);
    }
    free(canon);
    return rc < 0 ? req_problem(rq, 500, "Out of memory.") : 0;
}

/* Parses the function's jsonb answer and drops the internal flags. */
static json_t *answer_from(struct req *rq, const PGresult *res, bool *created, bool *replay)
{
    json_t *a = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (!a)
        return NULL;
    *created = json_is_true(json_object_get(a, "created_patient"));
    *replay = json_is_true(json_object_get(a, "replay"));
    json_object_del(a, "created_patient");
    json_object_del(a, "replay");
    (void)rq;
    return a;
}

int h_ingest_event(struct req *rq)
{
    static const char *const top[] = {"event_id", "type",  "occurred_at",         "scheduled_for",
                                      "patient",  "study", "referring_physician", NULL};
    static const char *const patient_f[] = {"mrn", "name", "birth_date", "email", NULL};
    static const char *const study_f[] = {"accession", "modality", "description",
                                          "priority",  "site",     NULL};
    static const char *const phys_f[] = {"id", "name", "phone", "scheduling_url", NULL};

    struct validation v = {rq, 0};
    json_t *in = rq->in;
    v_only(&v, in, "", top);
    const char *event_id = v_string(&v, in, "", "event_id", true, EVENT_ID_MAX);
    const char *type = v_choice(&v, in, "", "type", true, event_types);
    const char *occurred = v_timestamp(&v, in, "", "occurred_at", true);
    const char *sched_for = v_timestamp(&v, in, "", "scheduled_for", false);
    if (type && strcmp(type, "scheduled") == 0 && !sched_for)
        v_fail(&v, "", "scheduled_for", "is required when type is scheduled");
    json_t *pt = v_object(&v, in, "", "patient", true);
    v_only(&v, pt, "patient", patient_f);
    const char *mrn = v_string(&v, pt, "patient", "mrn", true, 64);
    const char *pname = v_string(&v, pt, "patient", "name", true, NAME_MAX_BYTES);
    const char *birth = v_date(&v, pt, "patient", "birth_date", true);
    const char *email = v_string(&v, pt, "patient", "email", false, 254);
    if (email && !strchr(email, '@'))
        v_fail(&v, "patient", "email", "must be an email address");
    json_t *st = v_object(&v, in, "", "study", true);
    v_only(&v, st, "study", study_f);
    const char *accession = v_string(&v, st, "study", "accession", true, 64);
    const char *modality = v_choice(&v, st, "study", "modality", true, modalities);
    const char *desc = v_string(&v, st, "study", "description", true, NAME_MAX_BYTES);
    const char *priority = v_choice(&v, st, "study", "priority", false, priorities);
    const char *site = v_string(&v, st, "study", "site", false, 64);
    json_t *ph = v_object(&v, in, "", "referring_physician", true);
    v_only(&v, ph, "referring_physician", phys_f);
    const char *phys_id = v_string(&v, ph, "referring_physician", "id", true, 64);
    const char *phys_name = v_string(&v, ph, "referring_physician", "name", true, NAME_MAX_BYTES);
    const char *phone = v_string(&v, ph, "referring_physician", "phone", false, 40);
    const char *sched_url = v_string(&v, ph, "referring_physician", "scheduling_url", false, 500);
    if (sched_url && strncmp(sched_url, "https://", 8) != 0 &&
        strncmp(sched_url, "http://", 7) != 0)
        v_fail(&v, "referring_physician", "scheduling_url", "must be an http(s) URL");
    if (v.status)
        return v.status;

    char hash[FINGERPRINT_MAX];
    int s;
    if ((s = payload_hash(rq, hash)))
        return s;
    const char *params[18] = {event_id,
                              hash,
                              type,
                              occurred,
                              sched_for,
                              mrn,
                              pname,
                              birth,
                              email,
                              accession,
                              modality,
                              desc,
                              priority ? priority : "routine",
                              site ? site : "main",
                              phys_id,
                              phys_name,
                              phone,
                              sched_url};
    PGresult *res;
    if ((s = db_command(rq, "BEGIN")) || (s = db_run(rq, Q_INGEST_EVENT, 18, params, &res)))
        return s;
    bool created = false, replay = false;
    json_t *answer = answer_from(rq, res, &created, &replay);
    if (!answer)
        return req_problem(rq, 500, "Out of memory.");
    if (created) {
        /* The code is shown in this answer only; the database keeps its hash. */
        struct access_code code;
        if (access_code_new(&code) < 0) {
            json_decref(answer);
            return req_problem(rq, 500, "Cannot make an access code.");
        }
        const char *p[3] = {json_string_value(json_object_get(answer, "patient_id")), code.selector,
                            code.hash};
        PGresult *r2;
        if ((s = db_run(rq, Q_SET_ACCESS_CODE, 3, p, &r2))) {
            json_decref(answer);
            return s;
        }
        json_object_set_new(answer, "access_code", json_string(code.code));
        memset(&code, 0, sizeof(code));
    }
    if ((s = db_command(rq, "COMMIT"))) {
        json_decref(answer);
        return s;
    }
    if (replay)
        log_msg(LOG_INFO, "request %s: event replayed, nothing changed", rq->request_id);
    return req_json(rq, 200, answer);
}

int h_ingest_report(struct req *rq)
{
    static const char *const top[] = {"event_id",   "accession",   "status",    "findings",
                                      "impression", "radiologist", "signed_at", NULL};
    static const char *const rad_f[] = {"name", NULL};
    struct validation v = {rq, 0};
    json_t *in = rq->in;
    v_only(&v, in, "", top);
    const char *event_id = v_string(&v, in, "", "event_id", true, EVENT_ID_MAX);
    const char *accession = v_string(&v, in, "", "accession", true, 64);
    const char *status = v_choice(&v, in, "", "status", true, report_statuses);
    const char *findings = v_string(&v, in, "", "findings", true, REPORT_TEXT_MAX);
    const char *impression = v_string(&v, in, "", "impression", true, REPORT_TEXT_MAX);
    json_t *rad = v_object(&v, in, "", "radiologist", true);
    v_only(&v, rad, "radiologist", rad_f);
    const char *rad_name = v_string(&v, rad, "radiologist", "name", true, NAME_MAX_BYTES);
    const char *signed_at = v_timestamp(&v, in, "", "signed_at", true);
    if (v.status)
        return v.status;

    char hash[FINGERPRINT_MAX];
    int s;
    if ((s = payload_hash(rq, hash)))
        return s;
    const char *params[8] = {event_id, hash,       accession, status,
                             findings, impression, rad_name,  signed_at};
    PGresult *res;
    if ((s = db_run(rq, Q_INGEST_REPORT, 8, params, &res)))
        return s;
    bool created = false, replay = false;
    json_t *answer = answer_from(rq, res, &created, &replay);
    if (!answer)
        return req_problem(rq, 500, "Out of memory.");
    return req_json(rq, 200, answer);
}
