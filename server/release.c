/* Release and hold: the rules on what a physician sends, then the SQL functions that decide and
 * audit (portal.release_report, portal.hold_report). */
#include "release.h"

#include <string.h>

#include "db.h"
#include "fields.h"
#include "queries.h"

/* 45 CFR 171.201 wants a harm hold decided case by case and recorded; the code names which ground
 * the physician relied on, the text says why. */
const char *const hold_reason_codes[] = {"harm_risk", "patient_request", "data_believed_wrong",
                                         "other", NULL};

int release_request_check(const struct release_request *r, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_present(fe, "", "study_id", r->study_id);
    field_present(fe, "", "physician_id", r->physician_id);
    field_max(fe, "", "note", r->note, RELEASE_NOTE_MAX);
    return fe->count + fe->dropped - before;
}

int hold_request_check(const struct hold_request *h, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_present(fe, "", "study_id", h->study_id);
    field_present(fe, "", "physician_id", h->physician_id);
    field_text(fe, "", "reason", h->reason, true, HOLD_REASON_MAX);
    field_one_of(fe, "", "reason_code", h->reason_code, hold_reason_codes, NULL);
    field_timestamp(fe, "", "until", h->until);
    return fe->count + fe->dropped - before;
}

int release_apply(const struct release_request *r, const struct origin *from,
                  struct release_result *result, struct outcome *o)
{
    memset(result, 0, sizeof(*result));
    if (release_request_check(r, &o->fields))
        return outcome_invalid(o, &o->fields);
    const char *p[5] = {r->study_id, r->physician_id, r->note, from->request_id, from->client_addr};
    int s = db_exec(Q_RELEASE, 5, p, &result->row, o, from->request_id);
    if (s)
        return s;
    result->released_at = db_value(result->row, 0, "released_at");
    result->report_version = db_value(result->row, 0, "report_version");
    return 0;
}

int hold_apply(const struct hold_request *h, const struct origin *from, struct hold_result *result,
               struct outcome *o)
{
    memset(result, 0, sizeof(*result));
    if (hold_request_check(h, &o->fields))
        return outcome_invalid(o, &o->fields);
    const char *p[7] = {
        h->study_id, h->physician_id,  h->reason,        h->reason_code ? h->reason_code : "other",
        h->until,    from->request_id, from->client_addr};
    int s = db_exec(Q_HOLD, 7, p, &result->row, o, from->request_id);
    if (s)
        return s;
    result->placed_at = db_value(result->row, 0, "placed_at");
    result->reason = db_value(result->row, 0, "reason");
    result->reason_code = db_value(result->row, 0, "reason_code");
    result->ends_at = db_value(result->row, 0, "ends_at");
    const char *created = db_value(result->row, 0, "created");
    result->created = created && strcmp(created, "t") == 0;
    return 0;
}
