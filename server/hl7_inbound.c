/* The HL7 transport's one entry into the core. How a failure becomes an acknowledgement:
 *   - not parsed, or a header, type, version or processing id we do not accept: AR;
 *   - understood, but a field is missing or breaks a rule, or the core refused it by rule (an
 *     accession that belongs to another patient, a control id reused for a different message):
 *     AE, with ERR naming the HL7 field the value came from;
 *   - the database could not answer, or an internal failure: AR, so the sender sends it again
 *     (HL7's original mode has no other way to say "later");
 *   - applied, or already applied under this control id from this facility: AA.
 * No ERR text quotes the message: positions and sentences only. */
#include "hl7_inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hl7.h"
#include "ingest.h"
#include "log.h"
#include "request_id.h"

static void ack_stamp(char control[32], char timestamp[16])
{
    char id[REQUEST_ID_SIZE];
    request_id_new(id);
    snprintf(control, 32, "%.31s", id);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(timestamp, 16, "%Y%m%d%H%M%S", &tm);
}

char *hl7_inbound_refuse(const char *why, size_t *ack_len)
{
    char control[32], stamp[16];
    ack_stamp(control, stamp);
    struct hl7_ack_error err = {NULL, 0, 0, "100", why};
    return hl7_ack(NULL, HL7_AR, &err, control, stamp, ack_len);
}

/* The field a failure names: the first invalid field, or the "field: why" of a refusal. */
static const char *failed_field(const struct outcome *o, char *buf, size_t buflen, const char **why)
{
    if (o->kind == FAIL_INVALID && o->fields.count > 0) {
        *why = o->fields.list[0].why;
        return o->fields.list[0].field;
    }
    size_t n = strspn(o->detail, "abcdefghijklmnopqrstuvwxyz_.");
    if (n == 0 || n >= buflen || strncmp(o->detail + n, ": ", 2) != 0)
        return NULL;
    memcpy(buf, o->detail, n);
    buf[n] = '\0';
    *why = o->detail + n + 2;
    return buf;
}

/* The acknowledgement for a call the core did not apply. */
static enum hl7_ack_code judge(const struct outcome *o, const struct hl7_mapped *mapped,
                               struct hl7_ack_error *err, char *text, size_t textlen)
{
    *err = (struct hl7_ack_error){NULL, 0, 0, "207", "the portal cannot apply messages now"};
    if (o->kind == FAIL_UNAVAILABLE || o->kind == FAIL_INTERNAL || o->kind == FAIL_NONE)
        return HL7_AR;
    char field[96];
    const char *why = NULL;
    const char *name = failed_field(o, field, sizeof(field), &why);
    if (name && strcmp(name, "event_id") == 0) {
        /* The only rule an event id breaks here: the control id was used for another message. */
        *err = (struct hl7_ack_error){"MSH", 1, 10, "205",
                                      "this control id was already used for a different message"};
        return HL7_AE;
    }
    if (name && why)
        snprintf(text, textlen, "%.60s %.180s", name, why);
    else
        snprintf(text, textlen, "%s", o->detail);
    err->text = text;
    err->code = o->kind == FAIL_INVALID ? "101" : "204";
    if (o->kind == FAIL_INVALID && why && strncmp(why, "must be one of", 14) == 0)
        err->code = "103";
    else if (o->kind == FAIL_INVALID && why && strncmp(why, "is required", 11) != 0)
        err->code = "102";
    if (!name || !hl7_mapped_locate(mapped, name, err))
        err->segment = NULL;
    if (o->sqlstate[0] && strcmp(o->sqlstate, "PT409") == 0)
        err->code = "205";
    return HL7_AE;
}

