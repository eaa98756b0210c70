/* The resource types the FHIR API serves and what each can be searched by (fhir.h). A parameter
 * listed here is parsed, applied in SQL and advertised; one not listed is unknown, and handled by
 * the client's Prefer: handling= choice. */
#include "fhir.h"

#include <string.h>

#define SP(name) "http://hl7.org/fhir/SearchParameter/" name

#define ID_PARAM                                                                                   \
    {                                                                                              \
        "_id", FP_ID, "token", SP("Resource-id")                                                   \
    }
#define LAST_UPDATED_PARAM                                                                         \
    {                                                                                              \
        "_lastUpdated", FP_LAST_UPDATED, "date", SP("Resource-lastUpdated")                        \
    }

#define LOINC "http://loinc.org"

const struct fhir_resource fhir_resources[FHIR_TYPE_COUNT] = {
    [FHIR_PATIENT] =
        {FHIR_PATIENT, "Patient", {ID_PARAM, LAST_UPDATED_PARAM}, 2, {0}, {{0}}, {{0}}, false},
    [FHIR_PRACTITIONER] =
        {FHIR_PRACTITIONER, "Practitioner", {ID_PARAM}, 1, {0}, {{0}}, {{0}}, false},
    [FHIR_SERVICE_REQUEST] = {FHIR_SERVICE_REQUEST,
                              "ServiceRequest",
                              {ID_PARAM,
                               LAST_UPDATED_PARAM,
                               {"patient", FP_PATIENT, "reference", SP("clinical-patient")},
                               {"status", FP_STATUS, "token", SP("ServiceRequest-status")}},
                              4,
                              {"active", "completed", "revoked"},
                              {{0}},
                              {{0}},
                              false},
    [FHIR_IMAGING_STUDY] = {FHIR_IMAGING_STUDY,
                            "ImagingStudy",
                            {ID_PARAM,
                             LAST_UPDATED_PARAM,
                             {"patient", FP_PATIENT, "reference", SP("clinical-patient")},
                             {"status", FP_STATUS, "token", SP("ImagingStudy-status")}},
                            4,
                            {"registered", "available", "cancelled"},
                            {{0}},
                            {{0}},
                            false},
    [FHIR_DIAGNOSTIC_REPORT] =
        {FHIR_DIAGNOSTIC_REPORT,
         "DiagnosticReport",
         {ID_PARAM,
          LAST_UPDATED_PARAM,
          {"patient", FP_PATIENT, "reference", SP("clinical-patient")},
          {"status", FP_STATUS, "token", SP("DiagnosticReport-status")},
          {"date", FP_DATE, "date", SP("clinical-date")},
          {"category", FP_CATEGORY, "token", SP("DiagnosticReport-category")},
          {"code", FP_CODE, "token", SP("clinical-code")}},
         7,
         {"preliminary", "final", "amended", "corrected"},
         /* US Core's "DiagnosticReport for Report and Note": Radiology, and v2's RAD beside it. */
         {{LOINC, "LP29684-5", "Radiology"},
          {"http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology"}},
         {{LOINC, "18748-4", "Diagnostic imaging study"}},
         true},
};

const struct fhir_resource *fhir_resource_named(const char *seg, size_t len)
{
    for (int i = 0; i < FHIR_TYPE_COUNT; i++)
        if (strlen(fhir_resources[i].name) == len && memcmp(fhir_resources[i].name, seg, len) == 0)
            return &fhir_resources[i];
    return NULL;
}

int fhir_status_index(const struct fhir_resource *r, const char *status)
{
    for (int i = 0; i < FHIR_MAX_STATUSES && r->statuses[i]; i++)
        if (strcmp(r->statuses[i], status) == 0)
            return i;
    return -1;
}

bool fhir_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > FHIR_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}
