/* Every endpoint handler: int h_<name>(struct req *rq) returns the HTTP status, having set the
 * answer with req_json, req_raw or req_problem. */
#ifndef PORTAL_HANDLERS_H
#define PORTAL_HANDLERS_H

struct req;

/* operations: h_ops.c */
int h_healthz(struct req *rq);
int h_readyz(struct req *rq);
int h_metrics(struct req *rq);

/* ingest: h_ingest.c */
int h_ingest_event(struct req *rq);
int h_ingest_report(struct req *rq);

/* session: h_session.c */
int h_session_create(struct req *rq);
int h_proxy_session_create(struct req *rq);
/* h_session_switch.c: a proxy who is also a patient, between their two identities. */
int h_proxy_own_record_get(struct req *rq);
int h_proxy_own_record(struct req *rq);
int h_patient_family_access_get(struct req *rq);
int h_patient_family_access(struct req *rq);
int h_proxy_patients(struct req *rq);
int h_proxy_patient_studies(struct req *rq);
int h_proxy_study(struct req *rq);
int h_proxy_access_log(struct req *rq);
int h_patient_access_log(struct req *rq);
int h_patient_proxies(struct req *rq);
int h_patient_proxy_end(struct req *rq);
int h_physician_proxy_access(struct req *rq);
int h_session_delete(struct req *rq);

/* patient: h_patient.c */
int h_patient_studies(struct req *rq);
int h_patient_study(struct req *rq);
int h_patient_discussion(struct req *rq);

/* physician: h_physician.c */
int h_physician_worklist(struct req *rq);
int h_physician_study(struct req *rq);
int h_physician_release(struct req *rq);
int h_physician_hold(struct req *rq);
int h_physician_discussions(struct req *rq);
int h_physician_discussion_answer(struct req *rq);
int h_staff_discussions(struct req *rq);
int h_staff_discussion_answer(struct req *rq);

/* physician sign-in: h_physician_session.c */
int h_physician_session_create(struct req *rq);

/* language: h_language.c */
int h_language(struct req *rq);
int h_patient_language_get(struct req *rq);
int h_patient_language_put(struct req *rq);
/* patient release preference: h_preference.c */
int h_patient_preference_get(struct req *rq);
int h_patient_preference_put(struct req *rq);
int h_patient_study_preference(struct req *rq);

/* admin: h_admin.c */
int h_admin_holds(struct req *rq);

/* The FHIR R4 read API (h_fhir.c). */
int h_fhir_metadata(struct req *rq);
int h_fhir_smart_configuration(struct req *rq);
int h_fhir_search(struct req *rq);
int h_fhir_read(struct req *rq);
/* notifications: h_notify.c */
int h_patient_contact_get(struct req *rq);
int h_patient_contact_put(struct req *rq);
int h_physician_notifications_put(struct req *rq);
int h_notify_unsubscribe(struct req *rq);
int h_admin_notifications(struct req *rq);

/* server/h_staff_session.c, h_policies.c, h_staff_patients.c: the staff console. */
int h_staff_session_create(struct req *rq);
int h_staff_me(struct req *rq);
int h_admin_policies(struct req *rq);
int h_admin_policy_preview(struct req *rq);
int h_admin_policy_save(struct req *rq);
int h_staff_patients(struct req *rq);
int h_staff_access_code(struct req *rq);
/* The language a printed code sheet is written in: the patient's saved one (saved, NULL when
 * none), else PORTAL_DEFAULT_LANGUAGE. */
const char *staff_sheet_language(const struct req *rq, const char *saved);
/* server/h_notify.c: the front desk corrects a patient's contact details. */
int h_staff_patient_contact_put(struct req *rq);
/* server/h_staff_proxies.c: a patient's proxy links, from the front desk. */
int h_staff_proxy_links(struct req *rq);
int h_staff_proxy_add(struct req *rq);
int h_staff_proxy_link_grant(struct req *rq);
int h_staff_proxy_code(struct req *rq);
int h_staff_proxy_link_renew(struct req *rq);
int h_staff_proxy_link_end(struct req *rq);
int h_staff_proxy_patient(struct req *rq);
/* server/h_staff_physicians.c; the invitation's use is in h_physician_session.c. */
int h_admin_physicians(struct req *rq);
int h_admin_physician_invitation(struct req *rq);
int h_admin_physician_status(struct req *rq);
int h_physician_invitation_accept(struct req *rq);
/* server/h_closed_days.c: the site's closed days. */
int h_admin_closed_days(struct req *rq);
int h_admin_closed_day_put(struct req *rq);
int h_admin_closed_day_delete(struct req *rq);
/* server/h_staff_ops.c */
int h_admin_overdue(struct req *rq);
int h_admin_config(struct req *rq);

#endif
