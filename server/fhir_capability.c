/* The CapabilityStatement and SMART discovery (fhir_capability.h). */
#include "fhir_capability.h"

#include <stdio.h>

#include "config.h"
#include "fhir.h"

#define SMART_OAUTH_URIS "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
/* The day the statement last changed; clients compare it, so it moves with what is served. */
#define CAPABILITY_DATE "2026-12-05"

const char *const fhir_scopes_supported[] = {
    "patient/*.read",
    "patient/*.rs",
    "user/*.read",
    "user/*.rs",
    "patient/Patient.read",
    "patient/Patient.rs",
    "patient/Practitioner.read",
    "patient/Practitioner.rs",
    "patient/ServiceRequest.read",
    "patient/ServiceRequest.rs",
    "patient/ImagingStudy.read",
    "patient/ImagingStudy.rs",
    "patient/DiagnosticReport.read",
    "patient/DiagnosticReport.rs",
    NULL,
};

static json_t *search_params(const struct fhir_resource *r)
{
    json_t *list = json_array();
    for (int i = 0; list && i < r->nparams; i++)
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", r->params[i].name,
                                                  "definition", r->params[i].definition, "type",
                                                  r->params[i].type)) < 0) {
            json_decref(list);
            return NULL;
        }
    return list;
}

static json_t *resources(void)
{
    json_t *list = json_array();
    for (int i = 0; list && i < FHIR_TYPE_COUNT; i++) {
        const struct fhir_resource *r = &fhir_resources[i];
        char profile[96];
        snprintf(profile, sizeof(profile), "http://hl7.org/fhir/StructureDefinition/%s", r->name);
        json_t *entry = json_pack(
            "{s:s, s:s, s:[{s:s}, {s:s}], s:s, s:b, s:s, s:o}", "type", r->name, "profile", profile,
            "interaction", "code", "read", "code", "search-type", "versioning", "versioned",
            "readHistory", 0, "conditionalRead", "not-match", "searchParam", search_params(r));
        if (!entry || json_array_append_new(list, entry) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *security(const struct config *cfg)
{
    json_t *sec = json_pack(
        "{s:b, s:[{s:[{s:s, s:s}]}], s:s}", "cors", 0, "service", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "code", "SMART-on-FHIR",
        "description",
        "Bearer tokens (JWT) from the portal's own sign-in or the site's identity provider. A "
        "token with a scope claim reads what its SMART scopes allow; a patient reads their own "
        "record, a physician the patients they referred. Report text appears once the referring "
        "physician (or the site's policy) released it to the patient.");
    if (sec && cfg->smart_authorize_url && cfg->smart_token_url)
        json_object_set_new(sec, "extension",
                            json_pack("[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}]", "url",
                                      SMART_OAUTH_URIS, "extension", "url", "authorize", "valueUri",
                                      cfg->smart_authorize_url, "url", "token", "valueUri",
                                      cfg->smart_token_url));
    return sec;
}

json_t *fhir_capability_statement(const struct config *cfg, const char *base)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s, s:s}, s:s, s:[s], s:[{s:s, s:o*, "
                     "s:o*}]}",
                     "resourceType", "CapabilityStatement", "status", "active", "date",
                     CAPABILITY_DATE, "kind", "instance", "publisher", "Imaging results portal",
                     "software", "name", "portald", "implementation", "description",
                     "Imaging results portal: read-only FHIR R4 API", "url", base, "fhirVersion",
                     FHIR_VERSION, "format", "json", "rest", "mode", "server", "security",
                     security(cfg), "resource", resources());
}

json_t *fhir_smart_configuration(const struct config *cfg)
{
    json_t *scopes = json_array();
    for (int i = 0; scopes && fhir_scopes_supported[i]; i++)
        json_array_append_new(scopes, json_string(fhir_scopes_supported[i]));
    return json_pack(
        "{s:s, s:s, s:[s], s:[s], s:[s], s:o*, s:[s], s:[s, s, s, s, s, s, s, s]}",
        "authorization_endpoint", cfg->smart_authorize_url, "token_endpoint", cfg->smart_token_url,
        "grant_types_supported", "authorization_code", "code_challenge_methods_supported", "S256",
        "token_endpoint_auth_methods_supported", "client_secret_basic", "scopes_supported", scopes,
        "response_types_supported", "code", "capabilities", "launch-standalone", "client-public",
        "client-confidential-symmetric", "context-standalone-patient", "permission-patient",
        "permission-user", "permission-v1", "permission-v2");
}
