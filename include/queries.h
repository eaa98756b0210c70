/* Every SQL statement the server runs, named and prepared on each new connection. */
#ifndef PORTAL_QUERIES_H
#define PORTAL_QUERIES_H

#include <stdbool.h>

enum query {
    Q_PING,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_INGEST_EVENT,
    Q_SET_ACCESS_CODE,
    Q_INGEST_REPORT,
    Q_INGEST_PATIENT,
    Q_INGEST_MERGE,
    Q_STUDY_OWNER,
    Q_LOGIN_LOOKUP,
    Q_PATIENT_KNOWN,
    Q_LOGIN_LOCKED,
    Q_LOGIN_FAILED,
    Q_LOGIN_SUCCEEDED,
    Q_AUDIT,
    Q_PAGE_STAMP,
    Q_REREAD_RELEASED,
    Q_PATIENT_STUDIES,
    Q_PATIENT_STUDY,
    Q_RELEASE_HISTORY,
    Q_REQUEST_DISCUSSION,
    Q_ANSWER_DISCUSSION,
    Q_WORKLIST,
    Q_PHYSICIAN_STUDY,
    Q_RELEASE,
    Q_HOLD,
    Q_PHYSICIAN_DISCUSSIONS,
    Q_STAFF_DISCUSSIONS,
    Q_PHYSICIAN_LOGIN_LOOKUP,
    Q_RELEASE_DUE,
    Q_PATIENT_LANGUAGE,
    Q_SET_PATIENT_LANGUAGE,
    Q_PATIENT_PREFERENCE,
    Q_SET_PATIENT_PREFERENCE,
    Q_SET_STUDY_PREFERENCE,
    Q_ADMIN_HOLDS,
    Q_ESTIMATES_REFRESH,
    Q_OVERDUE_COUNTS,
    Q_ESTIMATES_STRETCH,
    Q_STUDY_ESTIMATES_REFRESH,
    Q_STUDY_ESTIMATES_PREPARE,
    /* The PACS follower (server/orthanc_feed.c). */
    Q_INGEST_IMAGES,
    Q_FEED_TAKE,
    Q_FEED_ADVANCE,
    /* The FHIR API (server/h_fhir.c): one search per resource type and role, parameters as in
     * enum fhir_query_param. */
    Q_FHIR_PATIENTS_AS_PATIENT,
    Q_FHIR_PATIENTS_AS_PHYSICIAN,
    Q_FHIR_PRACTITIONERS_AS_PATIENT,
    Q_FHIR_PRACTITIONERS_AS_PHYSICIAN,
    Q_FHIR_SERVICE_REQUESTS_AS_PATIENT,
    Q_FHIR_SERVICE_REQUESTS_AS_PHYSICIAN,
    Q_FHIR_IMAGING_STUDIES_AS_PATIENT,
    Q_FHIR_IMAGING_STUDIES_AS_PHYSICIAN,
    Q_FHIR_REPORTS_AS_PATIENT,
    Q_FHIR_REPORTS_AS_PHYSICIAN,
    /* Notifications (server/notify.c, server/h_notify.c). */
    Q_NOTIFY_CLAIM,
    Q_NOTIFY_RESULT,
    Q_NOTIFY_SCHEDULE,
    Q_PATIENT_CONTACT,
    Q_SET_PATIENT_CONTACT,
    Q_SET_PHYSICIAN_NOTIFICATIONS,
    Q_NOTIFY_UNSUBSCRIBE,
    Q_ADMIN_NOTIFICATIONS,
    /* The staff console (server/h_staff_session.c, h_policies.c, h_staff_patients.c). */
    Q_STAFF_LOGIN_LOOKUP,
    Q_STAFF_TOTP_USE,
    Q_POLICIES_LIST,
    Q_POLICY_PREVIEW,
    Q_POLICY_SAVE,
    Q_STAFF_FIND_PATIENTS,
    Q_STAFF_PATIENT,
    Q_ADMIN_PHYSICIANS,
    Q_INVITE_PHYSICIAN,
    Q_INVITATION_LOOKUP,
    Q_ACCEPT_INVITATION,
    Q_SET_PHYSICIAN_DISABLED,
    /* The site's closed days (server/h_closed_days.c). */
    Q_CLOSED_DAYS,
    Q_SET_CLOSED_DAY,
    Q_REMOVE_CLOSED_DAY,
    Q_ADMIN_OVERDUE,
    Q_STAFF_SET_PATIENT_CONTACT,
    /* A patient's new access code (server/patient_access.c): the staff API and the CLI. */
    Q_REISSUE_ACCESS_CODE,

