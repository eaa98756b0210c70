/* The front desk's patients: find one by identifier, or by name and birth date (rate limited per
 * person and audited in the database, sql/definitions/85_staff.sql), and give one a new access code
 * (server/patient_access.c, the core `portald access-code` calls too), answered once for the print
 * page (with the language the patient reads, for the sheet they take home) and never logged. Staff
 * see no report text: nothing here reads a report (docs/staff.md). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "i18n.h"
#include "origin.h"
#include "outcome.h"
#include "patient_access.h"
#include "req_db.h"
#include "timefmt.h"

#define SEARCH_TEXT_MAX 200

static int too_long(struct req *rq, const char *key, const char *value)
{
    if (value && (!value[0] || strlen(value) > SEARCH_TEXT_MAX))
        return req_problem(rq, 422, "%s: must be 1 to %d bytes", key, SEARCH_TEXT_MAX);
    return 0;
}

int h_staff_patients(struct req *rq)
{
    const char *identifier = req_query(rq, "identifier");
    const char *authority = req_query(rq, "assigning_authority");
    const char *name = req_query(rq, "name");
    const char *birth_date = req_query(rq, "birth_date");
    int s;
    if ((s = too_long(rq, "identifier", identifier)) ||
        (s = too_long(rq, "assigning_authority", authority)) || (s = too_long(rq, "name", name)))
        return s;
    if (birth_date && !timefmt_is_date(birth_date))
        return req_problem(rq, 422, "birth_date: must be a date, YYYY-MM-DD");
    if (!identifier && (!name || !birth_date))
        return req_problem(rq, 422, "identifier: give an identifier, or a name and a birth date");
    const char *p[8] = {identifier,
                        authority,
                        identifier ? NULL : name,
                        identifier ? NULL : birth_date,
                        role_name(rq->who.role),
                        rq->who.sub,
                        rq->request_id,
                        rq->client_addr};
    PGresult *res;
    if ((s = req_run(rq, Q_STAFF_FIND_PATIENTS, 8, p, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "patient_id",
                              db_value(res, i, "patient_id"), "assigning_authority",
                              db_value(res, i, "assigning_authority"), "mrn",
                              db_value(res, i, "mrn"), "name", db_value(res, i, "name"),
                              "birth_date", db_value(res, i, "birth_date"), "email",
                              db_value(res, i, "email"), "phone", db_value(res, i, "phone"),
                              "notify_channel", db_value(res, i, "notify_channel"));
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "patients", items) : NULL);
}

const char *staff_sheet_language(const struct req *rq, const char *saved)
{
    return saved ? saved : i18n_code(rq->cfg->default_language);
}

int h_staff_access_code(struct req *rq)
{
    const char *ip[1] = {rq->id};
    PGresult *patient;
    int s;
    if ((s = req_run(rq, Q_STAFF_PATIENT, 1, ip, &patient)))
        return s;
    if (PQntuples(patient) != 1)
        return req_problem(rq, 404, "No such patient.");
    struct patient_access_target t = {.patient_id = rq->id};
    struct origin from = {.transport = "http",
                          .request_id = rq->request_id,
                          .client_addr = rq->client_addr,
                          .actor_role = role_name(rq->who.role),
                          .actor_id = rq->who.sub};
    struct access_code code;
    char patient_id[PATIENT_ID_LEN + 1];
    struct outcome o = {0};
    s = patient_access_reissue(&t, &from, &code, patient_id, &o);
    if (s == 1)
        return req_problem(rq, 404, "No such patient.");
    if (s)
        return req_fail(rq, &o);
    json_t *body = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s?}", "access_code", code.code,
                             "patient", "patient_id", patient_id, "name",
                             db_value(patient, 0, "name"), "mrn", db_value(patient, 0, "mrn"),
                             "assigning_authority", db_value(patient, 0, "assigning_authority"),
                             "language", staff_sheet_language(rq, db_value(patient, 0, "language")),
                             "portal_url", rq->cfg->public_url);
    memset(&code, 0, sizeof(code));
    return req_json(rq, 201, body);
}
