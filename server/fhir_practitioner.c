/* Practitioner: a referring physician, as the RIS named them. The radiologist is known by name
 * only, so DiagnosticReport names them in a reference's display instead. */
#include "db.h"
#include "fhir_map.h"

json_t *fhir_map_practitioner(const PGresult *res, int row)
{
    json_t *r = fhir_map_start("Practitioner", db_value(res, row, "fhir_id"), res, row);
    if (!r)
        return NULL;
    const char *phone = db_value(res, row, "phone");
    if (json_object_set_new(r, "active", json_true()) < 0 ||
        fhir_map_set(r, "name", json_pack("[{s:s}]", "text", db_value(res, row, "name"))) < 0 ||
        (phone && fhir_map_set(r, "telecom",
                               json_pack("[{s:s, s:s, s:s}]", "system", "phone", "value", phone,
                                         "use", "work")) < 0)) {
        json_decref(r);
        return NULL;
    }
    return r;
}
