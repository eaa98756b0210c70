/* Parsing a FHIR search's query parameters into what the SQL filters by. Pure (no I/O), so the
 * fuzz harness drives it directly. A malformed value, an unsupported modifier or prefix, and in
 * strict handling an unknown parameter are errors naming the parameter; in lenient handling an
 * unknown parameter is ignored with a warning (FHIR R4 3.1.1.4, Prefer: handling=). */
#ifndef PORTAL_FHIR_SEARCH_H
#define PORTAL_FHIR_SEARCH_H

#include <stdbool.h>

#include "fhir.h"
#include "outcome.h"

#define FHIR_SEARCH_MAX_PARAMS 48
#define FHIR_SEARCH_MAX_IDS    20
#define FHIR_VALUE_MAX         1024
#define FHIR_COUNT_DEFAULT     20
#define FHIR_COUNT_MAX         100
#define FHIR_OFFSET_MAX        100000
#define FHIR_CURSOR_MAX        32

struct fhir_kv {
    const char *key;
    const char *value;
};

/* An instant range from date comparisons, in microseconds since the epoch: lower inclusive,
 * upper exclusive. */
struct fhir_time_range {
    bool has_lower, has_upper;
    long long lower_us, upper_us;
};

struct fhir_search {
    const struct fhir_resource *resource;
    char ids[FHIR_SEARCH_MAX_IDS][FHIR_ID_MAX + 1];
    int nids;
    bool has_ids;
    char patient[FHIR_ID_MAX + 1];
    bool has_patient;
    unsigned statuses; /* bit i: resource->statuses[i] */
    bool has_status;
    struct fhir_time_range date, updated;
    bool matches_nothing; /* a filter no resource of the type can meet */
    int count;
    bool count_clamped;
    long offset;
    bool ascending;
    /* Which of the given parameters shaped the search (kept in the self and next links). */
    bool used[FHIR_SEARCH_MAX_PARAMS];
    struct field_errors errors;   /* each names its parameter; any error answers 400 */
    struct field_errors warnings; /* parameters ignored under lenient handling */
};

/* Parses n parameters for a search of resource. strict: Prefer: handling=strict. Returns 0, or
 * -1 with s->errors set. */
int fhir_search_parse(const struct fhir_resource *resource, const struct fhir_kv *kv, int n,
                      bool strict, struct fhir_search *s);

/* The opaque _page value that resumes a search at offset. out holds FHIR_CURSOR_MAX bytes. */
void fhir_cursor_encode(long offset, char out[FHIR_CURSOR_MAX]);

/* Parses a FHIR date or dateTime search value (no prefix) into the instants it spans. Returns
 * false when value is not one. */
bool fhir_date_span(const char *value, long long *start_us, long long *end_us);

#endif
