/* The FHIR R4 read API's description of itself: which resource types it serves, with which
 * search parameters and status codes. One table drives the search parser (fhir_search.c), the
 * handlers (h_fhir.c) and the CapabilityStatement (fhir_capability.c), so the statement lists
 * exactly what is implemented. */
#ifndef PORTAL_FHIR_H
#define PORTAL_FHIR_H

#include <stdbool.h>
#include <stddef.h>

#define FHIR_BASE_PATH    "/fhir/R4"
#define FHIR_CONTENT_TYPE "application/fhir+json; charset=utf-8"
#define FHIR_VERSION      "4.0.1"
#define FHIR_ID_MAX       64

enum fhir_type {
    FHIR_PATIENT,
    FHIR_PRACTITIONER,
    FHIR_SERVICE_REQUEST,
    FHIR_IMAGING_STUDY,
    FHIR_DIAGNOSTIC_REPORT,
    FHIR_TYPE_COUNT
};

/* What a search parameter filters on; the SQL of each resource knows how. */
enum fhir_param_kind {
    FP_ID,           /* _id */
    FP_LAST_UPDATED, /* _lastUpdated */
    FP_PATIENT,      /* patient / subject reference */
    FP_STATUS,       /* the resource's status code */
    FP_DATE,         /* the resource's clinically relevant time */
    FP_CATEGORY,     /* a token every resource of the type carries */
    FP_CODE,         /* likewise */
};

struct fhir_search_param {
    const char *name;
    enum fhir_param_kind kind;
    const char *type;       /* FHIR SearchParamType: token, reference, date */
    const char *definition; /* the canonical SearchParameter it implements */
};

/* A code every resource of a type carries (a category or code): system and code. */
struct fhir_coding {
    const char *system;
    const char *code;
    const char *display;
};

#define FHIR_MAX_PARAMS   8
#define FHIR_MAX_STATUSES 8
#define FHIR_MAX_CODINGS  2

struct fhir_resource {
    enum fhir_type type;
    const char *name; /* "DiagnosticReport" */
    struct fhir_search_param params[FHIR_MAX_PARAMS];
    int nparams;
    /* The status codes this server can give the type, in the order of the bit mask. */
    const char *statuses[FHIR_MAX_STATUSES];
    /* What FP_CATEGORY and FP_CODE match: the codings every resource of the type carries. */
    struct fhir_coding category[FHIR_MAX_CODINGS];
    struct fhir_coding code[FHIR_MAX_CODINGS];
    bool sorts_by_date; /* _sort=date / -date */
};

extern const struct fhir_resource fhir_resources[FHIR_TYPE_COUNT];

/* The resource type named by the path segment seg[0..len), or NULL. */
const struct fhir_resource *fhir_resource_named(const char *seg, size_t len);
/* The index of status in r->statuses, or -1. */
int fhir_status_index(const struct fhir_resource *r, const char *status);
/* Whether s is a FHIR id ([A-Za-z0-9-.]{1,64}). */
bool fhir_id_valid(const char *s, size_t len);

#endif
