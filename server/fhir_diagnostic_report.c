/* DiagnosticReport: one per report version, shaped like US Core's "DiagnosticReport for Report
 * and Note". conclusion and presentedForm come only from the gate's columns (findings,
 * impression), which the query fills for the version the JSON API would show and leaves NULL
 * otherwise; every other element is what the patient already sees once the report is theirs. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fhir.h"
#include "fhir_map.h"

/* The report as one text/plain attachment, findings then impression. */
static json_t *presented_form(const char *findings, const char *impression)
{
    static const char head[] = "FINDINGS\n", middle[] = "\n\nIMPRESSION\n", tail[] = "\n";
    size_t len =
        strlen(head) + strlen(findings) + strlen(middle) + strlen(impression) + strlen(tail);
    char *text = malloc(len + 1);
    char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    json_t *form = NULL;
    if (text && b64) {
        snprintf(text, len + 1, "%s%s%s%s%s", head, findings, middle, impression, tail);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)text, (int)len);
        form = json_pack("[{s:s, s:s, s:s}]", "contentType", "text/plain; charset=utf-8", "data",
                         b64, "title", "Radiology report");
    }
    free(text);
    free(b64);
    return form;
}

static json_t *codings(const struct fhir_coding *list)
{
    json_t *out = json_array();
    for (int i = 0; out && i < FHIR_MAX_CODINGS && list[i].code; i++)
        if (json_array_append_new(out,
                                  json_pack("{s:s, s:s, s:s}", "system", list[i].system, "code",
                                            list[i].code, "display", list[i].display)) < 0) {
            json_decref(out);
            return NULL;
        }
    return out;
}

json_t *fhir_map_diagnostic_report(const PGresult *res, int row)
{
    const struct fhir_resource *type = &fhir_resources[FHIR_DIAGNOSTIC_REPORT];
    const char *study = db_value(res, row, "study_id");
    char id[FHIR_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s-%s", study, db_value(res, row, "version"));
    json_t *r = fhir_map_start("DiagnosticReport", id, res, row);
    if (!r)
        return NULL;
    const char *radiologist = db_value(res, row, "radiologist_name");
    const char *findings = db_value(res, row, "findings");
    const char *impression = db_value(res, row, "impression");
    const char *note = db_value(res, row, "note");
    json_t *code = codings(type->code);
    if (code)
        code = json_pack("{s:o, s:s}", "coding", code, "text", db_value(res, row, "description"));
    json_t *category = codings(type->category);
    int failed =
        fhir_map_set(r, "basedOn",
                     json_pack("[o]", fhir_map_reference("ServiceRequest", study, NULL))) < 0 ||
        fhir_map_set(r, "status", json_string(db_value(res, row, "fhir_status"))) < 0 ||
        fhir_map_set(r, "category", category ? json_pack("[{s:o}]", "coding", category) : NULL) <
            0 ||
        fhir_map_set(r, "code", code) < 0 ||
        fhir_map_set(r, "subject",
                     fhir_map_reference("Patient", db_value(res, row, "patient_id"), NULL)) < 0 ||
        fhir_map_instant(r, "effectiveDateTime", res, row, "effective_at") < 0 ||
        fhir_map_instant(r, "issued", res, row, "signed_at") < 0 ||
        /* The radiologist is known by name only: a reference with a display and no target. */
        fhir_map_set(r, "performer", json_pack("[{s:s}]", "display", radiologist)) < 0 ||
        fhir_map_set(r, "resultsInterpreter", json_pack("[{s:s}]", "display", radiologist)) < 0 ||
        fhir_map_set(r, "imagingStudy",
                     json_pack("[o]", fhir_map_reference("ImagingStudy", study, NULL))) < 0;
    if (!failed && findings && impression)
        failed = fhir_map_set(r, "conclusion", json_string(impression)) < 0 ||
                 fhir_map_set(r, "presentedForm", presented_form(findings, impression)) < 0;
    if (!failed && findings && note)
        failed = fhir_map_set(r, "extension",
                              json_pack("[{s:s, s:{s:s, s:s}}]", "url", FHIR_NOTE_EXTENSION,
                                        "valueAnnotation", "authorString",
                                        db_value(res, row, "physician_name"), "text", note)) < 0;
    if (failed) {
        json_decref(r);
        return NULL;
    }
    return r;
}
