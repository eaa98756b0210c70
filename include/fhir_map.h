/* One mapping per FHIR resource type, from a row of its Q_FHIR_* search to the resource (jansson).
 * Each reads only the row: what the row holds is what the gate let through, so a mapping cannot
 * show more than the query allowed. Each returns a new reference, or NULL on out of memory; the
 * handler adds meta.versionId. */
#ifndef PORTAL_FHIR_MAP_H
#define PORTAL_FHIR_MAP_H

#include <jansson.h>
#include <libpq-fe.h>

/* The extension that carries the portal's stage of the study on a ServiceRequest, and the one
 * (FHIR R5's DiagnosticReport.note, as a cross-version extension) that carries the referring
 * physician's note to the patient on a DiagnosticReport. */
#define FHIR_STAGE_EXTENSION "urn:imaging-portal:fhir:StructureDefinition:study-stage"
#define FHIR_NOTE_EXTENSION                                                                        \
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.note"

json_t *fhir_map_patient(const PGresult *res, int row);
json_t *fhir_map_practitioner(const PGresult *res, int row);
json_t *fhir_map_service_request(const PGresult *res, int row);
json_t *fhir_map_imaging_study(const PGresult *res, int row);
json_t *fhir_map_diagnostic_report(const PGresult *res, int row);

/* Shared by the mappings (fhir_map_common.c). */

/* {"resourceType": type, "id": id, "meta": {"lastUpdated": row's last_updated}}. */
json_t *fhir_map_start(const char *type, const char *id, const PGresult *res, int row);
/* Sets obj[key] to the row's timestamp column as a FHIR instant; nothing when NULL. */
int fhir_map_instant(json_t *obj, const char *key, const PGresult *res, int row,
                     const char *column);
/* {"reference": "Type/id"} with display when given. */
json_t *fhir_map_reference(const char *type, const char *id, const char *display);
/* An Identifier of v2 table 0203 type code (MR, ACSN) with value. */
json_t *fhir_map_typed_identifier(const char *type_code, const char *type_display,
                                  const char *value);
/* Sets obj[key] to value when value is not NULL; a NULL obj or value is no error. Returns 0 or
 * -1 on out of memory. */
int fhir_map_set(json_t *obj, const char *key, json_t *value);

#endif
