/* A patient's new access code: the one core the front desk's API (h_staff_patients.c) and the
 * operator's `portald access-code` call. The old code stops working, the sessions it opened end,
 * and the audit log names who asked. */
#ifndef PORTAL_PATIENT_ACCESS_H
#define PORTAL_PATIENT_ACCESS_H

#include "access_code.h"

struct origin;
struct outcome;

/* Whose code: by the portal's patient id, or by MRN within an assigning authority (NULL: the MRN
 * must be used by one patient only). */
struct patient_access_target {
    const char *patient_id;
    const char *mrn;
    const char *authority;
};

#define PATIENT_ID_LEN 36

/* Makes and stores a new code for the target. Returns 0 with code and patient_id filled, 1 when
 * no patient (or more than one) matches, or the status of a failure with o filled. The code is
 * the caller's to show once; it is never logged. */
__attribute__((warn_unused_result)) int
patient_access_reissue(const struct patient_access_target *t, const struct origin *from,
                       struct access_code *code, char patient_id[PATIENT_ID_LEN + 1],
                       struct outcome *o);

#endif
