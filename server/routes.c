/* The route table: every endpoint, its role and its body limit. The dispatcher in http.c enforces
 * role and limit before any handler runs. */
#include "handlers.h"
#include "router.h"

#define KIB 1024

/* Limits: a report is the largest thing anyone sends; everything else is small. */
#define LIMIT_INGEST_REPORT (512 * KIB)
#define LIMIT_INGEST_EVENT  (16 * KIB)
#define LIMIT_SMALL         (8 * KIB)
/* RFC 8058's one-click body is "List-Unsubscribe=One-Click"; nothing in it is read. */
#define LIMIT_UNSUBSCRIBE (1 * KIB)

#define FHIR_READERS (ROLE_PATIENT | ROLE_PHYSICIAN)
#define FHIR_ROUTES(type, label)                                                                   \
    {"GET", "/fhir/R4/" type, h_fhir_search, FHIR_READERS, BODY_NONE, 0, "fhir_" label "_search"}, \
    {                                                                                              \
        "GET", "/fhir/R4/" type "/{fid}", h_fhir_read, FHIR_READERS, BODY_NONE, 0,                 \
            "fhir_" label "_read"                                                                  \
    }

const struct route routes[] = {
    {"GET", "/healthz", h_healthz, ROLE_NONE, BODY_NONE, 0, "healthz"},
    {"GET", "/readyz", h_readyz, ROLE_NONE, BODY_NONE, 0, "readyz"},
    {"GET", "/metrics", h_metrics, ROLE_NONE, BODY_NONE, 0, "metrics"},

    {"POST", "/api/v1/ingest/events", h_ingest_event, ROLE_RIS, BODY_JSON, LIMIT_INGEST_EVENT,
     "ingest_event"},
    {"POST", "/api/v1/ingest/reports", h_ingest_report, ROLE_RIS, BODY_JSON, LIMIT_INGEST_REPORT,
     "ingest_report"},

    {"POST", "/api/v1/session", h_session_create, ROLE_NONE, BODY_JSON, LIMIT_SMALL,
     "session_create"},
    {"DELETE", "/api/v1/session", h_session_delete, ROLE_NONE, BODY_NONE, 0, "session_delete"},

    {"GET", "/api/v1/patient/studies", h_patient_studies, ROLE_PATIENT, BODY_NONE, 0,
     "patient_studies"},
    {"GET", "/api/v1/patient/studies/{id}", h_patient_study, ROLE_PATIENT, BODY_NONE, 0,
     "patient_study"},
    {"POST", "/api/v1/patient/studies/{id}/discussion-requests", h_patient_discussion, ROLE_PATIENT,
     BODY_JSON, LIMIT_SMALL, "patient_discussion"},
    {"PUT", "/api/v1/patient/studies/{id}/preference", h_patient_study_preference, ROLE_PATIENT,
     BODY_JSON, LIMIT_SMALL, "patient_study_preference"},
    {"GET", "/api/v1/language", h_language, ROLE_NONE, BODY_NONE, 0, "language"},
    {"GET", "/api/v1/patient/language", h_patient_language_get, ROLE_PATIENT, BODY_NONE, 0,
     "patient_language_get"},
    {"PUT", "/api/v1/patient/language", h_patient_language_put, ROLE_PATIENT, BODY_JSON,
     LIMIT_SMALL, "patient_language_put"},
    {"GET", "/api/v1/patient/preferences", h_patient_preference_get, ROLE_PATIENT, BODY_NONE, 0,
     "patient_preference_get"},
    {"PUT", "/api/v1/patient/preferences", h_patient_preference_put, ROLE_PATIENT, BODY_JSON,
     LIMIT_SMALL, "patient_preference_put"},
    {"GET", "/api/v1/patient/contact", h_patient_contact_get, ROLE_PATIENT, BODY_NONE, 0,
     "patient_contact_get"},
    {"PUT", "/api/v1/patient/contact", h_patient_contact_put, ROLE_PATIENT, BODY_JSON, LIMIT_SMALL,
     "patient_contact_put"},

    {"GET", "/api/v1/patient/access-log", h_patient_access_log, ROLE_PATIENT, BODY_NONE, 0,
     "patient_access_log"},
    {"GET", "/api/v1/patient/proxies", h_patient_proxies, ROLE_PATIENT, BODY_NONE, 0,
     "patient_proxies"},
    {"DELETE", "/api/v1/patient/proxies/{id}", h_patient_proxy_end, ROLE_PATIENT, BODY_NONE, 0,
     "patient_proxy_end"},
    {"GET", "/api/v1/patient/family-access", h_patient_family_access_get, ROLE_PATIENT, BODY_NONE,
     0, "patient_family_access_get"},
    {"POST", "/api/v1/patient/family-access", h_patient_family_access, ROLE_PATIENT, BODY_NONE, 0,
     "patient_family_access"},

    /* Proxies (issue 16): their own sign-in, and what they may see of the patients they act
     * for. */
    {"POST", "/api/v1/proxy/session", h_proxy_session_create, ROLE_NONE, BODY_JSON, LIMIT_SMALL,
     "proxy_session_create"},
    {"GET", "/api/v1/proxy/patients", h_proxy_patients, ROLE_PROXY, BODY_NONE, 0, "proxy_patients"},
    {"GET", "/api/v1/proxy/patients/{id}/studies", h_proxy_patient_studies, ROLE_PROXY, BODY_NONE,
     0, "proxy_patient_studies"},
    {"GET", "/api/v1/proxy/patients/{id}/access-log", h_proxy_access_log, ROLE_PROXY, BODY_NONE, 0,
     "proxy_access_log"},
    {"GET", "/api/v1/proxy/studies/{id}", h_proxy_study, ROLE_PROXY, BODY_NONE, 0, "proxy_study"},
    {"GET", "/api/v1/proxy/own-record", h_proxy_own_record_get, ROLE_PROXY, BODY_NONE, 0,
     "proxy_own_record_get"},
    {"POST", "/api/v1/proxy/own-record", h_proxy_own_record, ROLE_PROXY, BODY_NONE, 0,
     "proxy_own_record"},

    {"GET", "/api/v1/physician/worklist", h_physician_worklist, ROLE_PHYSICIAN, BODY_NONE, 0,
     "physician_worklist"},
    {"GET", "/api/v1/physician/studies/{id}", h_physician_study, ROLE_PHYSICIAN, BODY_NONE, 0,
     "physician_study"},
    {"POST", "/api/v1/physician/studies/{id}/release", h_physician_release, ROLE_PHYSICIAN,
     BODY_JSON, LIMIT_SMALL, "physician_release"},
    {"PUT", "/api/v1/physician/studies/{id}/proxy-access", h_physician_proxy_access, ROLE_PHYSICIAN,
     BODY_JSON, LIMIT_SMALL, "physician_proxy_access"},
    {"POST", "/api/v1/physician/studies/{id}/hold", h_physician_hold, ROLE_PHYSICIAN, BODY_JSON,
     LIMIT_SMALL, "physician_hold"},
    {"POST", "/api/v1/physician/session", h_physician_session_create, ROLE_NONE, BODY_JSON,
     LIMIT_SMALL, "physician_session_create"},
    {"GET", "/api/v1/physician/discussion-requests", h_physician_discussions, ROLE_PHYSICIAN,
     BODY_NONE, 0, "physician_discussions"},
    {"POST", "/api/v1/physician/discussion-requests/{id}/answer", h_physician_discussion_answer,
     ROLE_PHYSICIAN, BODY_JSON, LIMIT_SMALL, "physician_discussion_answer"},
    {"PUT", "/api/v1/physician/notifications", h_physician_notifications_put, ROLE_PHYSICIAN,
     BODY_JSON, LIMIT_SMALL, "physician_notifications_put"},

    {"GET", "/api/v1/admin/holds", h_admin_holds, ROLE_ADMIN, BODY_NONE, 0, "admin_holds"},
    {"GET", "/api/v1/admin/notifications", h_admin_notifications, ROLE_ADMIN, BODY_NONE, 0,
     "admin_notifications"},

    {"GET", "/api/v1/admin/policies", h_admin_policies, ROLE_ADMIN, BODY_NONE, 0, "admin_policies"},
    {"PUT", "/api/v1/admin/policies", h_admin_policy_save, ROLE_ADMIN, BODY_JSON, LIMIT_SMALL,
     "admin_policy_save"},
    {"POST", "/api/v1/admin/policies/preview", h_admin_policy_preview, ROLE_ADMIN, BODY_JSON,
     LIMIT_SMALL, "admin_policy_preview"},

    {"GET", "/api/v1/admin/physicians", h_admin_physicians, ROLE_ADMIN, BODY_NONE, 0,
     "admin_physicians"},
    {"POST", "/api/v1/admin/physician-invitations", h_admin_physician_invitation, ROLE_ADMIN,
     BODY_JSON, LIMIT_SMALL, "admin_physician_invitation"},
    {"PUT", "/api/v1/admin/physician-status", h_admin_physician_status, ROLE_ADMIN, BODY_JSON,
     LIMIT_SMALL, "admin_physician_status"},
    {"GET", "/api/v1/admin/closed-days", h_admin_closed_days, ROLE_ADMIN, BODY_NONE, 0,
     "admin_closed_days"},
    {"PUT", "/api/v1/admin/closed-days", h_admin_closed_day_put, ROLE_ADMIN, BODY_JSON, LIMIT_SMALL,
     "admin_closed_day_put"},
    {"DELETE", "/api/v1/admin/closed-days/{fid}", h_admin_closed_day_delete, ROLE_ADMIN, BODY_NONE,
     0, "admin_closed_day_delete"},
    {"GET", "/api/v1/admin/overdue", h_admin_overdue, ROLE_ADMIN, BODY_NONE, 0, "admin_overdue"},
    {"GET", "/api/v1/admin/config", h_admin_config, ROLE_ADMIN, BODY_NONE, 0, "admin_config"},
    {"POST", "/api/v1/physician/invitation", h_physician_invitation_accept, ROLE_NONE, BODY_JSON,
     LIMIT_SMALL, "physician_invitation_accept"},

    /* The front desk (docs/staff.md): every staff route admits admin too. */
    {"POST", "/api/v1/staff/session", h_staff_session_create, ROLE_NONE, BODY_JSON, LIMIT_SMALL,
     "staff_session_create"},
    {"GET", "/api/v1/staff/me", h_staff_me, ROLE_STAFF | ROLE_ADMIN, BODY_NONE, 0, "staff_me"},
    {"GET", "/api/v1/staff/patients", h_staff_patients, ROLE_STAFF | ROLE_ADMIN, BODY_NONE, 0,
     "staff_patients"},
    {"POST", "/api/v1/staff/patients/{id}/access-code", h_staff_access_code,
     ROLE_STAFF | ROLE_ADMIN, BODY_NONE, 0, "staff_access_code"},
    {"PUT", "/api/v1/staff/patients/{id}/contact", h_staff_patient_contact_put,
     ROLE_STAFF | ROLE_ADMIN, BODY_JSON, LIMIT_SMALL, "staff_patient_contact_put"},
    {"GET", "/api/v1/staff/patients/{id}/proxies", h_staff_proxy_links, ROLE_STAFF | ROLE_ADMIN,
     BODY_NONE, 0, "staff_proxy_links"},
    {"POST", "/api/v1/staff/patients/{id}/proxies", h_staff_proxy_add, ROLE_STAFF | ROLE_ADMIN,
     BODY_JSON, LIMIT_SMALL, "staff_proxy_add"},
    {"POST", "/api/v1/staff/patients/{id}/proxy-links", h_staff_proxy_link_grant,
     ROLE_STAFF | ROLE_ADMIN, BODY_JSON, LIMIT_SMALL, "staff_proxy_link_grant"},
    {"POST", "/api/v1/staff/proxies/{id}/access-code", h_staff_proxy_code, ROLE_STAFF | ROLE_ADMIN,
     BODY_NONE, 0, "staff_proxy_code"},
    {"PUT", "/api/v1/staff/proxies/{id}/patient", h_staff_proxy_patient, ROLE_STAFF | ROLE_ADMIN,
     BODY_JSON, LIMIT_SMALL, "staff_proxy_patient"},
    {"PUT", "/api/v1/staff/proxy-links/{id}", h_staff_proxy_link_renew, ROLE_STAFF | ROLE_ADMIN,
     BODY_JSON, LIMIT_SMALL, "staff_proxy_link_renew"},
    {"DELETE", "/api/v1/staff/proxy-links/{id}", h_staff_proxy_link_end, ROLE_STAFF | ROLE_ADMIN,
     BODY_NONE, 0, "staff_proxy_link_end"},
    {"GET", "/api/v1/staff/discussion-requests", h_staff_discussions, ROLE_STAFF | ROLE_ADMIN,
     BODY_NONE, 0, "staff_discussions"},
    {"POST", "/api/v1/staff/discussion-requests/{id}/answer", h_staff_discussion_answer,
     ROLE_STAFF | ROLE_ADMIN, BODY_JSON, LIMIT_SMALL, "staff_discussion_answer"},

    {"POST", "/api/v1/notifications/unsubscribe/{id}", h_notify_unsubscribe, ROLE_NONE, BODY_FORM,
     LIMIT_UNSUBSCRIBE, "notify_unsubscribe"},

    /* The FHIR R4 read API (docs/fhir.md); every resource type in fhir_resources has a search
     * and a read here, and nothing else (tests/fhir checks against the CapabilityStatement). */
    {"GET", "/fhir/R4/metadata", h_fhir_metadata, ROLE_NONE, BODY_NONE, 0, "fhir_metadata"},
    {"GET", "/fhir/R4/.well-known/smart-configuration", h_fhir_smart_configuration, ROLE_NONE,
     BODY_NONE, 0, "fhir_smart_configuration"},
    {"GET", "/.well-known/smart-configuration", h_fhir_smart_configuration, ROLE_NONE, BODY_NONE, 0,
     "smart_configuration"},
    FHIR_ROUTES("Patient", "patient"),
    FHIR_ROUTES("Practitioner", "practitioner"),
    FHIR_ROUTES("ServiceRequest", "service_request"),
    FHIR_ROUTES("ImagingStudy", "imaging_study"),
    FHIR_ROUTES("DiagnosticReport", "diagnostic_report"),

    {0, 0, 0, 0, 0, 0, 0},
};

size_t routes_count(void)
{
    return sizeof(routes) / sizeof(routes[0]) - 1;
}