    /* One-shot commands (portald seed-demo, access-code, set-password, seed-history, backtest,
     * migrate). */
    Q_SET_SESSION_ZONES,
    Q_STUDY_BY_ACCESSION,
    Q_STAFF_ADD,
    Q_SET_PHYSICIAN_PASSWORD,
    Q_HISTORY_LOCK,
    Q_HISTORY_SET_DAYS,
    Q_HISTORY_SET_SHAPE,
    Q_HISTORY_SET_SEED,
    Q_HISTORY_EXISTS,
    Q_HISTORY_COUNT,
    Q_REFRESH_ESTIMATES,
    Q_BACKTEST,
    Q_BACKTEST_HOURS,
    Q_MIGRATE_QUIET,
    Q_MIGRATE_LOCK,
    Q_MIGRATIONS_TABLE,
    Q_MIGRATION_CHECKSUM,
    Q_MIGRATION_RECORD,
    Q_DEFINITIONS_TABLE,
    Q_DEFINITION_CHECKSUM,
    Q_DEFINITION_RECORD,
    Q_REVOKE_SESSIONS,
    Q_SESSION_REVOKED_BEFORE,
    Q_SESSION_REVOCATIONS,
    Q_ACCESS_CODE_NOT_REPEATED,
    Q_ACCESS_CODES_PENDING,
    /* Proxies (sql/definitions/65_proxies.sql) and the access log (67_access_log.sql). */
    Q_PROXY_LOGIN_LOOKUP,
    Q_PROXY_PATIENTS,
    Q_PROXY_STUDIES,
    Q_PROXY_STUDY,
    Q_PATIENT_PROXIES,
    Q_PROXY_SET_CODE,
    Q_PROXY_CREATE_LINKED,
    Q_PROXY_GRANT,
    Q_STAFF_PROXY_LINKS,
    Q_PROXY_RENEW,
    Q_PROXY_END,
    Q_SAME_PERSON,
    Q_SESSION_SWITCH,
    Q_PROXY_SET_PATIENT,
    Q_PROXY_CREATE_SAME_PERSON,
    Q_SET_NOT_FOR_PROXIES,
    Q_PATIENT_ACCESS_LOG,
    Q_PROXY_ACCESS_LOG,
    Q_COUNT
};

struct query_def {
    const char *name;
    const char *sql;
    int nparams;
    /* Run by a one-shot command only: never prepared by the server (it may name a temporary
     * table, or a function the server's role may not call). */
    bool one_shot;
};

extern const struct query_def queries[Q_COUNT];

/* The parameters of Q_INGEST_EVENT by name: the statement calls portal.ingest_event with named
 * arguments (p_event_id => $1, ...), so neither the caller nor the SQL function depends on the
 * other's order; a unit test ties each name to its number. */
enum ingest_event_param {
    IEP_EVENT_ID,
    IEP_PAYLOAD_HASH,
    IEP_TYPE,
    IEP_OCCURRED_AT,
    IEP_SCHEDULED_FOR,
    IEP_MRN,
    IEP_PATIENT_NAME,
    IEP_BIRTH_DATE,
    IEP_EMAIL,
    IEP_ACCESSION,
    IEP_MODALITY,
    IEP_DESCRIPTION,
    IEP_PRIORITY,
    IEP_SITE,
    IEP_PHYSICIAN_ID,
    IEP_PHYSICIAN_NAME,
    IEP_PHYSICIAN_PHONE,
    IEP_SCHEDULING_URL,
    IEP_ASSIGNING_AUTHORITY,
    IEP_PATIENT_PHONE,
    IEP_PHYSICIAN_AUTHORITY,
    IEP_ACTOR_ROLE,
    IEP_ACTOR_ID,
    IEP_CLIENT_ADDR,
    IEP_REQUEST_ID,
    IEP_COUNT
};
extern const char *const ingest_event_param_names[IEP_COUNT];

