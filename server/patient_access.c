/* A patient's new access code, for the front desk (POST /api/v1/staff/patients/{id}/access-code)
 * and the operator (`portald access-code MRN`): one statement replaces the selector and hash,
 * ends the sessions the old code opened and writes the audit row, in one transaction. */
#include "patient_access.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "origin.h"
#include "outcome.h"
#include "revocation.h"

int patient_access_reissue(const struct patient_access_target *t, const struct origin *from,
                           struct access_code *code, char patient_id[PATIENT_ID_LEN + 1],
                           struct outcome *o)
{
    if (access_code_new(code) < 0) {
        o->kind = FAIL_INTERNAL;
        o->status = 500;
        snprintf(o->detail, sizeof(o->detail), "No randomness for a new access code.");
        return 500;
    }
    const char *p[9] = {t->patient_id,   t->patient_id ? NULL : t->mrn,
                        t->authority,    code->selector,
                        code->hash,      from->actor_role,
                        from->actor_id,  from->client_addr,
                        from->request_id};
    PGresult *r;
    int s = db_exec(Q_REISSUE_ACCESS_CODE, 9, p, &r, o, from->request_id);
    if (s)
        return s;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(patient_id, PATIENT_ID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (found)
        revocation_caught_up(ROLE_PATIENT, patient_id, from->request_id);
    if (!found)
        memset(code, 0, sizeof(*code));
    return found ? 0 : 1;
}
