/* ImagingStudy: the images, registered until the PACS (or the RIS) says they were taken, then
 * available, with the StudyInstanceUID once the PACS gave it. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "fhir_map.h"

/* The DICOM modality code (CID 29) for the portal's modality. XR has none of its own (a
 * radiograph is CR or DX, and the RIS does not say which), so it is given as text only. */
static const char *dicom_modality(const char *modality)
{
    static const char *const same[] = {"CT", "MR", "US", "MG", "NM", NULL};
    for (int i = 0; modality && same[i]; i++)
        if (strcmp(modality, same[i]) == 0)
            return same[i];
    if (modality && strcmp(modality, "PET") == 0)
        return "PT";
    return NULL;
}

static json_t *identifiers(const char *uid, const char *accession)
{
    json_t *list = json_array();
    if (list && uid) {
        char urn[96];
        snprintf(urn, sizeof(urn), "urn:oid:%s", uid);
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "system", "urn:dicom:uid", "value", urn));
    }
    if (list)
        json_array_append_new(list, fhir_map_typed_identifier("ACSN", "Accession ID", accession));
    return list;
}

json_t *fhir_map_imaging_study(const PGresult *res, int row)
{
    const char *id = db_value(res, row, "id");
    json_t *r = fhir_map_start("ImagingStudy", id, res, row);
    if (!r)
        return NULL;
    const char *code = dicom_modality(db_value(res, row, "modality"));
    int failed =
        fhir_map_set(r, "identifier",
                     identifiers(db_value(res, row, "study_instance_uid"),
                                 db_value(res, row, "accession"))) < 0 ||
        fhir_map_set(r, "status", json_string(db_value(res, row, "fhir_status"))) < 0 ||
        (code && fhir_map_set(r, "modality",
                              json_pack("[{s:s, s:s}]", "system",
                                        "http://dicom.nema.org/resources/ontology/DCM", "code",
                                        code)) < 0) ||
        fhir_map_set(r, "subject",
                     fhir_map_reference("Patient", db_value(res, row, "patient_id"), NULL)) < 0 ||
        fhir_map_instant(r, "started", res, row, "exam_started_at") < 0 ||
        fhir_map_set(r, "basedOn",
                     json_pack("[o]", fhir_map_reference("ServiceRequest", id, NULL))) < 0 ||
        fhir_map_set(r, "referrer",
                     fhir_map_reference("Practitioner", db_value(res, row, "physician_fhir_id"),
                                        db_value(res, row, "physician_name"))) < 0 ||
        fhir_map_set(r, "description", json_string(db_value(res, row, "description"))) < 0;
    if (failed) {
        json_decref(r);
        return NULL;
    }
    return r;
}
