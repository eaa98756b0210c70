/* What an HL7 v2 message asks of the core: the translation of a parsed message (hl7.h) into the
 * same structs the JSON API fills (ingest.h), one to a few calls per message, and where in the
 * message each value came from, so that a failure the core reports against a field ("study.
 * modality") is answered in the ACK against the HL7 field it came from (OBR-24). No database
 * here: hl7_inbound.c applies the calls. docs/hl7.md is the interface specification. */
#ifndef PORTAL_HL7_MAP_H
#define PORTAL_HL7_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "hl7.h"
#include "hl7_ack.h"
#include "ingest.h"

/* The most calls one message makes: an ORU with several OBR groups, an A40 with several merges. */
#define HL7_MAP_MAX_CALLS   8
#define HL7_MAP_MAX_SOURCES 48
/* The longest sending facility and control id taken (HL7 gives them 20 and 199 characters): the
 * event ids made from them must fit INGEST_EVENT_ID_MAX. */
#define HL7_FACILITY_MAX   40
#define HL7_CONTROL_ID_MAX 64
#define HL7_OBX_MAP_MAX    16

enum hl7_call_kind { HL7_CALL_EVENT, HL7_CALL_REPORT, HL7_CALL_PATIENT, HL7_CALL_MERGE };

struct hl7_call {
    enum hl7_call_kind kind;
    /* An event made to create the study a report is for (an ORU before its order): applied only
     * when the accession is not known yet. */
    bool only_for_new_accession;
    union {
        struct ingest_event event;
        struct ingest_report report;
        struct ingest_patient patient;
        struct ingest_merge merge;
    } u;
};

/* Where one of the core's field names was read from, for the ACK's ERR segment. */
struct hl7_source {
    const char *field; /* the core's name, e.g. "study.modality" (a literal) */
    const char *segment;
    int sequence, number;
};

enum hl7_section { HL7_FINDINGS, HL7_IMPRESSION };

/* Which OBX-3 observation identifiers hold which part of a report. */
struct hl7_obx_map {
    int count;
    struct {
        char identifier[32];
        enum hl7_section section;
    } entries[HL7_OBX_MAP_MAX];
};

/* The default: the radiology convention (GDT findings, IMP impression) and the LOINC codes for
 * the same sections (18782-3, 19005-8). */
#define HL7_OBX_MAP_DEFAULT "GDT=findings,IMP=impression,18782-3=findings,19005-8=impression"

/* Parses "ID=findings,ID=impression,..." (identifiers compared without case and without a
 * leading '&'). Returns 0, or -1 with a reason in err. */
int hl7_obx_map_parse(const char *text, struct hl7_obx_map *map, char *err, size_t errlen);

struct hl7_mapped {
    char facility[HL7_FACILITY_MAX + 1];
    char control_id[HL7_CONTROL_ID_MAX + 1];
    char type[8], event[8]; /* MSH-9's message code and trigger event */
    int ncalls;
    struct hl7_call calls[HL7_MAP_MAX_CALLS];
    int nsources;
    struct hl7_source sources[HL7_MAP_MAX_SOURCES];
    char *arena; /* owns every string the calls point to */
    size_t arena_used, arena_cap;
};

/* Translates m. Returns 0 with out filled (hl7_mapped_free it), or the acknowledgement the sender
 * gets instead (HL7_AR for a message type, version or processing id not accepted, or a header that
 * cannot identify the message; HL7_AE for a field missing or unreadable) with err set (its text
 * and segment are literals). */
int hl7_map(const struct hl7_message *m, const struct hl7_obx_map *obx, struct hl7_mapped *out,
            struct hl7_ack_error *err);
void hl7_mapped_free(struct hl7_mapped *out);

/* Points err at where the core's field name (e.g. "patient.birth_date") was read from in the
 * message; false when no value of that name came from the message (it was missing: err then
 * names the segment the value belongs in, when the name says which). */
bool hl7_mapped_locate(const struct hl7_mapped *out, const char *field, struct hl7_ack_error *err);

#endif
