/* What every FHIR mapping shares (fhir_map.h): the resource's start, instants, references and
 * typed identifiers. */
#include "fhir_map.h"

#include <stdio.h>

#include "db.h"
#include "timefmt.h"

json_t *fhir_map_start(const char *type, const char *id, const PGresult *res, int row)
{
    json_t *meta = json_object();
    if (!meta || fhir_map_instant(meta, "lastUpdated", res, row, "last_updated") < 0) {
        json_decref(meta);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "resourceType", type, "id", id, "meta", meta);
}

int fhir_map_instant(json_t *obj, const char *key, const PGresult *res, int row, const char *column)
{
    return timefmt_json_set(obj, key, db_value(res, row, column));
}

json_t *fhir_map_reference(const char *type, const char *id, const char *display)
{
    char reference[96];
    snprintf(reference, sizeof(reference), "%s/%s", type, id);
    return json_pack("{s:s, s:s*}", "reference", reference, "display", display);
}

json_t *fhir_map_typed_identifier(const char *type_code, const char *type_display,
                                  const char *value)
{
    return json_pack("{s:{s:[{s:s, s:s, s:s}]}, s:s}", "type", "coding", "system",
                     "http://terminology.hl7.org/CodeSystem/v2-0203", "code", type_code, "display",
                     type_display, "value", value);
}

int fhir_map_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return 0;
    return json_object_set_new(obj, key, value);
}
