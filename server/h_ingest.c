/* The JSON API's ingest endpoints: a translator from the request body into the core's structs
 * (ingest.h). The body's shape (objects, strings, known members) is checked here; every rule on
 * the values is the core's, shared with every other transport. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access_code.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "ingest.h"
#include "req_db.h"
#include "validate.h"

/* Validation of the shape stops at the first object that is not one; its members are not looked
 * for. Strings have no length limit here: the core applies its own. */
#define ANY_LENGTH SIZE_MAX

/* Answers the core's result, or its failure. */
static int answer(struct req *rq, int s, struct ingest_result *result, const struct outcome *o)
{
    if (s)
        return req_fail(rq, o);
    return req_json(rq, 200, result->answer);
}

/* The body with sorted keys and no spaces: what the fingerprint is made of, so a replay is
 * recognised whatever the key order and spacing. */
static char *canonical(struct req *rq)
{
    return json_dumps(rq->in, JSON_COMPACT | JSON_SORT_KEYS);
}

/* The RIS that holds the token sent it; its answer carries a new patient's access code unless the
 * site issues codes on request only (PORTAL_INGEST_ACCESS_CODES). */
static struct origin ris_origin(const struct req *rq)
{
    return (struct origin){.transport = "http",
                           .request_id = rq->request_id,
                           .client_addr = rq->client_addr,
                           .cfg = rq->cfg,
                           .actor_role = "ris",
                           .actor_id = rq->who.sub,
                           .hands_out_access_code = !rq->cfg->ingest_codes_on_request};
}

/* An event waiting for its new patient's access code. */
struct event_later {
    struct ingest_event e;
    char *message; /* e.message, owned */
    struct access_code code;
    bool code_ready;
};

static void free_event_later(void *p)
{
    struct event_later *l = p;
    free(l->message);
    explicit_bzero(&l->code, sizeof(l->code));
    free(l);
}

static void make_access_code(struct req *rq)
{
    struct event_later *l = rq->ctx;
    l->code_ready = access_code_new(&l->code) == 0;
}

static int record_event(struct req *rq)
{
    struct event_later *l = rq->ctx;
    struct origin from = ris_origin(rq);
    if (l->code_ready)
        from.ready_code = &l->code;
    struct ingest_result result;
    struct outcome o = {0};
    int s = ingest_event_apply(&l->e, &from, &result, &o);
    return answer(rq, s, &result, &o);
}

