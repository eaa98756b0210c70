/* All SQL in one place: named statements with explicit columns, prepared on every new connection
 * by db.c. Report text is selected only through portal.patient_report and
 * portal.physician_report, the release gate in sql/definitions/30_gate.sql. What portal_app may
 * run here, and nothing more, is granted in sql/grants.sql. */
#include "queries.h"

/* The turnaround estimates of the milestones still ahead of a study (report_final as ef,
 * available as ea), read by primary key from the table the estimates task keeps fresh
 * (sql/definitions/50_estimates.sql): a request never scans history. */
#define ESTIMATE_COLUMNS(a)                                                                        \
    ", " a ".level AS " a "_level, " a ".week_part AS " a "_week_part, " a ".sample_size AS " a    \
    "_sample_size, " a ".p50_at AS " a "_p50_at, " a ".p90_at AS " a "_p90_at, " a ".enough AS " a \
    "_enough, " a ".elapsed_s AS " a "_elapsed_s, " a ".window_days AS " a "_window_days "
#define ESTIMATE_JOINS                                                                             \
    "LEFT JOIN LATERAL portal.estimate_lookup(s, 'report_final') ef ON true "                      \
    "LEFT JOIN LATERAL portal.estimate_lookup(s, 'available') ea ON true "
/* The patient's release choice as a lateral join, not a scalar call: the planner inlines a
 * set-returning SQL function into the statement, where a scalar call planned its query anew on
 * every execution (85 % of the detail statement's cost, docs/performance.md). */
#define PREFERENCE_JOIN "LEFT JOIN LATERAL portal.study_preference(s) pf ON true "

/* The version stamps of the patient's pages (sql/migrations/0006_page_versions.sql, renewed by the
 * triggers in sql/definitions/90_pages.sql), read in the same snapshot as the page's data, so a
 * kept page is exactly as old as its stamps ($1: the patient). */
#define PAGE_STAMP_COLUMNS                                                                         \
    "coalesce((SELECT pv.version FROM portal.page_versions pv WHERE pv.patient_id = $1), 0) "      \
    "AS patient_version, "                                                                         \
    "(SELECT gv.version FROM portal.page_global_version gv) AS global_version"

/* The study columns every patient view shows; the order is fixed by patient_view.c. */
#define PATIENT_STUDY_COLUMNS                                                                      \
    "s.id, s.accession, s.modality, s.description, s.priority, s.site, s.stage, s.ordered_at, "    \
    "s.scheduled_at, s.scheduled_for, s.arrived_at, s.exam_started_at, s.exam_completed_at, "      \
    "s.read_started_at, s.preliminary_at, s.final_at, s.released_at, s.cancelled_at, "             \
    "s.created_at, s.released_version, "                                                           \
    "(s.reviewable_version > s.released_version) AS newer_version_pending, "                       \
    "EXISTS (SELECT FROM portal.holds h WHERE h.study_id = s.id AND h.ended_at IS NULL "           \
    "AND coalesce(h.ends_at, 'infinity') > now()) AS held, "                                       \
    "pf.preference::text AS release_preference, "                                                  \
    "EXISTS (SELECT FROM portal.releases rr WHERE rr.study_id = s.id AND rr.version = "            \
    "s.released_version AND rr.how = 'policy' AND rr.note IS NULL) AS "                            \
    "released_unreviewed " ESTIMATE_COLUMNS("ef") ESTIMATE_COLUMNS("ea")