/* The parameters of every Q_FHIR_* search, in order; the report searches alone take the last two
 * (their reads of report text are audited with them). NULL leaves a filter out. */
enum fhir_query_param {
    FQP_WHO,            /* the token's patient id or physician id */
    FQP_IDS,            /* _id: a text[] literal of FHIR ids */
    FQP_PATIENT,        /* patient: a Patient id */
    FQP_STATUSES,       /* status: a text[] literal of FHIR status codes */
    FQP_DATE_FROM,      /* date: microseconds since the epoch, inclusive */
    FQP_DATE_BEFORE,    /* date: exclusive */
    FQP_UPDATED_FROM,   /* _lastUpdated, likewise */
    FQP_UPDATED_BEFORE, /* */
    FQP_ASCENDING,      /* "t": oldest first */
    FQP_LIMIT,
    FQP_OFFSET,
    FQP_REQUEST_ID,
    FQP_CLIENT_ADDR,
    FQP_COUNT
};
#define FQP_COUNT_WITHOUT_AUDIT FQP_REQUEST_ID

/* The parameters of Q_INGEST_REPORT by name, as above. */
enum ingest_report_param {
    IRP_EVENT_ID,
    IRP_PAYLOAD_HASH,
    IRP_ACCESSION,
    IRP_STATUS,
    IRP_FINDINGS,
    IRP_IMPRESSION,
    IRP_RADIOLOGIST,
    IRP_SIGNED_AT,
    IRP_ACTOR_ROLE,
    IRP_ACTOR_ID,
    IRP_CLIENT_ADDR,
    IRP_REQUEST_ID,
    IRP_COUNT
};
extern const char *const ingest_report_param_names[IRP_COUNT];

/* The parameters of Q_INGEST_PATIENT by name, as above. */
enum ingest_patient_param {
    IPP_EVENT_ID,
    IPP_PAYLOAD_HASH,
    IPP_ASSIGNING_AUTHORITY,
    IPP_MRN,
    IPP_PATIENT_NAME,
    IPP_BIRTH_DATE,
    IPP_EMAIL,
    IPP_PATIENT_PHONE,
    IPP_ACTOR_ROLE,
    IPP_ACTOR_ID,
    IPP_CLIENT_ADDR,
    IPP_REQUEST_ID,
    IPP_COUNT
};
extern const char *const ingest_patient_param_names[IPP_COUNT];

/* The parameters of Q_INGEST_MERGE by name, as above. */
enum ingest_merge_param {
    IMP_EVENT_ID,
    IMP_PAYLOAD_HASH,
    IMP_ASSIGNING_AUTHORITY,
    IMP_MRN,
    IMP_MERGED_AUTHORITY,
    IMP_MERGED_MRN,
    IMP_ACTOR_ROLE,
    IMP_ACTOR_ID,
    IMP_CLIENT_ADDR,
    IMP_REQUEST_ID,
    IMP_COUNT
};
extern const char *const ingest_merge_param_names[IMP_COUNT];

/* The parameters of Q_INGEST_IMAGES by name, as above. */
enum ingest_images_param {
    IIP_EVENT_ID,
    IIP_PAYLOAD_HASH,
    IIP_ACCESSION,
    IIP_STUDY_INSTANCE_UID,
    IIP_OCCURRED_AT,
    IIP_ACTOR_ROLE,
    IIP_ACTOR_ID,
    IIP_CLIENT_ADDR,
    IIP_REQUEST_ID,
    IIP_COUNT
};
extern const char *const ingest_images_param_names[IIP_COUNT];

/* Multi-statement scripts, run whole by db_exec_script: a one-shot command's generator. */
enum query_script { S_HISTORY_HELPERS, S_HISTORY_GENERATE, S_HISTORY_INSERT, S_COUNT };

#define QUERY_SCRIPT_MAX_PARTS 4

struct query_script_def {
    const char *name;
    const char *parts[QUERY_SCRIPT_MAX_PARTS]; /* run as one text, in order; unused parts NULL */
};

extern const struct query_script_def query_scripts[S_COUNT];

/* True for the statements that may read from a hot standby (PORTAL_DATABASE_READ_URL): pure reads
 * that never show a user a write of their own. Everything else runs on the primary. */
extern const bool query_standby_ok[Q_COUNT];

#endif
