/* Patient: the person the portal knows by an MRN of an assigning authority. */
#include "db.h"
#include "fhir_map.h"

static json_t *telecom(const char *email, const char *phone)
{
    json_t *list = json_array();
    if (list && email)
        json_array_append_new(list, json_pack("{s:s, s:s}", "system", "email", "value", email));
    if (list && phone)
        json_array_append_new(list, json_pack("{s:s, s:s}", "system", "phone", "value", phone));
    if (list && json_array_size(list) == 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *fhir_map_patient(const PGresult *res, int row)
{
    json_t *r = fhir_map_start("Patient", db_value(res, row, "id"), res, row);
    if (!r)
        return NULL;
    json_t *identifier =
        fhir_map_typed_identifier("MR", "Medical record number", db_value(res, row, "mrn"));
    /* The assigning authority is a namespace of the RIS, not a URI: it is named, not coded. */
    if (identifier)
        json_object_set_new(
            identifier, "assigner",
            json_pack("{s:s}", "display", db_value(res, row, "assigning_authority")));
    if (fhir_map_set(r, "identifier", identifier ? json_pack("[o]", identifier) : NULL) < 0 ||
        json_object_set_new(r, "active", json_true()) < 0 ||
        fhir_map_set(r, "name", json_pack("[{s:s}]", "text", db_value(res, row, "name"))) < 0 ||
        fhir_map_set(r, "telecom",
                     telecom(db_value(res, row, "email"), db_value(res, row, "phone"))) < 0 ||
        fhir_map_set(r, "birthDate", json_string(db_value(res, row, "birth_date"))) < 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}
