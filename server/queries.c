/* All SQL in one place: named statements with explicit columns, prepared on every new connection
 * by db.c. Report text is selected only through portal.patient_report and
 * portal.physician_report, the release gate in sql/definitions/30_gate.sql. What portal_app may
 * run here, and nothing more, is granted in sql/grants.sql. */
#include "queries.h"

/* The turnaround estimates of the milestones still ahead of a study (report_final as ef,
 * available as ea): the answer of portal.estimate_lookup (sql/definitions/50_estimates.sql) as
 * kept for the study while it holds, one primary-key read, else the live lookup
 * (portal.study_estimate, sql/definitions/54_study_estimates.sql; docs/performance.md, "A cold
 * page"). A request never scans history. */
#define ESTIMATE_COLUMNS(a, milestone)                                                             \
    ", " a ".level AS " a "_level, " a ".sample_size AS " a "_sample_size, " a ".p50_at AS " a     \
    "_p50_at, " a ".p90_at AS " a "_p90_at, " a ".enough AS " a "_enough, " a ".elapsed_s AS " a   \
    "_elapsed_s, " a ".window_days AS " a "_window_days, " ESTIMATE_CALIBRATION(a, milestone)
/* The stretch the lookup applied (sql/definitions/50_estimates.sql, "Calibration"), for the words
 * that say so: one primary-key read of a two-row table. */
#define ESTIMATE_CALIBRATION(a, milestone)                                                         \
    "(SELECT c.theta50 FROM portal.estimate_calibration c WHERE c.milestone = '" milestone "') "   \
    "AS " a "_theta50, (SELECT c.theta90 FROM portal.estimate_calibration c WHERE c.milestone = "  \
    "'" milestone "') AS " a "_theta90 "
#define ESTIMATE_JOINS                                                                             \
    "LEFT JOIN LATERAL portal.study_estimate(s, 'report_final') ef ON true "                       \
    "LEFT JOIN LATERAL portal.study_estimate(s, 'available') ea ON true "
/* What the page shows of the study's release and discussion, one row kept by triggers in the
 * writing transaction (sql/definitions/92_study_page_state.sql): a primary-key read where a first
 * view evaluated the hold and release subqueries, the release plan, the preference and the
 * discussion lookup (docs/performance.md, "A cold page"). */
#define PAGE_STATE_JOIN "LEFT JOIN portal.study_page_state st ON st.study_id = s.id "

/* The version stamps of the patient's pages (sql/migrations/0006_page_versions.sql, renewed by the
 * triggers in sql/definitions/90_pages.sql), read in the same snapshot as the page's data, so a
 * kept page is exactly as old as its stamps ($1: the patient). */
#define PAGE_STAMP_COLUMNS                                                                         \
    "coalesce((SELECT pv.version FROM portal.page_versions pv WHERE pv.patient_id = $1), 0) "      \
    "AS patient_version, "                                                                         \
    "(SELECT gv.version FROM portal.page_global_version gv) AS global_version"

/* A hold in force: placed, not ended, and its end (if any) not yet passed; the clock ends a hold
 * before the sweep records it, so the time is compared here rather than kept. */
#define PAGE_STATE_HELD "(st.hold_placed AND coalesce(st.hold_ends_at, 'infinity') > now())"

/* When a report waiting for the physician will be shared without them, if ever: the policy's due
 * time (release_plan, kept as plan_due_at); while a hold is in force, the later of that and the
 * hold's end, since the sweep releases nothing held (sql/definitions/40_release.sql). NULL under a
 * policy that waits for the physician, and outside review. */
#define PATIENT_AUTO_RELEASE                                                                       \
    "CASE WHEN s.stage = 'physician_review' THEN CASE WHEN NOT " PAGE_STATE_HELD                   \
    " THEN st.plan_due_at WHEN st.plan_due_at IS NOT NULL AND st.hold_ends_at IS NOT NULL "        \
    "THEN greatest(st.plan_due_at, st.hold_ends_at) END END AS auto_release_at"

/* The study columns every patient view shows; the order is fixed by patient_view.c. */
#define PATIENT_STUDY_COLUMNS                                                                      \
    "s.id, s.accession, s.modality, s.description, s.priority, s.site, s.stage, s.ordered_at, "    \
    "s.scheduled_at, s.scheduled_for, s.arrived_at, s.exam_started_at, s.exam_completed_at, "      \
    "s.read_started_at, s.preliminary_at, s.final_at, s.released_at, s.cancelled_at, "             \
    "s.created_at, s.released_version, "                                                           \
    "(s.reviewable_version > s.released_version) AS newer_version_pending, "                       \
    "coalesce(" PAGE_STATE_HELD ", false) AS held, "                                               \
    "st.release_preference::text AS release_preference, "                                          \
    "coalesce(st.released_unreviewed, false) AS released_unreviewed, " PATIENT_AUTO_RELEASE        \
        ESTIMATE_COLUMNS("ef", "report_final") ESTIMATE_COLUMNS("ea", "available")

/* ---- The FHIR API's searches (server/h_fhir.c; parameters as in enum fhir_query_param) ------ */

/* Every filter of a search; each names the expression it compares, NULL::type where the resource
 * has no such element (the parser never passes that filter then). */
#define FHIR_FILTERS(id, patient, status, date, updated)                                           \
    "($2::text[] IS NULL OR (" id ") = ANY($2::text[])) "                                          \
    "AND ($3::text IS NULL OR (" patient ")::text = $3::text) "                                    \
    "AND ($4::text[] IS NULL OR (" status ") = ANY($4::text[])) "                                  \
    "AND ($5::bigint IS NULL OR (" date ") >= to_timestamp($5::bigint / 1000000.0)) "              \
    "AND ($6::bigint IS NULL OR (" date ") < to_timestamp($6::bigint / 1000000.0)) "               \
    "AND ($7::bigint IS NULL OR (" updated ") >= to_timestamp($7::bigint / 1000000.0)) "           \
    "AND ($8::bigint IS NULL OR (" updated ") < to_timestamp($8::bigint / 1000000.0)) "
#define FHIR_ORDER(key, tiebreak)                                                                  \
    "ORDER BY CASE WHEN $9::boolean THEN (" key ") END, "                                          \
    "CASE WHEN NOT $9::boolean THEN (" key ") END DESC, " tiebreak " "
#define FHIR_PAGE "LIMIT $10::integer OFFSET $11::integer"

/* A physician's FHIR id: the portal's id where it is a valid FHIR id, else a digest of it. */
#define FHIR_PRACTITIONER_ID(col)                                                                  \
    "(CASE WHEN length(" col ") <= 64 AND " col " !~ '[^A-Za-z0-9.-]' THEN " col                   \
    " ELSE 'md5-' || md5(" col ") END)"

#define FHIR_PATIENT_SELECT                                                                        \
    "SELECT p.id, p.assigning_authority, p.mrn, p.name, p.birth_date, p.email, p.phone, "          \
    "p.updated_at AS last_updated, count(*) OVER () AS total FROM portal.patients p "
#define FHIR_PATIENT_REST                                                                          \
    "AND " FHIR_FILTERS("p.id::text", "p.id", "NULL::text", "NULL::timestamptz", "p.updated_at")   \
        FHIR_ORDER("p.updated_at", "p.id") FHIR_PAGE

#define FHIR_PRACTITIONER_SELECT                                                                   \
    "SELECT " FHIR_PRACTITIONER_ID("ph.id") " AS fhir_id, ph.name, ph.phone, "                     \
                                            "ph.updated_at AS last_updated, count(*) OVER () AS "  \
                                            "total FROM portal.physicians ph "
#define FHIR_PRACTITIONER_REST                                                                     \
    "AND " FHIR_FILTERS(FHIR_PRACTITIONER_ID("ph.id"), "NULL::text", "NULL::text",                 \
                        "NULL::timestamptz", "ph.updated_at") FHIR_ORDER("ph.updated_at", "ph.id") \
        FHIR_PAGE

/* The order (ServiceRequest) and the images (ImagingStudy) are both a study row; each has its
 * own status, computed here so that the search filters by exactly what the resource shows. */
#define FHIR_ORDER_STATUS                                                                          \
    "CASE WHEN s.stage = 'cancelled' THEN 'revoked' WHEN s.stage IN ('physician_review', "         \
    "'available') THEN 'completed' ELSE 'active' END"
#define FHIR_IMAGES_STATUS                                                                         \
    "CASE WHEN s.stage = 'cancelled' THEN 'cancelled' WHEN s.exam_completed_at IS NOT NULL "       \
    "THEN 'available' ELSE 'registered' END"
#define FHIR_STUDY_SEARCH(status, who)                                                             \
    "SELECT s.id, s.patient_id, s.accession, s.modality, s.description, s.priority, s.stage, "     \
    "s.ordered_at, s.scheduled_for, s.exam_started_at, s.exam_completed_at, "                      \
    "s.study_instance_uid, " FHIR_PRACTITIONER_ID(                                                 \
        "s.referring_physician_id") " AS "                                                         \
                                    "physician_fhir_id, ph.name AS physician_name, " status        \
                                    " AS fhir_status, "                                            \
                                    "s.updated_at AS last_updated, count(*) OVER () AS total "     \
                                    "FROM portal.studies s JOIN portal.physicians ph ON ph.id = "  \
                                    "s.referring_physician_id "                                    \
                                    "WHERE " who                                                   \
                                    " AND " FHIR_FILTERS("s.id::text", "s.patient_id", status,     \
                                                         "NULL::timestamptz", "s.updated_at")      \
                                        FHIR_ORDER("s.updated_at", "s.id") FHIR_PAGE