int h_ingest_event(struct req *rq)
{
    static const char *const top[] = {"event_id", "type",  "occurred_at",         "scheduled_for",
                                      "patient",  "study", "referring_physician", NULL};
    static const char *const patient_f[] = {
        "mrn", "assigning_authority", "name", "birth_date", "email", NULL};
    static const char *const study_f[] = {"accession", "modality", "description",
                                          "priority",  "site",     NULL};
    static const char *const phys_f[] = {"id", "name", "phone", "scheduling_url", NULL};
    const char *const ph = "referring_physician";

    struct validation v = {0};
    json_t *in = rq->in;
    struct ingest_event e = {0};
    v_only(&v, in, "", top);
    e.event_id = v_string(&v, in, "", "event_id", true, ANY_LENGTH);
    e.type = v_string(&v, in, "", "type", true, ANY_LENGTH);
    e.occurred_at = v_string(&v, in, "", "occurred_at", true, ANY_LENGTH);
    e.scheduled_for = v_string(&v, in, "", "scheduled_for", false, ANY_LENGTH);
    json_t *pt = v_object(&v, in, "", "patient", true);
    v_only(&v, pt, "patient", patient_f);
    e.patient.mrn = v_string(&v, pt, "patient", "mrn", true, ANY_LENGTH);
    e.patient.assigning_authority =
        v_string(&v, pt, "patient", "assigning_authority", false, ANY_LENGTH);
    e.patient.name = v_string(&v, pt, "patient", "name", true, ANY_LENGTH);
    e.patient.birth_date = v_string(&v, pt, "patient", "birth_date", true, ANY_LENGTH);
    e.patient.email = v_string(&v, pt, "patient", "email", false, ANY_LENGTH);
    json_t *st = v_object(&v, in, "", "study", true);
    v_only(&v, st, "study", study_f);
    e.study.accession = v_string(&v, st, "study", "accession", true, ANY_LENGTH);
    e.study.modality = v_string(&v, st, "study", "modality", true, ANY_LENGTH);
    e.study.description = v_string(&v, st, "study", "description", true, ANY_LENGTH);
    e.study.priority = v_string(&v, st, "study", "priority", false, ANY_LENGTH);
    e.study.site = v_string(&v, st, "study", "site", false, ANY_LENGTH);
    json_t *phys = v_object(&v, in, "", ph, true);
    v_only(&v, phys, ph, phys_f);
    e.physician.id = v_string(&v, phys, ph, "id", true, ANY_LENGTH);
    e.physician.name = v_string(&v, phys, ph, "name", true, ANY_LENGTH);
    e.physician.phone = v_string(&v, phys, ph, "phone", false, ANY_LENGTH);
    e.physician.scheduling_url = v_string(&v, phys, ph, "scheduling_url", false, ANY_LENGTH);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    /* The core checks again when it records; checked here first so that a message it would
     * refuse costs no database read and no hash. */
    struct field_errors fe = {0};
    if (ingest_event_check(&e, &fe))
        return req_invalid(rq, &fe);
    struct event_later *later = calloc(1, sizeof(*later));
    char *message = canonical(rq);
    if (!later || !message) {
        free(later);
        free(message);
        return req_problem(rq, 500, "Out of memory.");
    }
    later->e = e;
    later->e.message = later->message = message;
    later->e.message_len = strlen(message);
    rq->ctx = later; /* freed when the request ends, whichever way it goes */
    rq->ctx_free = free_event_later;
    if (rq->cfg->ingest_codes_on_request)
        return record_event(rq);
    /* A patient not yet known gets an access code: its argon2id hash is made on the hash pool
     * first, off this thread, and the event recorded after. When the pool is full the event is
     * answered 503 and not recorded; the RIS's retry, idempotent by event_id, records it. */
    const char *p[3] = {e.patient.assigning_authority, e.study.site, e.patient.mrn};
    PGresult *known;
    int s = req_run(rq, Q_PATIENT_KNOWN, 3, p, &known);
    if (s)
        return s;
    const char *is_known = db_value(known, 0, "known");
    if (is_known && strcmp(is_known, "t") == 0)
        return record_event(rq);
    return req_defer(rq, make_access_code, record_event, later, free_event_later,
                     "Too many new patients at this moment; send the event again in a second.");
}

int h_ingest_report(struct req *rq)
{
    static const char *const top[] = {"event_id",   "accession",   "status",    "findings",
                                      "impression", "radiologist", "signed_at", NULL};
    static const char *const rad_f[] = {"name", NULL};
    struct validation v = {0};
    json_t *in = rq->in;
    struct ingest_report r = {0};
    v_only(&v, in, "", top);
    r.event_id = v_string(&v, in, "", "event_id", true, ANY_LENGTH);
    r.accession = v_string(&v, in, "", "accession", true, ANY_LENGTH);
    r.status = v_string(&v, in, "", "status", true, ANY_LENGTH);
    r.findings = v_string(&v, in, "", "findings", true, ANY_LENGTH);
    r.impression = v_string(&v, in, "", "impression", true, ANY_LENGTH);
    json_t *rad = v_object(&v, in, "", "radiologist", true);
    v_only(&v, rad, "radiologist", rad_f);
    r.radiologist = v_string(&v, rad, "radiologist", "name", true, ANY_LENGTH);
    r.signed_at = v_string(&v, in, "", "signed_at", true, ANY_LENGTH);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    char *message = canonical(rq);
    if (!message)
        return req_problem(rq, 500, "Out of memory.");
    r.message = message;
    r.message_len = strlen(message);
    struct origin from = ris_origin(rq);
    struct ingest_result result;
    struct outcome o = {0};
    int s = ingest_report_apply(&r, &from, &result, &o);
    free(message);
    return answer(rq, s, &result, &o);
}
