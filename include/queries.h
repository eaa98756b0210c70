/* Every SQL statement the server runs, named and prepared on each new connection. */
#ifndef PORTAL_QUERIES_H
#define PORTAL_QUERIES_H

#include <stdbool.h>

enum query {
    Q_PING,
    Q_INGEST_EVENT,
    Q_SET_ACCESS_CODE,
    Q_INGEST_REPORT,
    Q_LOGIN_LOOKUP,
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
    Q_WORKLIST,
    Q_PHYSICIAN_STUDY,
    Q_RELEASE,
    Q_HOLD,
    Q_PHYSICIAN_DISCUSSIONS,
    Q_PHYSICIAN_LOGIN_LOOKUP,
    Q_RELEASE_DUE,
    Q_PATIENT_PREFERENCE,
    Q_SET_PATIENT_PREFERENCE,
    Q_SET_STUDY_PREFERENCE,
    Q_ADMIN_HOLDS,
    Q_ESTIMATES_REFRESH,
    Q_OVERDUE_COUNTS,
    Q_COUNT
};

struct query_def {
    const char *name;
    const char *sql;
    int nparams;
};

extern const struct query_def queries[Q_COUNT];

/* True for the statements that may read from a hot standby (PORTAL_DATABASE_READ_URL): pure reads
 * that never show a user a write of their own. Everything else runs on the primary. */
extern const bool query_standby_ok[Q_COUNT];

#endif