/* Report versions: the page is chosen first and only its rows go through the gate, so the audit
 * names exactly the reports whose text was sent. The text is that of the version the JSON API
 * shows (text_version): for a patient the one released to them, through portal.patient_report;
 * for a physician the one to review, through portal.physician_report. */
#define FHIR_REPORT_EFFECTIVE "coalesce(s.exam_completed_at, s.exam_started_at, rv.signed_at)"
#define FHIR_REPORT_UPDATED   "greatest(rv.received_at, rel.released_at, rel.noted_at)"
#define FHIR_REPORT_PAGE(text_version, note, from_where)                                                \
    "SELECT page.*, t.findings, t.impression, t.note FROM (SELECT s.id AS study_id, "                   \
    "s.patient_id, s.accession, s.modality, s.description, "                                            \
    "s.study_instance_uid, " FHIR_PRACTITIONER_ID(                                                      \
        "s.referring_physician_id") " AS physician_fhir_id, "                                           \
                                    "ph.name AS physician_name, rv.version, rv.status AS "              \
                                    "fhir_status, rv.radiologist_name, "                                \
                                    "rv.signed_at, " text_version " AS text_version, " note             \
                                    " AS release_note, " FHIR_REPORT_EFFECTIVE                          \
                                    " AS effective_at, " FHIR_REPORT_UPDATED " AS last_updated, "       \
                                    "count(*) OVER () AS total, row_number() OVER (" FHIR_ORDER(        \
                                        FHIR_REPORT_EFFECTIVE,                                          \
                                        "s.id, rv.version DESC") ") "                                   \
                                                                 "AS position " from_where              \
                                                                 " AND " FHIR_FILTERS(                  \
                                                                     "s.id::text || '-' || "            \
                                                                     "rv.version",                      \
                                                                     "s.patient_id", "rv.status",       \
                                                                     FHIR_REPORT_EFFECTIVE,             \
                                                                     FHIR_REPORT_UPDATED) "ORDER "      \
                                                                                          "BY "         \
                                                                                          "positi"      \
                                                                                          "on"          \
                                                                                          " " FHIR_PAGE \
                                                                                          ") "          \
                                                                                          "page "

