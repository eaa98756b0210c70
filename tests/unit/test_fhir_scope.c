/* SMART scopes: v1 and v2 forms, contexts per role, wildcards, and what grants nothing. */
#include "../../server/fhir_scope.c"

#include "testhelp.h"

static bool can(const char *scopes, enum role role, enum fhir_type type, enum fhir_interaction i)
{
    return fhir_scope_grants(scopes, role) & fhir_grant_bit(type, i);
}

int main(void)
{
    CHECK(can("patient/*.read", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(can("patient/*.read", ROLE_PATIENT, FHIR_PATIENT, FHIR_SEARCH));
    CHECK(can("openid  patient/DiagnosticReport.rs", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT,
              FHIR_SEARCH));
    CHECK(!can("patient/DiagnosticReport.rs", ROLE_PATIENT, FHIR_PATIENT, FHIR_READ));
    CHECK(can("patient/DiagnosticReport.s", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_SEARCH));
    CHECK(!can("patient/DiagnosticReport.s", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(can("patient/DiagnosticReport.cruds", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/DiagnosticReport.sr", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/DiagnosticReport.rr", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/DiagnosticReport.write", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(can("patient/DiagnosticReport.*", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/DiagnosticReport.rs?category=LP29684-5", ROLE_PATIENT,
               FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(can("user/*.rs", ROLE_PATIENT, FHIR_SERVICE_REQUEST, FHIR_READ));
    CHECK(can("user/*.rs", ROLE_PHYSICIAN, FHIR_SERVICE_REQUEST, FHIR_READ));
    CHECK(!can("patient/*.rs", ROLE_PHYSICIAN, FHIR_SERVICE_REQUEST, FHIR_READ));
    CHECK(!can("system/*.rs", ROLE_PATIENT, FHIR_SERVICE_REQUEST, FHIR_READ));
    CHECK(!can("user/*.rs", ROLE_RIS, FHIR_SERVICE_REQUEST, FHIR_READ));
    CHECK(!can("patient/DiagnosticReports.rs", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/Diagnostic.rs", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/.rs", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("patient/*.", ROLE_PATIENT, FHIR_DIAGNOSTIC_REPORT, FHIR_READ));
    CHECK(!can("launch/patient offline_access", ROLE_PATIENT, FHIR_PATIENT, FHIR_READ));
    return testhelp_done();
}
