/* Why a call into the core failed, in words any transport can render: the JSON API as
 * problem+json, the HL7 listener as an AE/AR acknowledgement, a CLI command on stderr. The status
 * uses HTTP's numbers because the database's own errors (PTnnn) already do; detail is written for
 * people and never holds report text, a token or an access code. */
#ifndef PORTAL_OUTCOME_H
#define PORTAL_OUTCOME_H

#include <stdbool.h>

/* Field failures kept per call: enough to show a sender every mistake in one message, small
 * enough to live on the stack. */
#define FIELD_ERRORS_MAX 8

struct field_error {
    char field[96]; /* the path, e.g. "patient.mrn" */
    char why[192];  /* e.g. "is required" */
};

struct field_errors {
    int count;   /* kept in list */
    int dropped; /* found beyond FIELD_ERRORS_MAX */
    struct field_error list[FIELD_ERRORS_MAX];
};

/* What kind of failure, for a transport that must choose between "fix the message" and "send it
 * again later" (HL7's AE and AR). */
enum failure_kind {
    FAIL_NONE = 0,
    FAIL_INVALID,     /* fields failed validation (fields holds them) */
    FAIL_REFUSED,     /* the database refused by rule: a PTnnn error, a conflict, a check */
    FAIL_UNAVAILABLE, /* the database cannot answer now; the same call may succeed later */
    FAIL_INTERNAL,    /* a bug or resource exhaustion; logged with the request id */
};

struct outcome {
    enum failure_kind kind;
    int status;       /* 0 while nothing failed */
    char sqlstate[6]; /* the database's SQLSTATE when it said no, else "" */
    char detail[256];
    struct field_errors fields;
};

/* Records a field failure as "prefix.key: why" (prefix "" for a top-level field). */
void field_error_add(struct field_errors *fe, const char *prefix, const char *key, const char *why);

/* Sets o to a failure with status and detail (printf-style), and no SQLSTATE (the database layer
 * sets it after). Every member a reader looks at is then set, fields being read only for
 * FAIL_INVALID, so an outcome need not be cleared before a call that can fail. Returns status. */
__attribute__((format(printf, 4, 5))) int outcome_fail(struct outcome *o, enum failure_kind kind,
                                                       int status, const char *fmt, ...);
/* Turns collected field errors into a 422 outcome whose detail names the first. Returns 422, or
 * 0 when fe holds none. */
int outcome_invalid(struct outcome *o, const struct field_errors *fe);

#endif
