/* Orthanc's REST answers that the PACS follower reads: a page of the change feed (GET
 * /changes?since=&limit=) and a study (GET /studies/{id}), parsed into plain structs with every
 * value checked. No I/O, so unit tests and a libFuzzer harness drive them directly. */
#ifndef PORTAL_ORTHANC_H
#define PORTAL_ORTHANC_H

#include <stdbool.h>
#include <stddef.h>

/* Changes asked for per page (Orthanc answers at most 100). A page with more is refused. */
#define ORTHANC_CHANGES_MAX 100
/* Orthanc's resource ids are 44 characters (a SHA-1 in five groups); they go into a URL path, so
 * only lowercase hex and '-' are accepted. */
#define ORTHANC_ID_MAX 64
/* The longest accession and StudyInstanceUID kept; longer ones are treated as absent (DICOM allows
 * 16 and 64 bytes). */
#define ORTHANC_ACCESSION_MAX 64
#define ORTHANC_UID_MAX       64
/* "2026-11-20T14:05:00Z" and its NUL. */
#define ORTHANC_TIME_SIZE 21

enum orthanc_change_type {
    ORTHANC_CHANGE_OTHER,        /* every change the follower passes over */
    ORTHANC_CHANGE_STABLE_STUDY, /* no new instance of the study for StableAge seconds */
};

struct orthanc_change {
    long long seq;
    enum orthanc_change_type type;
    char id[ORTHANC_ID_MAX + 1];  /* the study's Orthanc id (StableStudy only; else "") */
    char date[ORTHANC_TIME_SIZE]; /* when Orthanc logged it, RFC 3339 UTC; "" if unreadable */
};

struct orthanc_changes {
    int count;
    struct orthanc_change list[ORTHANC_CHANGES_MAX];
    bool done;      /* no more changes after these, for now */
    long long last; /* Orthanc's "Last" */
};

/* The study's main DICOM tags the portal uses. Nothing about the patient is read. */
struct orthanc_study {
    char accession[ORTHANC_ACCESSION_MAX + 1];    /* trimmed; "" when absent or too long */
    char study_instance_uid[ORTHANC_UID_MAX + 1]; /* as given; "" when absent or too long */
    char last_update[ORTHANC_TIME_SIZE];          /* RFC 3339 UTC; "" if unreadable */
};

/* Parses the answer to GET /changes?since=since. Every change's Seq must be above since and above
 * the one before, and a StableStudy's id must look like Orthanc's. Returns 0, or -1 with why in err
 * (no value from the body is quoted). */
__attribute__((warn_unused_result)) int orthanc_parse_changes(const char *body, size_t len,
                                                              long long since,
                                                              struct orthanc_changes *out,
                                                              char *err, size_t errlen);

/* Parses the answer to GET /studies/{id}; its ID must be id. Returns 0, or -1 with why in err. */
__attribute__((warn_unused_result)) int orthanc_parse_study(const char *body, size_t len,
                                                            const char *id,
                                                            struct orthanc_study *out, char *err,
                                                            size_t errlen);

/* Orthanc's "20261120T140500" (UTC: Orthanc writes its change log and LastUpdate in UTC) to
 * "2026-11-20T14:05:00Z". Returns false, with out "", when in is not a real time in that form. */
bool orthanc_time(const char *in, char out[ORTHANC_TIME_SIZE]);

/* Whether id is an Orthanc resource id: 1 to ORTHANC_ID_MAX of [0-9a-f-]. */
bool orthanc_id_valid(const char *id);

#endif
