/* Ingest, the core every transport calls to record what the RIS and the PACS say: lifecycle
 * events (ordered ... cancelled) and report versions. Plain structs in, one call that validates
 * every field, then records the message in one transaction, idempotent on event_id (the database
 * keeps the first answer and gives it again; CONTRACT invariant 5). The JSON API (h_ingest.c)
 * translates its bodies into these structs; other transports do the same with theirs. */
#ifndef PORTAL_INGEST_H
#define PORTAL_INGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "origin.h"
#include "outcome.h"

/* Field limits, in bytes, shared by every transport. */
#define INGEST_EVENT_ID_MAX    128
#define INGEST_ID_MAX          64 /* MRN, accession, physician id, site */
#define INGEST_NAME_MAX        200
#define INGEST_EMAIL_MAX       254
#define INGEST_PHONE_MAX       40
#define INGEST_URL_MAX         500
#define INGEST_REPORT_TEXT_MAX (200 * 1024)

extern const char *const ingest_event_types[];
extern const char *const ingest_modalities[];
extern const char *const ingest_priorities[];
extern const char *const ingest_report_statuses[];

/* A lifecycle event. Text fields are NUL-terminated; NULL means absent. Field names in errors are
 * the JSON API's ("patient.mrn"), the names the documentation uses for every transport. */
struct ingest_event {
    const char *event_id;
    const char *type; /* one of ingest_event_types */
    const char *occurred_at;
    const char *scheduled_for; /* required when type is "scheduled" */
    struct {
        /* The identifier within its assigning authority (HL7 CX.1 and CX.4); NULL authority
         * means the study's site. */
        const char *mrn, *assigning_authority, *name, *birth_date, *email, *phone;
    } patient;
    struct {
        const char *accession, *modality, *description, *priority, *site;
    } study;
    struct {
        const char *id, *assigning_authority, *name, *phone, *scheduling_url;
    } physician;
    /* Set by transports whose status messages may leave out what the order said (an HL7 ORC-1 SC,
     * a rescheduled appointment): the patient's demographics, the study's details and the
     * physician may then be absent, for a patient, accession and physician already known (the
     * database refuses them, naming the field, otherwise). The JSON API always sends them all. */
    bool partial;
    /* The message as its transport renders it canonically (the JSON API: the body with sorted keys
     * and no spaces). Its keyed fingerprint recognises a replay and refuses a different message
     * under a used event_id. */
    const char *message;
    size_t message_len;
    /* A fingerprint the sender made itself, used instead of message's: seed-demo's fixed one, so
     * that seeding again (at other times) replays. NULL for every transport. */
    const char *fingerprint;
};

/* A signed report version. */
struct ingest_report {
    const char *event_id;
    const char *accession;
    const char *status; /* one of ingest_report_statuses */
    const char *findings;
    const char *impression;
    const char *radiologist;
    const char *signed_at;
    const char *message; /* as in struct ingest_event */
    size_t message_len;
    const char *fingerprint;
};

/* A patient's registration or update of their demographics and contact details. */
struct ingest_patient {
    const char *event_id;
    const char *mrn, *assigning_authority; /* both required */
    const char *name, *birth_date, *email, *phone;
    const char *message; /* as in struct ingest_event */
    size_t message_len;
};

/* A merge: the patient merged.* names becomes the patient mrn names (the survivor). */
struct ingest_merge {
    const char *event_id;
    const char *mrn, *assigning_authority;
    const char *merged_mrn, *merged_authority;
    const char *message; /* as in struct ingest_event */
    size_t message_len;
};

/* The core's answer: the study's state as the database recorded it (owned by the caller), and
 * whether this was a replay. A newly created patient's access code is in answer, once. */
struct ingest_result {
    json_t *answer;
    bool replay;
};

/* Adds a failure to fe for every field that breaks a rule; returns how many were added. */
int ingest_event_check(const struct ingest_event *e, struct field_errors *fe);
int ingest_report_check(const struct ingest_report *r, struct field_errors *fe);
int ingest_patient_check(const struct ingest_patient *p, struct field_errors *fe);
int ingest_merge_check(const struct ingest_merge *m, struct field_errors *fe);

/* Checks e and records it. Returns 0 with result->answer set, or a status with o filled (422 with
 * o->fields for invalid fields).
 *
 * Each call is its own transaction, unless the caller opened one with ingest_batch_begin: then the
 * call joins it, and a failure rolls the whole batch back (a message that causes several calls is
 * applied whole or not at all). */
__attribute__((warn_unused_result)) int ingest_event_apply(const struct ingest_event *e,
                                                           const struct origin *from,
                                                           struct ingest_result *result,
                                                           struct outcome *o);
__attribute__((warn_unused_result)) int ingest_report_apply(const struct ingest_report *r,
                                                            const struct origin *from,
                                                            struct ingest_result *result,
                                                            struct outcome *o);

__attribute__((warn_unused_result)) int ingest_patient_apply(const struct ingest_patient *p,
                                                             const struct origin *from,
                                                             struct ingest_result *result,
                                                             struct outcome *o);
__attribute__((warn_unused_result)) int ingest_merge_apply(const struct ingest_merge *m,
                                                           const struct origin *from,
                                                           struct ingest_result *result,
                                                           struct outcome *o);

/* Whether a study with this accession exists yet, and whether the patient (authority, mrn) names
 * is its patient, a merge followed. Answers 0 with both set, or a status. */
__attribute__((warn_unused_result)) int ingest_study_owner(const char *accession,
                                                           const char *authority, const char *mrn,
                                                           const struct origin *from, bool *exists,
                                                           bool *same_patient, struct outcome *o);

/* One transaction around several calls; commit answers 0 only once the database committed. */
__attribute__((warn_unused_result)) int ingest_batch_begin(const struct origin *from,
                                                           struct outcome *o);
__attribute__((warn_unused_result)) int ingest_batch_commit(const struct origin *from,
                                                            struct outcome *o);
/* Rolls back an open batch (a failure the caller found itself). */
void ingest_batch_abandon(void);

/* Images received from the PACS for a study (Orthanc's StableStudy): the exam is complete, unless
 * the RIS said so earlier (the earliest time is kept), and the study keeps its StudyInstanceUID. A
 * study whose accession is unknown is not an error: the answer is {"matched": false} and nothing
 * is recorded (the images may be of an exam ordered elsewhere). */
#define INGEST_UID_MAX 64 /* a DICOM UID: digits and dots */

struct ingest_images {
    const char *event_id;
    const char *accession;
    const char *study_instance_uid; /* NULL when the PACS gave none that is well-formed */
    const char *occurred_at;        /* when the images arrived */
    const char *message;            /* as in struct ingest_event */
    size_t message_len;
};

int ingest_images_check(const struct ingest_images *im, struct field_errors *fe);
/* As ingest_event_apply; result->answer is {"matched", "study_id", "exam_completed_at",
 * "earlier_completion_kept"}. In a batch, a failure rolls the batch back. */
__attribute__((warn_unused_result)) int ingest_images_apply(const struct ingest_images *im,
                                                            const struct origin *from,
                                                            struct ingest_result *result,
                                                            struct outcome *o);

#endif