const struct query_def queries[Q_COUNT] = {
    [Q_PING] = {"ping", "SELECT 1", 0},

    [Q_INGEST_EVENT] = {"ingest_event",
                        "SELECT portal.ingest_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                        "$12, $13, $14, $15, $16, $17, $18)::text",
                        18},
    [Q_SET_ACCESS_CODE] = {"set_access_code",
                           "UPDATE portal.patients SET access_selector = $2, access_hash = $3, "
                           "updated_at = now() WHERE id = $1",
                           3},
    [Q_INGEST_REPORT] = {"ingest_report",
                         "SELECT portal.ingest_report($1, $2, $3, $4, $5, $6, $7, $8)::text", 8},

    [Q_LOGIN_LOOKUP] = {"login_lookup",
                        "SELECT id, birth_date, access_hash FROM portal.patients "
                        "WHERE access_selector = $1",
                        1},
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
                           "FROM portal.studies s " PREFERENCE_JOIN ESTIMATE_JOINS
                           "WHERE s.patient_id = $1 "
                           "ORDER BY coalesce(s.ordered_at, s.created_at) DESC, s.id LIMIT 500",
                           1},
    [Q_PATIENT_STUDY] =
        {"patient_study",
         "SELECT " PATIENT_STUDY_COLUMNS ", p.name AS physician_name, p.phone AS physician_phone, "
         "p.scheduling_url, d.id AS discussion_id, d.state AS discussion_state, "
         "d.created_at AS discussion_created_at, r.version, r.status, r.findings, r.impression, "
         "r.radiologist, r.signed_at, r.released_at AS report_released_at, r.released_by, "
         "r.physician_note, r.how, " PAGE_STAMP_COLUMNS " "
         "FROM portal.studies s "
         "JOIN portal.physicians p ON p.id = s.referring_physician_id "
         "LEFT JOIN LATERAL (SELECT dr.id, dr.state, dr.created_at FROM portal.discussion_requests "
         "dr WHERE dr.study_id = s.id ORDER BY dr.created_at DESC LIMIT 1) d ON true "
         /* As a join condition the release test ran after the gate function, so every unreleased
          * study paid a PL/pgSQL call that could find nothing; as a one-time filter of a subquery
          * the function runs only for released studies. LIMIT 1 (it returns at most one row)
          * keeps the subquery apart and replaces the planner's guess of 1000 rows for a function,
          * which made it hash the EXISTS subplans above over whole tables. */
         "LEFT JOIN LATERAL (SELECT pr.version, pr.status, pr.findings, pr.impression, "
         "pr.radiologist, pr.signed_at, pr.released_at, pr.released_by, pr.physician_note, pr.how "
         "FROM portal.patient_report($1, s.id, $3, $4) pr "
         "WHERE s.released_version IS NOT NULL LIMIT 1) r ON true " PREFERENCE_JOIN ESTIMATE_JOINS
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
         "rp.due_at AS plan_due_at "
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
    [Q_PHYSICIAN_DISCUSSIONS] = {"physician_discussions",
                                 "SELECT d.id, d.study_id, s.accession, s.modality, s.description, "
                                 "pt.name AS patient_name, pt.email AS patient_email, "
                                 "array_to_json(d.preferred_times)::text AS preferred_times, "
                                 "d.message, d.state, d.created_at "
                                 "FROM portal.discussion_requests d "
                                 "JOIN portal.studies s ON s.id = d.study_id "
                                 "JOIN portal.patients pt ON pt.id = d.patient_id "
                                 "WHERE d.physician_id = $1 ORDER BY d.created_at LIMIT 500",
                                 1},
    [Q_PHYSICIAN_LOGIN_LOOKUP] = {"physician_login_lookup",
                                  "SELECT id, password_hash FROM portal.physicians WHERE id = $1",
                                  1},

    /* Release policies (sql/definitions/40_release.sql, 60_preferences.sql). */
    [Q_RELEASE_DUE] = {"release_due",
                       "SELECT released, holds_expired FROM portal.release_due($1::integer, $2)",
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
};

/* Reads that may go to a standby, which lags the primary by its replay delay. A statement is here
 * only if it writes nothing (a standby refuses writes) and no user sees a write of their own
 * through it:
 *   patient_studies        the list changes only by ingest and release, both made by someone
 *                          else; a patient's own discussion request is not in the list.
 *   physician_discussions  patients write these requests; the physician only reads them.
 * Kept on the primary on purpose:
 *   patient_study, physician_study  call portal.patient_report / portal.physician_report, which
 *                          INSERT an audit row for every read of report text (invariant 4);
 *                          patient_study also shows the patient's own discussion request.
 *   release_history        read together with patient_study, from the same snapshot's source.
 *   worklist               release and hold change each row's state; a physician who releases
 *                          must not see the study still waiting.
 *   login_*, ping, and every write. */
const bool query_standby_ok[Q_COUNT] = {
    [Q_PATIENT_STUDIES] = true,
    [Q_PHYSICIAN_DISCUSSIONS] = true,
};
