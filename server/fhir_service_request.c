/* ServiceRequest: the imaging order, with the portal's stage of it as an extension (the stage our
 * own page shows the patient, and nothing more). */
#include <string.h>

#include "db.h"
#include "fhir_map.h"

json_t *fhir_map_service_request(const PGresult *res, int row)
{
    const char *id = db_value(res, row, "id");
    json_t *r = fhir_map_start("ServiceRequest", id, res, row);
    if (!r)
        return NULL;
    const char *priority = db_value(res, row, "priority");
    int failed =
        fhir_map_set(r, "extension",
                     json_pack("[{s:s, s:s}]", "url", FHIR_STAGE_EXTENSION, "valueCode",
                               db_value(res, row, "stage"))) < 0 ||
        fhir_map_set(r, "identifier",
                     json_pack("[o]", fhir_map_typed_identifier("ACSN", "Accession ID",
                                                                db_value(res, row, "accession")))) <
            0 ||
        fhir_map_set(r, "status", json_string(db_value(res, row, "fhir_status"))) < 0 ||
        fhir_map_set(r, "intent", json_string("order")) < 0 ||
        fhir_map_set(r, "category",
                     json_pack("[{s:[{s:s, s:s, s:s}]}]", "coding", "system",
                               "http://snomed.info/sct", "code", "363679005", "display",
                               "Imaging")) < 0 ||
        /* The portal's priorities are FHIR's request-priority codes by the same names. */
        (priority && fhir_map_set(r, "priority", json_string(priority)) < 0) ||
        fhir_map_set(r, "code", json_pack("{s:s}", "text", db_value(res, row, "description"))) <
            0 ||
        fhir_map_set(r, "subject",
                     fhir_map_reference("Patient", db_value(res, row, "patient_id"), NULL)) < 0 ||
        fhir_map_instant(r, "occurrenceDateTime", res, row, "scheduled_for") < 0 ||
        fhir_map_instant(r, "authoredOn", res, row, "ordered_at") < 0 ||
        fhir_map_set(r, "requester",
                     fhir_map_reference("Practitioner", db_value(res, row, "physician_fhir_id"),
                                        db_value(res, row, "physician_name"))) < 0;
    if (failed) {
        json_decref(r);
        return NULL;
    }
    return r;
}