static int apply_call(const struct hl7_call *call, const struct origin *from, bool *replay,
                      struct outcome *o)
{
    struct ingest_result result = {0};
    int s = 0;
    if (call->only_for_new_accession) {
        /* A report for a study we have: the patient its PID names must be the study's, or the
         * report would reach another patient's record. */
        const struct ingest_event *e = &call->u.event;
        bool exists = false, same = false;
        if ((s = ingest_study_owner(e->study.accession, e->patient.assigning_authority,
                                    e->patient.mrn, from, &exists, &same, o)))
            return s;
        if (exists && !same) {
            ingest_batch_abandon();
            s = outcome_fail(o, FAIL_REFUSED, 409, "study.accession: belongs to another patient");
            memcpy(o->sqlstate, "PT409", 6);
            return s;
        }
        if (exists)
            return 0;
    }
    switch (call->kind) {
    case HL7_CALL_EVENT:
        s = ingest_event_apply(&call->u.event, from, &result, o);
        break;
    case HL7_CALL_REPORT:
        s = ingest_report_apply(&call->u.report, from, &result, o);
        break;
    case HL7_CALL_PATIENT:
        s = ingest_patient_apply(&call->u.patient, from, &result, o);
        break;
    case HL7_CALL_MERGE:
        s = ingest_merge_apply(&call->u.merge, from, &result, o);
        break;
    }
    if (s == 0 && !result.replay)
        *replay = false;
    json_decref(result.answer);
    return s;
}

/* Applies every call in one transaction. */
static enum hl7_ack_code apply(const struct hl7_mapped *mapped, const struct origin *from,
                               bool *replay, struct hl7_ack_error *err, char *text, size_t textlen)
{
    /* Cleared: the ingest checks add their field failures to what o.fields already holds. */
    struct outcome o = {0};
    *replay = true;
    if (ingest_batch_begin(from, &o))
        return judge(&o, mapped, err, text, textlen);
    for (int i = 0; i < mapped->ncalls; i++) {
        const struct hl7_call *call = &mapped->calls[i];
        if (call->kind == HL7_CALL_REPORT && !call->u.report.accession) {
            /* No accession anywhere: the report's creating event failed to say so first. */
            ingest_batch_abandon();
            *err = (struct hl7_ack_error){"OBR", 1, 18, "101", "the accession is required"};
            hl7_mapped_locate(mapped, "study.accession", err);
            return HL7_AE;
        }
        if (apply_call(call, from, replay, &o)) {
            ingest_batch_abandon();
            return judge(&o, mapped, err, text, textlen);
        }
    }
    if (ingest_batch_commit(from, &o))
        return judge(&o, mapped, err, text, textlen);
    return HL7_AA;
}

static const char *const code_names[] = {"AA", "AE", "AR"};

char *hl7_inbound(const char *data, size_t len, const struct hl7_obx_map *obx,
                  const struct origin *from, enum hl7_ack_code *code, size_t *ack_len)
{
    char control[32], stamp[16], why[160];
    ack_stamp(control, stamp);
    struct hl7_message m;
    if (hl7_parse(data, len, &m, why, sizeof(why)) < 0) {
        *code = HL7_AR;
        log_msg(LOG_WARN, "request %s: hl7 from %s: AR, not parsed: %s", from->request_id,
                from->client_addr ? from->client_addr : "-", why);
        struct hl7_ack_error err = {NULL, 0, 0, "100", why};
        return hl7_ack(NULL, HL7_AR, &err, control, stamp, ack_len);
    }
    struct hl7_mapped mapped;
    struct hl7_ack_error err = {0};
    char text[256];
    bool replay = false;
    int mapped_code = hl7_map(&m, obx, &mapped, &err);
    if (mapped_code == HL7_AA) {
        struct origin sender = *from;
        sender.actor_role = "ris";
        sender.actor_id = mapped.facility;
        sender.hands_out_access_code = false;
        *code = apply(&mapped, &sender, &replay, &err, text, sizeof(text));
    } else {
        *code = (enum hl7_ack_code)mapped_code;
    }
    if (*code == HL7_AA)
        log_msg(LOG_INFO, "request %s: hl7 %s^%s from %s: AA%s", from->request_id, mapped.type,
                mapped.event, mapped.facility, replay ? " (already applied, nothing changed)" : "");
    else
        log_msg(LOG_WARN, "request %s: hl7 %s^%s from %s: %s at %s-%d: %s", from->request_id,
                mapped.type[0] ? mapped.type : "?", mapped.event[0] ? mapped.event : "?",
                mapped.facility[0] ? mapped.facility
                                   : (from->client_addr ? from->client_addr : "-"),
                code_names[*code], err.segment ? err.segment : "message", err.field,
                err.text ? err.text : "");
    char *ack = hl7_ack(&m, *code, *code == HL7_AA ? NULL : &err, control, stamp, ack_len);
    hl7_mapped_free(&mapped);
    hl7_free(&m);
    return ack;
}