const struct query_def queries[Q_COUNT] = {
    [Q_PING] = {"ping", "SELECT 1", 0},
    [Q_BEGIN] = {"begin", "BEGIN", 0},
    [Q_COMMIT] = {"commit", "COMMIT", 0},
    [Q_ROLLBACK] = {"rollback", "ROLLBACK", 0},

    /* Named arguments: see enum ingest_event_param. */
    [Q_INGEST_EVENT] = {"ingest_event",
                        "SELECT portal.ingest_event(p_event_id => $1, p_payload_hash => $2, "
                        "p_type => $3, p_occurred_at => $4, p_scheduled_for => $5, p_mrn => $6, "
                        "p_patient_name => $7, p_birth_date => $8, p_email => $9, "
                        "p_accession => $10, p_modality => $11, p_description => $12, "
                        "p_priority => $13, p_site => $14, p_physician_id => $15, "
                        "p_physician_name => $16, p_physician_phone => $17, "
                        "p_scheduling_url => $18, p_assigning_authority => $19, "
                        "p_patient_phone => $20, p_physician_authority => $21, "
                        "p_actor_role => $22, p_actor_id => $23, p_client_addr => $24, "
                        "p_request_id => $25)::text",
                        IEP_COUNT},
    /* $4: the event whose answer carries the code (a replay of it cannot repeat the code). */
    [Q_SET_ACCESS_CODE] = {"set_access_code",
                           "UPDATE portal.patients SET access_selector = $2, access_hash = $3, "
                           "access_code_event = $4, access_code_unconfirmed_at = NULL, "
                           "updated_at = now() WHERE id = $1",
                           4},
    [Q_INGEST_REPORT] = {"ingest_report",
                         "SELECT portal.ingest_report(p_event_id => $1, p_payload_hash => $2, "
                         "p_accession => $3, p_status => $4, p_findings => $5, "
                         "p_impression => $6, p_radiologist => $7, p_signed_at => $8, "
                         "p_actor_role => $9, p_actor_id => $10, p_client_addr => $11, "
                         "p_request_id => $12)::text",
                         IRP_COUNT},
    [Q_INGEST_PATIENT] = {"ingest_patient",
                          "SELECT portal.ingest_patient(p_event_id => $1, p_payload_hash => $2, "
                          "p_assigning_authority => $3, p_mrn => $4, p_patient_name => $5, "
                          "p_birth_date => $6, p_email => $7, p_patient_phone => $8, "
                          "p_actor_role => $9, p_actor_id => $10, p_client_addr => $11, "
                          "p_request_id => $12)::text",
                          IPP_COUNT},
    [Q_INGEST_MERGE] = {"ingest_merge",
                        "SELECT portal.ingest_merge(p_event_id => $1, p_payload_hash => $2, "
                        "p_assigning_authority => $3, p_mrn => $4, p_merged_authority => $5, "
                        "p_merged_mrn => $6, p_actor_role => $7, p_actor_id => $8, "
                        "p_client_addr => $9, p_request_id => $10)::text",
                        IMP_COUNT},
    /* Whether a report's accession was ordered yet (an HL7 ORU may come first), and whether the
     * patient the report names ($2 authority, $3 MRN, followed through a merge) is its patient. */
    [Q_STUDY_OWNER] = {"study_owner",
                       "SELECT (s.id IS NOT NULL)::text, coalesce(s.patient_id = "
                       "(SELECT coalesce(p.merged_into, p.id) FROM portal.patients p "
                       "WHERE p.assigning_authority = $2 AND p.mrn = $3), false)::text "
                       "FROM (SELECT 1) one LEFT JOIN portal.studies s ON s.accession = $1",
                       3},

    [Q_LOGIN_LOOKUP] = {"login_lookup",
                        "SELECT id, birth_date, access_hash, language FROM portal.patients "
                        "WHERE access_selector = $1 AND merged_into IS NULL",
                        1},
    /* Whether an ingest event names a patient already known (under the authority
     * portal.patient_identify would use): an unknown one needs an access code made first. */
    [Q_PATIENT_KNOWN] = {"patient_known",
                         "SELECT EXISTS (SELECT FROM portal.patients WHERE assigning_authority = "
                         "coalesce($1, $2, 'main') AND mrn = $3) AS known",
                         3},
    [Q_LOGIN_LOCKED] = {"login_locked", "SELECT portal.login_locked($1::text[])", 1},
    [Q_LOGIN_FAILED] = {"login_failed",
                        "SELECT portal.login_failed($1::text[], $2::integer[], $3::interval, "
                        "$4::interval)",
                        4},
    [Q_LOGIN_SUCCEEDED] = {"login_succeeded", "SELECT portal.login_succeeded($1)", 1},
    [Q_AUDIT] = {"audit",
                 "INSERT INTO portal.audit_log (actor_role, actor_id, action, study_id, detail, "
                 "client_addr, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 7},

    [Q_PAGE_STAMP] = {"page_stamp", "SELECT " PAGE_STAMP_COLUMNS, 1},
    [Q_REREAD_RELEASED] = {"reread_released",
                           "SELECT portal.reread_released_page($1, $2, $3, $4, $5, $6, $7) "
                           "AS reread",
                           7},
    [Q_PATIENT_STUDIES] = {"patient_studies",
                           "SELECT " PATIENT_STUDY_COLUMNS ", " PAGE_STAMP_COLUMNS " "
                           "FROM portal.studies s " PAGE_STATE_JOIN ESTIMATE_JOINS
                           "WHERE s.patient_id = $1 "
                           "ORDER BY coalesce(s.ordered_at, s.created_at) DESC, s.id LIMIT 500",
                           1},
    [Q_PATIENT_STUDY] =
        {"patient_study",
         "SELECT " PATIENT_STUDY_COLUMNS ", p.name AS physician_name, p.phone AS physician_phone, "
         "p.scheduling_url, st.discussion_id, st.discussion_state, st.discussion_created_at, "
         "st.discussion_scheduled_for, st.discussion_reply, st.discussion_updated_at, "
         "st.discussion_report_version, "
         "r.version, r.status, r.findings, r.impression, "
         "r.radiologist, r.signed_at, r.released_at AS report_released_at, r.released_by, "
         "r.physician_note, r.how, " PAGE_STAMP_COLUMNS " "
         "FROM portal.studies s "
         "JOIN portal.physicians p ON p.id = s.referring_physician_id "
         /* As a join condition the release test ran after the gate function, so every unreleased
          * study paid a PL/pgSQL call that could find nothing; as a one-time filter of a subquery
          * the function runs only for released studies. LIMIT 1 (it returns at most one row)
          * keeps the subquery apart and replaces the planner's guess of 1000 rows for a function,
          * which had made it hash the release and hold subqueries over whole tables. */
         "LEFT JOIN LATERAL (SELECT pr.version, pr.status, pr.findings, pr.impression, "
         "pr.radiologist, pr.signed_at, pr.released_at, pr.released_by, pr.physician_note, pr.how "
         "FROM portal.patient_report($1, s.id, $3, $4) pr "
         "WHERE s.released_version IS NOT NULL LIMIT 1) r ON true " PAGE_STATE_JOIN ESTIMATE_JOINS
         "WHERE s.id = $2 AND s.patient_id = $1",
         4},
    [Q_RELEASE_HISTORY] = {"release_history",
                           "SELECT r.version, rv.status, r.released_at, r.released_by_name, r.how "
                           "FROM portal.releases r JOIN portal.report_versions rv "
                           "ON rv.study_id = r.study_id AND rv.version = r.version "
                           "WHERE r.study_id = $1 ORDER BY r.version",
                           1},
    [Q_REQUEST_DISCUSSION] = {"request_discussion",
                              "SELECT id, state, array_to_json(preferred_times)::text AS "
                              "preferred_times, message, created_at, created "
                              "FROM portal.request_discussion($1, $2, $3::timestamptz[], $4, $5, "
                              "$6)",
                              6},
    [Q_ANSWER_DISCUSSION] =
        {"answer_discussion",
         "SELECT id, study_id, state, scheduled_for, reply, updated_at, changed "
         "FROM portal.answer_discussion($1, $2, $3, $4, $5::timestamptz, $6, "
         "$7, $8)",
         8},

    [Q_WORKLIST] =
        {"worklist",
         "SELECT * FROM (SELECT s.id, s.accession, s.modality, s.description, s.priority, s.stage, "
         "pt.name AS patient_name, pt.mrn, pt.birth_date, s.final_at, s.reviewable_version, "
         "rv.status AS report_status, rv.signed_at, s.released_version, s.released_at, "
         "h.reason AS hold_reason, h.placed_at AS hold_placed_at, "
         "h.reason_code AS hold_reason_code, h.ends_at AS hold_ends_at, "
         "rel.how AS released_how, rp.due_at AS auto_release_at, "
         "portal.study_overdue(s) AS overdue, "
         "CASE WHEN s.released_version = s.reviewable_version THEN 'released' "
         "WHEN h.id IS NOT NULL THEN 'held' ELSE 'awaiting_review' END AS state "
         "FROM portal.studies s JOIN portal.patients pt ON pt.id = s.patient_id "
         "JOIN portal.report_versions rv ON rv.study_id = s.id AND rv.version = "
         "s.reviewable_version "
         "LEFT JOIN portal.holds h ON h.study_id = s.id AND h.ended_at IS NULL "
         "AND coalesce(h.ends_at, 'infinity') > now() "
         "LEFT JOIN portal.releases rel ON rel.study_id = s.id AND rel.version = "
         "s.released_version "
         "LEFT JOIN LATERAL portal.release_plan(s) rp ON true "
         "WHERE s.referring_physician_id = $1 AND s.reviewable_version IS NOT NULL) w "
         "WHERE $2 = 'all' OR w.state = $2 ORDER BY w.final_at, w.id LIMIT 500",
         2},
    [Q_PHYSICIAN_STUDY] =
        {"physician_study",
         "SELECT s.id, s.accession, s.modality, s.description, s.priority, s.site, s.stage, "
         "s.ordered_at, s.exam_completed_at, s.final_at, s.released_version, s.released_at, "
         "s.reviewable_version, pt.name AS patient_name, pt.mrn, pt.birth_date, "
         "r.version, r.status, r.findings, r.impression, r.radiologist, r.signed_at, "
         "h.reason AS hold_reason, h.placed_at AS hold_placed_at, "
         "h.reason_code AS hold_reason_code, h.ends_at AS hold_ends_at, "
         "rel.note AS release_note, rel.released_by_name, rel.how AS released_how, "
         "rel.noted_at AS release_noted_at, rp.mode AS plan_mode, rp.basis AS plan_basis, "
         "rp.due_at AS plan_due_at, coalesce((SELECT x.not_for_proxies FROM "
         "portal.study_proxy_restrictions x WHERE x.study_id = s.id), false) AS not_for_proxies "
         "FROM portal.studies s JOIN portal.patients pt ON pt.id = s.patient_id "
         "LEFT JOIN LATERAL portal.physician_report($1, s.id, $3, $4) r ON true "
         "LEFT JOIN portal.holds h ON h.study_id = s.id AND h.ended_at IS NULL "
         "AND coalesce(h.ends_at, 'infinity') > now() "
         "LEFT JOIN portal.releases rel ON rel.study_id = s.id AND rel.version = "
         "s.released_version "
         "LEFT JOIN LATERAL portal.release_plan(s) rp ON true "
         "WHERE s.id = $2 AND s.referring_physician_id = $1",
         4},
    [Q_RELEASE] = {"release",
                   "SELECT released_at, report_version FROM portal.release_report($1, $2, $3, $4, "
                   "$5)",
                   5},
    [Q_HOLD] = {"hold",
                "SELECT hold_id, placed_at, reason, reason_code, ends_at, created "
                "FROM portal.hold_report($1, $2, $3, $4, $5::timestamptz, $6, $7)",
                7},
    /* Requests still to answer first, oldest first; then the closed ones, newest first. */
    [Q_PHYSICIAN_DISCUSSIONS] = {"physician_discussions",
                                 "SELECT d.id, d.study_id, s.accession, s.modality, s.description, "
                                 "pt.name AS patient_name, pt.email AS patient_email, "
                                 "array_to_json(d.preferred_times)::text AS preferred_times, "
                                 "d.message, d.state, d.created_at, d.scheduled_for, d.reply, "
                                 "d.updated_at, d.report_version "
                                 "FROM portal.discussion_requests d "
                                 "JOIN portal.studies s ON s.id = d.study_id "
                                 "JOIN portal.patients pt ON pt.id = d.patient_id "
                                 "WHERE d.physician_id = $1 "
                                 "ORDER BY d.state = 'closed', CASE WHEN d.state = 'closed' THEN "
                                 "-extract(epoch FROM d.created_at) ELSE "
                                 "extract(epoch FROM d.created_at) END, d.id LIMIT 500",
                                 1},
    /* The front desk's call-back list (h_discussion_answer.c): the requests still to answer at
     * the site, oldest first. */
    [Q_STAFF_DISCUSSIONS] = {"staff_discussions",
                             "SELECT d.id, d.study_id, s.accession, s.modality, s.description, "
                             "pt.name AS patient_name, coalesce(pt.email_override, pt.email) AS "
                             "patient_email, coalesce(pt.phone_override, pt.phone) AS "
                             "patient_phone, ph.id AS physician_id, ph.name AS physician_name, "
                             "array_to_json(d.preferred_times)::text AS preferred_times, "
                             "d.message, d.state, d.created_at, d.scheduled_for, d.reply, "
                             "d.updated_at, d.report_version "
                             "FROM portal.discussion_requests d "
                             "JOIN portal.studies s ON s.id = d.study_id "
                             "JOIN portal.patients pt ON pt.id = d.patient_id "
                             "JOIN portal.physicians ph ON ph.id = d.physician_id "
                             "WHERE d.state <> 'closed' ORDER BY d.created_at, d.id LIMIT 500",
                             0},
    [Q_PHYSICIAN_LOGIN_LOOKUP] = {"physician_login_lookup",
                                  "SELECT id, password_hash FROM portal.physicians WHERE id = $1 "
                                  "AND disabled_at IS NULL",
                                  1},

    /* Release policies (sql/definitions/40_release.sql, 60_preferences.sql). */
    [Q_RELEASE_DUE] = {"release_due",
                       "SELECT released, holds_expired FROM portal.release_due($1::integer, $2)",
                       2},
    /* The patient's language (sql/migrations/0014_language.sql). */
    [Q_PATIENT_LANGUAGE] = {"patient_language",
                            "SELECT language FROM portal.patients WHERE id = $1 "
                            "AND merged_into IS NULL",
                            1},
    [Q_SET_PATIENT_LANGUAGE] = {"set_patient_language",
                                "UPDATE portal.patients SET language = $2, updated_at = now() "
                                "WHERE id = $1 AND merged_into IS NULL RETURNING language",
                                2},
    [Q_PATIENT_PREFERENCE] = {"patient_preference",
                              "SELECT release, wait_days, chosen_at, allowed, max_wait_days "
                              "FROM portal.get_patient_preference($1)",
                              1},
    [Q_SET_PATIENT_PREFERENCE] = {"set_patient_preference",
                                  "SELECT release, wait_days, chosen_at "
                                  "FROM portal.set_patient_preference($1, $2, $3::integer, $4, $5)",
                                  5},
    [Q_SET_STUDY_PREFERENCE] = {"set_study_preference",
                                "SELECT portal.set_study_preference($1, $2, $3, $4::integer, $5, "
                                "$6)::text AS preference",
                                6},
    [Q_ADMIN_HOLDS] = {"admin_holds",
                       "SELECT kind, study_id, accession, site, modality, version, reason_code, "
                       "reason, actor, actor_name, started_at, deadline, ended_at, ended_how, "
                       "duration_seconds FROM portal.compliance_holds("
                       "coalesce($1::timestamptz, '-infinity'), "
                       "coalesce($2::timestamptz, 'infinity'), $3, $4, $5)",
                       5},

    /* Turnaround estimates (sql/definitions/50_estimates.sql), for the estimates task. */
    [Q_ESTIMATES_REFRESH] = {"estimates_refresh",
                             "SELECT portal.refresh_estimates_if_due($1::integer, $2::integer)", 2},
    [Q_OVERDUE_COUNTS] = {"overdue_counts", "SELECT stage, overdue FROM portal.overdue_counts()",
                          0},
    /* The calibration's factors, for /metrics. */
    [Q_ESTIMATES_STRETCH] = {"estimates_stretch",
                             "SELECT milestone, exp(theta50), exp(theta90) "
                             "FROM portal.estimate_calibration",
                             0},
    /* The kept estimates whose time is up or whose model is older (54_study_estimates.sql). */
    [Q_STUDY_ESTIMATES_REFRESH] = {"study_estimates_refresh",
                                   "SELECT portal.refresh_study_estimates($1::integer)", 1},
    /* The rows that follow kept estimates whose time comes soon, computed ahead. */
    [Q_STUDY_ESTIMATES_PREPARE] = {"study_estimates_prepare",
                                   "SELECT portal.prepare_study_estimates($1::integer)", 1},

    /* The PACS follower (sql/definitions/25_pacs.sql): images received (named arguments: see enum
     * ingest_images_param), and the feed's position, taken (NULL: another instance holds it) and
     * moved forward in the same transaction. */
    [Q_INGEST_IMAGES] = {"ingest_images",
                         "SELECT portal.ingest_images(p_event_id => $1, p_payload_hash => $2, "
                         "p_accession => $3, p_study_instance_uid => $4, p_occurred_at => $5, "
                         "p_actor_role => $6, p_actor_id => $7, p_client_addr => $8, "
                         "p_request_id => $9)::text",
                         IIP_COUNT},
    [Q_FEED_TAKE] = {"feed_take", "SELECT portal.feed_take($1) AS position", 1},
    [Q_FEED_ADVANCE] = {"feed_advance", "SELECT portal.feed_advance($1, $2::bigint)", 2},

    [Q_FHIR_PATIENTS_AS_PATIENT] = {"fhir_patients_as_patient",
                                    FHIR_PATIENT_SELECT "WHERE p.id = $1::uuid " FHIR_PATIENT_REST,
                                    FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_PATIENTS_AS_PHYSICIAN] =
        {"fhir_patients_as_physician",
         FHIR_PATIENT_SELECT
         "WHERE EXISTS (SELECT FROM portal.studies s WHERE "
         "s.patient_id = p.id AND s.referring_physician_id = $1) " FHIR_PATIENT_REST,
         FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_PRACTITIONERS_AS_PATIENT] =
        {"fhir_practitioners_as_patient",
         FHIR_PRACTITIONER_SELECT
         "WHERE ph.id IN (SELECT s.referring_physician_id FROM "
         "portal.studies s WHERE s.patient_id = $1::uuid) " FHIR_PRACTITIONER_REST,
         FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_PRACTITIONERS_AS_PHYSICIAN] = {"fhir_practitioners_as_physician",
                                           FHIR_PRACTITIONER_SELECT
                                           "WHERE ph.id = $1 " FHIR_PRACTITIONER_REST,
                                           FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_SERVICE_REQUESTS_AS_PATIENT] = {"fhir_service_requests_as_patient",
                                            FHIR_STUDY_SEARCH(FHIR_ORDER_STATUS,
                                                              "s.patient_id = $1::uuid"),
                                            FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_SERVICE_REQUESTS_AS_PHYSICIAN] = {"fhir_service_requests_as_physician",
                                              FHIR_STUDY_SEARCH(FHIR_ORDER_STATUS,
                                                                "s.referring_physician_id = $1"),
                                              FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_IMAGING_STUDIES_AS_PATIENT] = {"fhir_imaging_studies_as_patient",
                                           FHIR_STUDY_SEARCH(FHIR_IMAGES_STATUS,
                                                             "s.patient_id = $1::uuid"),
                                           FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_IMAGING_STUDIES_AS_PHYSICIAN] = {"fhir_imaging_studies_as_physician",
                                             FHIR_STUDY_SEARCH(FHIR_IMAGES_STATUS,
                                                               "s.referring_physician_id = $1"),
                                             FQP_COUNT_WITHOUT_AUDIT},
    [Q_FHIR_REPORTS_AS_PATIENT] =
        {"fhir_reports_as_patient",
         FHIR_REPORT_PAGE(
             "s.released_version", "NULL::text",
             "FROM portal.studies s JOIN portal.releases rel ON rel.study_id = s.id "
             "JOIN portal.report_versions rv ON rv.study_id = s.id "
             "AND rv.version = rel.version "
             "JOIN portal.physicians ph ON ph.id = s.referring_physician_id "
             "WHERE s.patient_id = $1::uuid") "LEFT JOIN LATERAL (SELECT pr.findings, "
                                              "pr.impression, pr.physician_note AS note "
                                              "FROM portal.patient_report($1::uuid, page.study_id, "
                                              "$12, $13) pr "
                                              "WHERE page.version = page.text_version LIMIT 1) t "
                                              "ON true ORDER BY page.position",
         FQP_COUNT},
    [Q_FHIR_REPORTS_AS_PHYSICIAN] =
        {"fhir_reports_as_physician",
         FHIR_REPORT_PAGE(
             "coalesce(s.reviewable_version, s.latest_version)", "rel.note",
             "FROM portal.studies s JOIN portal.report_versions rv "
             "ON rv.study_id = s.id "
             "JOIN portal.physicians ph ON ph.id = s.referring_physician_id "
             "LEFT JOIN portal.releases rel ON rel.study_id = s.id "
             "AND rel.version = rv.version "
             "WHERE s.referring_physician_id = $1") "LEFT JOIN LATERAL (SELECT pr.findings, "
                                                    "pr.impression, page.release_note AS note "
                                                    "FROM portal.physician_report($1, "
                                                    "page.study_id, $12, $13) pr "
                                                    "WHERE page.version = page.text_version LIMIT "
                                                    "1) t ON true ORDER BY page.position",
         FQP_COUNT},
    /* Notifications: the senders' claim and result, the schedule, people's choices, the
     * unsubscribe link and the admin's list (state only, never an address or an accession). */
    [Q_NOTIFY_CLAIM] =
        {"notify_claim",
         "SELECT id, message_id, kind, audience, address, reports_waiting, "
         "accession, stage, unsubscribe_id, attempt, language FROM portal.notify_claim($1, "
         "$2::integer, $3::integer, $4, $5::timestamptz, $6::time, $7::time, $8, "
         "$9::integer)",
         9},
    [Q_NOTIFY_RESULT] = {"notify_result",
                         "SELECT portal.notify_result($1::bigint, $2, $3, $4::integer, "
                         "$5::integer) AS state",
                         5},
    [Q_NOTIFY_SCHEDULE] = {"notify_schedule",
                           "SELECT hold_ending, overdue, digests, expired, deleted FROM "
                           "portal.notify_schedule($1::timestamptz, $2, $3::integer, $4::boolean, "
                           "$5::boolean, $6::interval, $7::interval)",
                           7},
    [Q_PATIENT_CONTACT] = {"patient_contact",
                           "SELECT email, email_source, phone, phone_source, channel, time_zone, "
                           "updated_at FROM portal.patient_contact($1)",
                           1},
    [Q_SET_PATIENT_CONTACT] = {"set_patient_contact",
                               "SELECT email, email_source, phone, phone_source, channel, "
                               "time_zone, updated_at FROM portal.set_patient_contact($1, $2, $3, "
                               "$4, $5, $6, $7)",
                               7},
    [Q_SET_PHYSICIAN_NOTIFICATIONS] = {"set_physician_notifications",
                                       "SELECT digest, email FROM "
                                       "portal.set_physician_notifications($1, $2, $3, $4, $5)",
                                       5},
    [Q_NOTIFY_UNSUBSCRIBE] = {"notify_unsubscribe",
                              "SELECT portal.notify_unsubscribe($1::uuid, $2, $3) AS who", 3},
    [Q_ADMIN_NOTIFICATIONS] = {"admin_notifications",
                               "SELECT id, message_id, kind, channel, CASE WHEN patient_id IS NOT "
                               "NULL THEN 'patient' WHEN physician_id IS NOT NULL THEN 'physician' "
                               "ELSE 'staff' END AS audience, state, attempts, failure, due_at, "
                               "created_at, sent_at, ended_at FROM portal.notifications "
                               "WHERE state = ANY($1::text[]) ORDER BY id DESC LIMIT 500",
                               1},

    /* The staff console: sign-in with password and TOTP; the step is recorded only if later than
     * the last one accepted, so a code is never accepted twice, even by two requests at once. */
    [Q_STAFF_LOGIN_LOOKUP] =
        {"staff_login_lookup",
         "SELECT id, role, password_hash, totp_secret, "
         "coalesce(totp_last_step, -1) AS totp_last_step, "
         "(disabled_at IS NOT NULL) AS disabled FROM portal.staff WHERE id = $1",
         1},
    [Q_STAFF_TOTP_USE] = {"staff_totp_use",
                          "UPDATE portal.staff SET totp_last_step = $2::bigint WHERE id = $1 "
                          "AND coalesce(totp_last_step, -1) < $2::bigint AND disabled_at IS NULL "
                          "RETURNING id",
                          2},
    [Q_POLICIES_LIST] = {"policies_list",
                         "SELECT portal.release_policy_json(p)::text AS policy FROM "
                         "portal.release_policies p ORDER BY p.site = '*' DESC, p.site, "
                         "p.modality = '*' DESC, p.modality",
                         0},
    /* The policy's fields, $1..$8: site, modality, mode, auto_release_after_seconds,
     * patient_preference_allowed, max_patient_delay_seconds, hold_default_seconds,
     * hold_max_seconds (NULL: the table's default). */
    [Q_POLICY_PREVIEW] = {"policy_preview",
                          "SELECT portal.preview_release_policy($1, $2, $3, $4::bigint, "
                          "$5::boolean, $6::bigint, $7::bigint, $8::bigint) AS would_release",
                          8},
    [Q_POLICY_SAVE] = {"policy_save",
                       "SELECT portal.save_release_policy($1, $2, $3, $4::bigint, $5::boolean, "
                       "$6::bigint, $7::bigint, $8::bigint, $9, $10, $11, $12, $13)::text "
                       "AS policy",
                       13},
    [Q_STAFF_FIND_PATIENTS] = {"staff_find_patients",
                               "SELECT patient_id, assigning_authority, mrn, name, birth_date, "
                               "email, phone, notify_channel FROM portal.staff_find_patients("
                               "$1, $2, $3, $4::date, $5, $6, $7, $8)",
                               8},
    [Q_STAFF_PATIENT] =
        {"staff_patient",
         "SELECT id AS patient_id, assigning_authority, mrn, name, birth_date, "
         "language FROM portal.patients WHERE id = $1::uuid AND merged_into IS NULL",
         1},
    /* Physicians, for the administrators (sql/definitions/85_staff.sql). */
    [Q_ADMIN_PHYSICIANS] = {"admin_physicians",
                            "SELECT physician_id, name, email, has_password, disabled, waiting, "
                            "oldest_waiting_since FROM portal.physicians_waiting()",
                            0},
    [Q_INVITE_PHYSICIAN] = {"invite_physician",
                            "SELECT portal.invite_physician($1, $2, $3, make_interval(hours => "
                            "$4::integer), $5::boolean, $6, $7, $8, $9) AS expires_at",
                            9},
    [Q_INVITATION_LOOKUP] = {"invitation_lookup",
                             "SELECT verifier_hash FROM portal.physician_invitations "
                             "WHERE selector = $1 AND used_at IS NULL AND expires_at > now()",
                             1},
    [Q_ACCEPT_INVITATION] = {"accept_invitation",
                             "SELECT portal.accept_physician_invitation($1, $2, $3, $4) "
                             "AS physician_id",
                             4},
    [Q_SET_PHYSICIAN_DISABLED] = {"set_physician_disabled",
                                  "SELECT portal.set_physician_disabled($1, $2::boolean, $3, $4, "
                                  "$5, $6)::text AS disabled",
                                  6},
    /* Today's and those ahead, and the last year's: enough to check a calendar against. */
    [Q_CLOSED_DAYS] =
        {"closed_days",
         "SELECT day::text AS day, note, added_by, added_at FROM portal.site_closed_days "
         "WHERE day >= current_date - 366 ORDER BY day",
         0},
    [Q_SET_CLOSED_DAY] = {"set_closed_day",
                          "SELECT day::text AS day, note, added_by, added_at "
                          "FROM portal.set_closed_day($1::date, $2, $3, $4, $5, $6)",
                          6},
    [Q_REMOVE_CLOSED_DAY] =
        {"remove_closed_day",
         "SELECT portal.remove_closed_day($1::date, $2, $3, $4, $5)::text AS removed", 5},
    [Q_STAFF_SET_PATIENT_CONTACT] = {"staff_set_patient_contact",
                                     "SELECT email, email_source, phone, phone_source, channel, "
                                     "time_zone, updated_at FROM portal.staff_set_patient_contact("
                                     "$1, $2, $3, $4, $5, $6, $7, $8, $9)",
                                     9},
    /* Studies past their p90 estimate (sql/definitions/50_estimates.sql), by stage. */
    [Q_ADMIN_OVERDUE] = {"admin_overdue",
                         "SELECT o.study_id, o.accession, o.stage, s.site, s.modality, s.priority "
                         "FROM portal.overdue_studies(now()) o JOIN portal.studies s ON s.id = "
                         "o.study_id ORDER BY portal.stage_order(o.stage), o.accession LIMIT 1000",
                         0},
    /* A new access code for one patient, by id ($1) or by MRN ($2, with the assigning authority
     * $3 when the MRN is used by more than one); a merged identifier no longer signs in. The old
     * code stops working, the sessions it opened end, and the audit names who asked ($6..$9).
     * No row: no such patient, or more than one. */
    [Q_REISSUE_ACCESS_CODE] = {"reissue_access_code",
                               "WITH target AS (SELECT id FROM portal.patients "
                               "WHERE merged_into IS NULL AND CASE WHEN $1::uuid IS NOT NULL "
                               "THEN id = $1::uuid ELSE mrn = $2 AND ($3::text IS NULL OR "
                               "assigning_authority = $3) END), "
                               "changed AS (UPDATE portal.patients SET access_selector = $4, "
                               "access_hash = $5, access_code_event = NULL, "
                               "access_code_unconfirmed_at = NULL, "
                               "updated_at = now() WHERE id = (SELECT id FROM target) "
                               "AND (SELECT count(*) FROM target) = 1 RETURNING id), "
                               "audited AS (INSERT INTO portal.audit_log (actor_role, actor_id, "
                               "action, detail, client_addr, request_id) SELECT $6, $7, "
                               "'access_code.issue', jsonb_build_object('patient_id', id), $8, $9 "
                               "FROM changed) "
                               /* a new code ends the sessions the old one opened */
                               "SELECT id AS patient_id, (SELECT max(revoked_before) FROM "
                               "portal.revoke_person_sessions('patient', id::text)) FROM changed",
                               9},

    /* One-shot commands. */
    /* $1: the site's zone for the estimates' clocks (PORTAL_TIME_ZONE), '' to keep the
     * database's own setting. */
    [Q_SET_SESSION_ZONES] = {"set_session_zones",
                             "SELECT set_config('TimeZone', 'UTC', false), CASE WHEN $1 <> '' THEN "
                             "set_config('portal.site_timezone', $1, false) END",
                             1, true},
    [Q_STUDY_BY_ACCESSION] = {"study_by_accession",
                              "SELECT id FROM portal.studies WHERE accession = $1", 1, true},
    /* $4: the assigning authority, needed only when the MRN is used by more than one; a merged
     * identifier no longer signs in. */
    /* Creates a staff account, as the owner (portald staff-add): the server's role may not. */
    [Q_STAFF_ADD] = {"staff_add",
                     "WITH added AS (INSERT INTO portal.staff (id, name, role, password_hash, "
                     "totp_secret) VALUES ($1, $2, $3, $4, $5) RETURNING id, name, role) "
                     "INSERT INTO portal.audit_log (actor_role, actor_id, action, detail) "
                     "SELECT 'operator', 'cli', 'staff.add', jsonb_build_object('before', NULL, "
                     "'after', jsonb_build_object('id', id, 'name', name, 'role', role)) "
                     "FROM added RETURNING id",
                     5, true},
    [Q_SET_PHYSICIAN_PASSWORD] = {"set_physician_password",
                                  "WITH changed AS (UPDATE portal.physicians SET "
                                  "password_hash = $2, updated_at = now() WHERE id = $1 "
                                  "RETURNING id) "
                                  /* a new password ends the sessions the old one opened */
                                  "SELECT portal.revoke_sessions('physician', id) FROM changed",
                                  2, true},
    [Q_HISTORY_LOCK] = {"history_lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1, true},
    [Q_HISTORY_SET_DAYS] = {"history_set_days",
                            "SELECT set_config('portal.seed_days', $1::integer::text, true)", 1,
                            true},
    [Q_HISTORY_SET_SHAPE] = {"history_set_shape",
                             "SELECT set_config('portal.seed_shape', $1::text, true)", 1, true},
    [Q_HISTORY_SET_SEED] = {"history_set_seed",
                            "SELECT set_config('portal.seed_random', $1::integer::text, true)", 1,
                            true},
    [Q_HISTORY_EXISTS] =
        {"history_exists",
         "SELECT EXISTS (SELECT FROM portal.patients WHERE mrn LIKE 'SYN-%')::text", 0, true},
    [Q_HISTORY_COUNT] = {"history_count", "SELECT count(*) FROM syn", 0, true},
    [Q_REFRESH_ESTIMATES] = {"refresh_estimates",
                             "SELECT portal.refresh_estimates(make_interval(days => "
                             "$1::integer))::text",
                             1, true},
    [Q_BACKTEST] = {"backtest",
                    "SELECT modality, milestone, studies, scored, p50_covered, p90_covered, "
                    "median_abs_error_h, unfinished, too_few "
                    "FROM portal.backtest($1::integer, make_interval(days => $2::integer), now(), "
                    "$3::boolean)",
                    3, true},

    [Q_BACKTEST_HOURS] = {"backtest_hours",
                          "SELECT milestone, hour_of_week, studies, scored, p50_covered, "
                          "p90_covered, unfinished, too_few "
                          "FROM portal.backtest_hours($1::integer, make_interval(days => "
                          "$2::integer), now())",
                          2, true},

    /* portald migrate (server/migrate.c), as the owner, before the schema may exist. */
    [Q_MIGRATE_QUIET] = {"migrate_quiet", "SET client_min_messages = warning", 0, true},
    [Q_MIGRATE_LOCK] = {"migrate_lock", "SELECT pg_advisory_lock($1::bigint)", 1, true},
    [Q_MIGRATIONS_TABLE] =
        {"migrations_table",
         "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
         "name text NOT NULL, checksum text NOT NULL, "
         "applied_at timestamptz NOT NULL DEFAULT now())",
         0, true},
    [Q_MIGRATION_CHECKSUM] = {"migration_checksum",
                              "SELECT checksum FROM schema_migrations WHERE version = $1", 1, true},
    [Q_MIGRATION_RECORD] = {"migration_record",
                            "INSERT INTO schema_migrations (version, name, checksum) "
                            "VALUES ($1, $2, $3)",
                            3, true},
    [Q_DEFINITIONS_TABLE] =
        {"definitions_table",
         "CREATE TABLE IF NOT EXISTS schema_definitions (name text PRIMARY KEY, "
         "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
         0, true},
    [Q_DEFINITION_CHECKSUM] = {"definition_checksum",
                               "SELECT checksum FROM schema_definitions WHERE name = $1", 1, true},
    [Q_DEFINITION_RECORD] = {"definition_record",
                             "INSERT INTO schema_definitions (name, checksum) VALUES ($1, $2) "
                             "ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, "
                             "applied_at = now()",
                             2, true},
    /* The person's sessions, and those of their other identity (a proxy who is also a patient,
     * 66_same_person.sql): one row each. */
    [Q_REVOKE_SESSIONS] = {"revoke_sessions",
                           "SELECT role, sub, revoked_before "
                           "FROM portal.revoke_person_sessions($1, $2)",
                           2},
    [Q_SESSION_REVOKED_BEFORE] = {"session_revoked_before",
                                  "SELECT revoked_before FROM portal.session_revocations "
                                  "WHERE role = $1 AND sub = $2",
                                  2},
    [Q_SESSION_REVOCATIONS] = {"session_revocations",
                               "SELECT role, sub, revoked_before FROM portal.session_revocations",
                               0, true},
    /* A replay of the event whose answer carried the patient's code: it cannot carry it again,
     * so the patient is marked as maybe without one. Returns a row when that is the case. */
    [Q_ACCESS_CODE_NOT_REPEATED] = {"access_code_not_repeated",
                                    "UPDATE portal.patients SET access_code_unconfirmed_at = "
                                    "coalesce(access_code_unconfirmed_at, now()) "
                                    "WHERE id = $1::uuid AND access_code_event = $2 RETURNING id",
                                    2},
    [Q_ACCESS_CODES_PENDING] = {"access_codes_pending",
                                "SELECT assigning_authority, mrn, access_code_unconfirmed_at "
                                "FROM portal.patients WHERE access_code_unconfirmed_at IS NOT NULL "
                                "AND merged_into IS NULL ORDER BY access_code_unconfirmed_at, mrn",
                                0, true},

    /* ---- Proxies: every study and report a proxy sees comes through portal.proxy_studies and
     * portal.proxy_report, which check the link and mask what is hidden (65_proxies.sql). ----- */
    [Q_PROXY_LOGIN_LOOKUP] = {"proxy_login_lookup",
                              "SELECT id, birth_date, access_hash FROM portal.proxies "
                              "WHERE access_selector = $1",
                              1},
    [Q_PROXY_PATIENTS] = {"proxy_patients",
                          "SELECT patient_id, name, relation, ends_at, sees_log "
                          "FROM portal.proxy_patients($1)",
                          1},
    [Q_PROXY_STUDIES] =
        {"proxy_studies",
         "SELECT " PATIENT_STUDY_COLUMNS
         " FROM portal.proxy_studies($1, $2, NULL) s " PAGE_STATE_JOIN ESTIMATE_JOINS
         "ORDER BY coalesce(s.ordered_at, s.created_at) DESC, s.id",
         2},
    [Q_PROXY_STUDY] =
        {"proxy_study",
         "SELECT " PATIENT_STUDY_COLUMNS ", p.name AS physician_name, p.phone AS physician_phone, "
         "p.scheduling_url, r.version, r.status, r.findings, r.impression, r.radiologist, "
         "r.signed_at, r.released_at AS report_released_at, r.released_by, r.physician_note, r.how "
         "FROM portal.proxy_studies($1, NULL, $2) s "
         "JOIN portal.physicians p ON p.id = s.referring_physician_id "
         "LEFT JOIN LATERAL (SELECT pr.version, pr.status, pr.findings, pr.impression, "
         "pr.radiologist, pr.signed_at, pr.released_at, pr.released_by, pr.physician_note, pr.how "
         "FROM portal.proxy_report($1, s.id, $3, $4) pr "
         "WHERE s.released_version IS NOT NULL LIMIT 1) r ON true " PAGE_STATE_JOIN ESTIMATE_JOINS,
         4},
    [Q_PATIENT_PROXIES] = {"patient_proxies",
                           "SELECT link_id, proxy_name, kind, starts_at, ends_at, ended_at, active "
                           "FROM portal.patient_proxies($1)",
                           1},
    /* A new code for an existing proxy ends the sessions the old one opened. */
    [Q_PROXY_SET_CODE] =
        {"proxy_set_code",
         "SELECT x.id, CASE WHEN $1::uuid IS NOT NULL AND x.id IS NOT NULL THEN "
         "(SELECT max(revoked_before) FROM portal.revoke_person_sessions('proxy', x.id::text)) END "
         "AS revoked "
         "FROM (SELECT portal.proxy_set_code($1, $2, $3, $4, $5, $6, $7, $8, $9, "
         "$10) AS id) x",
         10},
    /* One statement, so a refused link keeps no proxy (OFFSET 0: the code is written first). */
    [Q_PROXY_CREATE_LINKED] = {"proxy_create_linked",
                               "SELECT x.id AS proxy_id, portal.proxy_grant(x.id, $10::uuid, NULL, "
                               "NULL, $11, $12, $13, $6, $7, $8, $9) AS link_id "
                               "FROM (SELECT portal.proxy_set_code(NULL, $1, $2, $3, $4, $5, $6, "
                               "$7, $8, $9) AS id OFFSET 0) x",
                               13},
    [Q_PROXY_GRANT] = {"proxy_grant",
                       "SELECT portal.proxy_grant($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                       "AS link_id",
                       11},
    [Q_PROXY_RENEW] = {"proxy_renew",
                       "SELECT portal.proxy_renew($1, $2, $3, $4, $5, $6) AS renewed", 6},
    [Q_STAFF_PROXY_LINKS] = {"staff_proxy_links",
                             "SELECT link_id, proxy_id, proxy_name, kind, starts_at, ends_at, "
                             "ended_at, ended_by, active, granted_by, granted_at "
                             "FROM portal.staff_proxy_links($1)",
                             1},
    [Q_PROXY_END] = {"proxy_end", "SELECT portal.proxy_end($1, $2, $3, $4, $5, $6) AS ended", 6},
    /* A proxy who is also a patient (66_same_person.sql). */
    [Q_SAME_PERSON] = {"same_person", "SELECT role, sub FROM portal.same_person($1, $2)", 2},
    [Q_SESSION_SWITCH] = {"session_switch",
                          "SELECT role, sub, language FROM portal.session_switch($1, $2, $3, $4)",
                          4},
    [Q_PROXY_SET_PATIENT] = {"proxy_set_patient",
                             /* before: read in the statement's snapshot, taken before the
                              * function's change */
                             "SELECT (SELECT x.patient_id FROM portal.proxies x WHERE x.id = $1) "
                             "AS before, portal.proxy_set_patient($1, $2, $3, $4, $5, $6, $7, "
                             "$8) AS patient_id",
                             8},
    /* A new proxy who is the patient with MRN $11 (authority $12), in one statement: nothing is
     * kept when the patient is refused. */
    [Q_PROXY_CREATE_SAME_PERSON] = {"proxy_create_same_person",
                                    "SELECT x.id, portal.proxy_set_patient(x.id, NULL, $11, $12, "
                                    "$7, $8, $9, $10) AS patient_id "
                                    "FROM (SELECT portal.proxy_set_code($1, $2, $3, $4, $5, $6, "
                                    "$7, $8, $9, $10) AS id OFFSET 0) x",
                                    12},
    [Q_SET_NOT_FOR_PROXIES] = {"set_not_for_proxies",
                               "SELECT portal.set_not_for_proxies($1, $2, $3, $4, $5) AS flag", 5},
    [Q_PATIENT_ACCESS_LOG] = {"patient_access_log",
                              "SELECT id, at, action, actor_kind, actor, study_id, accession, "
                              "description FROM portal.patient_access_log($1, $2, $3)",
                              3},
    [Q_PROXY_ACCESS_LOG] = {"proxy_access_log",
                            "SELECT id, at, action, actor_kind, actor, study_id, accession, "
                            "description FROM portal.proxy_access_log($1, $2, $3, $4)",
                            4},
};

const char *const ingest_event_param_names[IEP_COUNT] = {
    [IEP_EVENT_ID] = "p_event_id",
    [IEP_PAYLOAD_HASH] = "p_payload_hash",
    [IEP_TYPE] = "p_type",
    [IEP_OCCURRED_AT] = "p_occurred_at",
    [IEP_SCHEDULED_FOR] = "p_scheduled_for",
    [IEP_MRN] = "p_mrn",
    [IEP_PATIENT_NAME] = "p_patient_name",
    [IEP_BIRTH_DATE] = "p_birth_date",
    [IEP_EMAIL] = "p_email",
    [IEP_ACCESSION] = "p_accession",
    [IEP_MODALITY] = "p_modality",
    [IEP_DESCRIPTION] = "p_description",
    [IEP_PRIORITY] = "p_priority",
    [IEP_SITE] = "p_site",
    [IEP_PHYSICIAN_ID] = "p_physician_id",
    [IEP_PHYSICIAN_NAME] = "p_physician_name",
    [IEP_PHYSICIAN_PHONE] = "p_physician_phone",
    [IEP_SCHEDULING_URL] = "p_scheduling_url",
    [IEP_ASSIGNING_AUTHORITY] = "p_assigning_authority",
    [IEP_PATIENT_PHONE] = "p_patient_phone",
    [IEP_PHYSICIAN_AUTHORITY] = "p_physician_authority",
    [IEP_ACTOR_ROLE] = "p_actor_role",
    [IEP_ACTOR_ID] = "p_actor_id",
    [IEP_CLIENT_ADDR] = "p_client_addr",
    [IEP_REQUEST_ID] = "p_request_id",
};

const char *const ingest_report_param_names[IRP_COUNT] = {
    [IRP_EVENT_ID] = "p_event_id",       [IRP_PAYLOAD_HASH] = "p_payload_hash",
    [IRP_ACCESSION] = "p_accession",     [IRP_STATUS] = "p_status",
    [IRP_FINDINGS] = "p_findings",       [IRP_IMPRESSION] = "p_impression",
    [IRP_RADIOLOGIST] = "p_radiologist", [IRP_SIGNED_AT] = "p_signed_at",
    [IRP_ACTOR_ROLE] = "p_actor_role",   [IRP_ACTOR_ID] = "p_actor_id",
    [IRP_CLIENT_ADDR] = "p_client_addr", [IRP_REQUEST_ID] = "p_request_id",
};

const char *const ingest_patient_param_names[IPP_COUNT] = {
    [IPP_EVENT_ID] = "p_event_id",
    [IPP_PAYLOAD_HASH] = "p_payload_hash",
    [IPP_ASSIGNING_AUTHORITY] = "p_assigning_authority",
    [IPP_MRN] = "p_mrn",
    [IPP_PATIENT_NAME] = "p_patient_name",
    [IPP_BIRTH_DATE] = "p_birth_date",
    [IPP_EMAIL] = "p_email",
    [IPP_PATIENT_PHONE] = "p_patient_phone",
    [IPP_ACTOR_ROLE] = "p_actor_role",
    [IPP_ACTOR_ID] = "p_actor_id",
    [IPP_CLIENT_ADDR] = "p_client_addr",
    [IPP_REQUEST_ID] = "p_request_id",
};

const char *const ingest_merge_param_names[IMP_COUNT] = {
    [IMP_EVENT_ID] = "p_event_id",
    [IMP_PAYLOAD_HASH] = "p_payload_hash",
    [IMP_ASSIGNING_AUTHORITY] = "p_assigning_authority",
    [IMP_MRN] = "p_mrn",
    [IMP_MERGED_AUTHORITY] = "p_merged_authority",
    [IMP_MERGED_MRN] = "p_merged_mrn",
    [IMP_ACTOR_ROLE] = "p_actor_role",
    [IMP_ACTOR_ID] = "p_actor_id",
    [IMP_CLIENT_ADDR] = "p_client_addr",
    [IMP_REQUEST_ID] = "p_request_id",
};

const char *const ingest_images_param_names[IIP_COUNT] = {
    [IIP_EVENT_ID] = "p_event_id",       [IIP_PAYLOAD_HASH] = "p_payload_hash",
    [IIP_ACCESSION] = "p_accession",     [IIP_STUDY_INSTANCE_UID] = "p_study_instance_uid",
    [IIP_OCCURRED_AT] = "p_occurred_at", [IIP_ACTOR_ROLE] = "p_actor_role",
    [IIP_ACTOR_ID] = "p_actor_id",       [IIP_CLIENT_ADDR] = "p_client_addr",
    [IIP_REQUEST_ID] = "p_request_id",
};

/* Reads that may go to a standby, which lags the primary by its replay delay. A statement is here
 * only if it writes nothing (a standby refuses writes) and no user sees a write of their own
 * through it:
 *   patient_studies        the list changes only by ingest and release, both made by someone
 *                          else; a patient's own discussion request is not in the list.
 * Kept on the primary on purpose:
 *   physician_discussions  the physician answers these requests and must see the answer at once.
 *   patient_study, physician_study  call portal.patient_report / portal.physician_report, which
 *                          INSERT an audit row for every read of report text (invariant 4);
 *                          patient_study also shows the patient's own discussion request.
 *   release_history        read together with patient_study, from the same snapshot's source.
 *   worklist               release and hold change each row's state; a physician who releases
 *                          must not see the study still waiting.
 *   login_*, ping, and every write. */
const bool query_standby_ok[Q_COUNT] = {
    [Q_PATIENT_STUDIES] = true,
};

/* portald seed-history's generator (server/history.c), run in one transaction by the owner. Its
 * helpers live in pg_temp: they vanish with the session and need no grant. The seed makes the
 * history the same for the same day and seed, so demos and the backtest figures are reproducible.
 * The generator reads portal.seed_days, the number of days; per modality: weekday volume, weekend
 * share, stat and urgent shares, exam minutes, booking lead in days, routine reading backlog and
 * reading minutes. A script is kept in parts only because C limits the length of one string
 * literal. */
const struct query_script_def query_scripts[S_COUNT] = {
    [S_HISTORY_HELPERS] =
        {"history helpers",
         /* --seed N gives another history of the same shape; without it, the one the figures in
          * docs/estimates.md were measured on. */
         {"SELECT setseed(coalesce(nullif(current_setting('portal.seed_random', true), '')::float8 "
          "/ 2147483648, 0.4242));"
          "CREATE FUNCTION pg_temp.z() RETURNS float8 LANGUAGE sql VOLATILE AS "
          "'SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())';"
          /* A log-normal delay: median in minutes, spread sigma. */
          "CREATE FUNCTION pg_temp.ln_delay(median_min float8, sigma float8) RETURNS interval "
          "LANGUAGE sql VOLATILE AS "
          "'SELECT make_interval(secs => 60 * median_min * exp(sigma * pg_temp.z()))';"
          /* The shape of the site (portal.seed_shape, see history.c); 'default' when unset. */
          "CREATE FUNCTION pg_temp.shape() RETURNS text LANGUAGE sql STABLE AS "
          "'SELECT coalesce(nullif(current_setting(''portal.seed_shape'', true), ''''), "
          "''default'')';"
          /* The 'holiday' shape closes the Monday two weeks before this week's. */
          "CREATE FUNCTION pg_temp.holiday(t timestamptz) RETURNS boolean LANGUAGE sql STABLE AS "
          "'SELECT pg_temp.shape() = ''holiday'' AND date_trunc(''day'', t) = "
          "date_trunc(''week'', now()) - interval ''14 days''';"
          "CREATE FUNCTION pg_temp.off_hours(t timestamptz) RETURNS boolean LANGUAGE sql STABLE AS "
          "'SELECT NOT (extract(isodow FROM t) <= 5 AND t::time >= ''08:00'' AND t::time < "
          "''18:00'') OR pg_temp.holiday(t)';"
          /* Whether no radiologist reads this modality at t: 'clock' reads around the clock,
           * 'nights' has a night shift for CT and XR only. */
          "CREATE FUNCTION pg_temp.reading_closed(modality text, t timestamptz) RETURNS boolean "
          "LANGUAGE sql STABLE AS "
          "'SELECT CASE pg_temp.shape() WHEN ''clock'' THEN false "
          "WHEN ''nights'' THEN modality NOT IN (''CT'', ''XR'') AND pg_temp.off_hours(t) "
          "ELSE pg_temp.off_hours(t) END';"
          /* How many times the usual volume (doubling: twice from 45 days ago) and the usual
           * routine queue (backlog: growing to four times over the last 30 days; doubling: half
           * as long again once the volume doubled) a day has. */
          "CREATE FUNCTION pg_temp.volume_factor(t timestamptz) RETURNS float8 LANGUAGE sql STABLE "
          "AS 'SELECT CASE WHEN pg_temp.shape() = ''doubling'' AND t >= now() - interval ''45 "
          "days'' THEN 2.0 ELSE 1.0 END';"
          "CREATE FUNCTION pg_temp.queue_factor(t timestamptz) RETURNS float8 LANGUAGE sql STABLE "
          "AS 'SELECT CASE pg_temp.shape() "
          "WHEN ''backlog'' THEN 1 + 3 * greatest(0, 1 - extract(epoch FROM now() - t) / "
          "(30 * 86400)) "
          "WHEN ''doubling'' THEN CASE WHEN t >= now() - interval ''45 days'' THEN 1.5 ELSE 1 END "
          "ELSE 1 END';"
          /* The first working moment (weekdays 08:00-18:00) at or after t. */
          "CREATE FUNCTION pg_temp.next_work(t timestamptz) RETURNS timestamptz LANGUAGE sql "
          "STABLE AS "
          "'SELECT CASE WHEN NOT pg_temp.off_hours(t) THEN t ELSE (SELECT d + interval ''8 hours'' "
          "FROM generate_series(date_trunc(''day'', t), date_trunc(''day'', t) + interval ''6 "
          "days'', "
          "interval ''1 day'') d WHERE extract(isodow FROM d) <= 5 AND NOT pg_temp.holiday(d) "
          "AND d + interval ''8 hours'' >= "
          "t "
          "ORDER BY d LIMIT 1) END';"
          /* What arrives after hours is worked through from the next working morning, not all
           * at its first second. */
          "CREATE FUNCTION pg_temp.work_through(t timestamptz) RETURNS timestamptz LANGUAGE sql "
          "VOLATILE AS 'SELECT CASE WHEN pg_temp.off_hours(t) THEN pg_temp.next_work(t) + "
          "pg_temp.ln_delay(40, 0.8) ELSE t END';"}},
    [S_HISTORY_GENERATE] =
        {"history generator",
         {"CREATE TEMP TABLE syn ON COMMIT DROP AS "
          "WITH mix (modality, weekday_n, weekend_share, stat, urgent, exam_min, lead_days, "
          "          backlog_min, read_min, descr) AS (VALUES "
          "  ('XR', 45, 0.45, 0.15, 0.15,  8,  1.0,   90,  8, 'XR chest, 2 views'),"
          "  ('CT', 25, 0.50, 0.20, 0.20, 15,  5.0,  150, 20, 'CT abdomen and pelvis with "
          "contrast'),"
          "  ('US', 18, 0.20, 0.10, 0.15, 25,  4.0,   60, 12, 'US abdomen complete'),"
          "  ('MR', 14, 0.10, 0.05, 0.15, 40, 10.0,  300, 30, 'MR brain without contrast'),"
          "  ('MG', 10, 0.00, 0.00, 0.05, 15, 14.0, 1200, 10, 'MG screening mammogram, bilateral'),"
          "  ('NM',  4, 0.00, 0.00, 0.10, 90,  7.0,  240, 25, 'NM bone scan, whole body'),"
          "  ('PET', 3, 0.00, 0.00, 0.10, 60,  7.0,  240, 35, 'PET/CT skull base to mid-thigh')),"
          "days AS (SELECT d FROM generate_series(date_trunc('day', now()) - make_interval(days => "
          "current_setting('portal.seed_days')::int),"
          "                                       date_trunc('day', now()), interval '1 day') d),"
          "o AS (SELECT m.*, days.d, random() AS r_pri, random() AS r_site, random() AS r_walk,"
          "             random() AS r_tail"
          "        FROM mix m CROSS JOIN days"
          "       CROSS JOIN LATERAL generate_series(1, round((CASE WHEN extract(isodow FROM "
          "days.d) <= 5"
          "             THEN m.weekday_n ELSE m.weekday_n * m.weekend_share END)"
          "             * pg_temp.volume_factor(days.d)"
          "             * (0.75 + 0.5 * random()))::int) g),"
          "t1 AS (SELECT o.*,"
          "         CASE WHEN r_pri < stat THEN 'stat' WHEN r_pri < stat + urgent THEN 'urgent'"
          "              ELSE 'routine' END AS priority,"
          "         CASE WHEN r_site < 0.7 THEN 'main' ELSE 'north' END AS site FROM o),"
          "t2 AS (SELECT t1.*, CASE WHEN priority = 'routine'"
          "         THEN pg_temp.next_work(d + interval '8 hours' + random() * interval '10 hours')"
          "         ELSE d + random() * interval '24 hours' END AS ordered_at FROM t1),"
          "t3 AS (SELECT t2.*, CASE WHEN priority = 'routine' AND NOT (modality = 'XR' AND r_walk "
          "< 0.6)"
          "         THEN pg_temp.next_work(ordered_at + pg_temp.ln_delay(180, 0.8)) END AS "
          "scheduled_at"
          "         FROM t2),"
          "t4 AS (SELECT t3.*, CASE WHEN scheduled_at IS NOT NULL THEN pg_temp.next_work("
          "         date_trunc('day', scheduled_at) + make_interval(days => greatest(1, "
          "round(lead_days"
          "         * exp(0.5 * pg_temp.z())))::int) + interval '8 hours' + random() * interval '9 "
          "hours')"
          "         END AS scheduled_for FROM t3),"
          "t5 AS (SELECT t4.*, CASE"
          "         WHEN scheduled_for IS NOT NULL THEN greatest(scheduled_at + interval '10 "
          "minutes',"
          "              scheduled_for - pg_temp.ln_delay(15, 0.5))"
          "         WHEN priority = 'stat' THEN ordered_at + pg_temp.ln_delay(20, 0.6)"
          "         WHEN priority = 'urgent' THEN ordered_at + pg_temp.ln_delay(90, 0.7)"
          "         ELSE pg_temp.next_work(ordered_at + pg_temp.ln_delay(120, 1.2)) END AS "
          "arrived_at"
          "         FROM t4),",
          "t6 AS (SELECT t5.*, arrived_at + pg_temp.ln_delay(CASE priority WHEN 'stat' THEN 8"
          "         WHEN 'urgent' THEN 15 ELSE 20 END, 0.6) AS exam_started_at FROM t5),"
          "t7 AS (SELECT t6.*, exam_started_at + pg_temp.ln_delay(exam_min, 0.3) AS "
          "exam_completed_at"
          "         FROM t6),"
          "t8 AS (SELECT t7.*, exam_completed_at + pg_temp.ln_delay(CASE priority WHEN 'stat' THEN "
          "15"
          "         WHEN 'urgent' THEN 60 ELSE backlog_min * "
          "pg_temp.queue_factor(exam_completed_at) END"
          "         * CASE site WHEN 'north' THEN 1.4 ELSE 1 END, 0.9) AS queued_at FROM t7),"
          /* Stat exams are read around the clock; while reading is closed, urgent ones are read
           * more slowly by whoever is on call (by nobody in the 'weekday' shape), routine ones
           * wait for the next working morning and its backlog. */
          "t9 AS (SELECT t8.*, CASE"
          "         WHEN priority = 'stat' OR NOT pg_temp.reading_closed(modality, queued_at)"
          "              THEN queued_at"
          "         WHEN priority = 'urgent' AND pg_temp.shape() <> 'weekday'"
          "              THEN queued_at + pg_temp.ln_delay(120, 0.8)"
          "         ELSE pg_temp.next_work(queued_at) + pg_temp.ln_delay(90, 0.8) END"
          "         AS read_started_at FROM t8),"
          "t10 AS (SELECT t9.*, read_started_at + pg_temp.ln_delay(read_min, 0.5) AS final_at FROM "
          "t9),"
          /* Physicians review in working hours, some much later (away, waiting for other results).
           */
          "t11 AS (SELECT t10.*, CASE priority"
          "         WHEN 'stat' THEN final_at + pg_temp.ln_delay(60, 1.0)"
          "         WHEN 'urgent' THEN pg_temp.work_through(final_at + pg_temp.ln_delay(180, 1.0))"
          "         ELSE pg_temp.work_through(final_at + pg_temp.ln_delay(1200, 1.2)) END"
          "         + CASE WHEN r_tail < 0.05 THEN random() * interval '10 days' ELSE interval '0' "
          "END"
          "         AS released_at FROM t10)"
          /* History ends now: what lies ahead has not happened yet. */
          "SELECT row_number() OVER (ORDER BY ordered_at) AS n, modality, descr, priority, site,"
          "       ordered_at,"
          "       CASE WHEN scheduled_at <= now() THEN scheduled_at END AS scheduled_at,"
          "       CASE WHEN scheduled_at <= now() THEN scheduled_for END AS scheduled_for,"
          "       CASE WHEN arrived_at <= now() THEN arrived_at END AS arrived_at,"
          "       CASE WHEN exam_started_at <= now() THEN exam_started_at END AS exam_started_at,"
          "       CASE WHEN exam_completed_at <= now() THEN exam_completed_at END AS "
          "exam_completed_at,"
          "       CASE WHEN read_started_at <= now() THEN read_started_at END AS read_started_at,"
          "       CASE WHEN final_at <= now() THEN final_at END AS final_at,"
          "       CASE WHEN released_at <= now() THEN released_at END AS released_at"
          "  FROM t11 WHERE ordered_at <= now()"}},
    [S_HISTORY_INSERT] =
        {"history insert",
         {"INSERT INTO portal.physicians (id, name)"
          "  SELECT 'SYN-NPI-' || lpad(i::text, 2, '0'), 'Dr. Synthetic ' || i"
          "    FROM generate_series(1, 20) i ON CONFLICT (id) DO NOTHING;"
          "INSERT INTO portal.patients (mrn, name, birth_date)"
          "  SELECT 'SYN-' || lpad(n::text, 7, '0'), 'Synthetic Patient ' || n,"
          "         date '1940-01-01' + (random() * 25000)::int FROM syn;"
          "INSERT INTO portal.studies (accession, patient_id, referring_physician_id, modality,"
          "    description, priority, site, ordered_at, scheduled_at, scheduled_for, arrived_at,"
          "    exam_started_at, exam_completed_at, read_started_at, final_at, latest_version,"
          "    reviewable_version, released_version, released_at, created_at)"
          "  SELECT 'SYN-ACC-' || lpad(y.n::text, 7, '0'), p.id,"
          "         'SYN-NPI-' || lpad((y.n % 20 + 1)::text, 2, '0'), y.modality, y.descr, "
          "y.priority,"
          "         y.site, y.ordered_at, y.scheduled_at, y.scheduled_for, y.arrived_at,"
          "         y.exam_started_at, y.exam_completed_at, y.read_started_at, y.final_at,"
          "         CASE WHEN y.final_at IS NOT NULL THEN 1 END,"
          "         CASE WHEN y.final_at IS NOT NULL THEN 1 END,"
          "         CASE WHEN y.released_at IS NOT NULL THEN 1 END, y.released_at, y.ordered_at"
          "    FROM syn y JOIN portal.patients p ON p.mrn = 'SYN-' || lpad(y.n::text, 7, '0');"
          "INSERT INTO portal.report_versions (study_id, version, status, findings, impression,"
          "    radiologist_name, signed_at, event_id)"
          "  SELECT s.id, 1, 'final', 'Synthetic history record; no clinical content.',"
          "         'Synthetic history record.', 'Dr. Synthetic Radiologist', s.final_at,"
          "         'SYN-REP-' || s.accession"
          "    FROM portal.studies s WHERE s.accession LIKE 'SYN-ACC-%' AND s.final_at IS NOT NULL;"
          "INSERT INTO portal.releases (study_id, version, released_at, released_by, "
          "released_by_name,"
          "    how)"
          "  SELECT s.id, 1, s.released_at, s.referring_physician_id, ph.name, 'physician'"
          "    FROM portal.studies s JOIN portal.physicians ph ON ph.id = s.referring_physician_id"
          "   WHERE s.accession LIKE 'SYN-ACC-%' AND s.released_at IS NOT NULL;"
          /* The site entered its closed Monday in its calendar, as a site enters its public
           * holidays ahead: that much the estimates are told. */
          "INSERT INTO portal.site_closed_days (day, note, added_by)"
          "  SELECT (date_trunc('week', now()) - interval '14 days')::date,"
          "         'Synthetic history: the closed Monday of the holiday shape', 'seed-history'"
          "   WHERE pg_temp.shape() = 'holiday' ON CONFLICT (day) DO NOTHING;"}},
};
