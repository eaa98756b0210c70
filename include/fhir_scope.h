/* SMART on FHIR scopes (App Launch 1.0 "patient/DiagnosticReport.read", 2.0
 * "patient/DiagnosticReport.rs"): what a token that carries a scope claim may read. A token
 * without one is the portal's own sign-in and reads whatever its role may. */
#ifndef PORTAL_FHIR_SCOPE_H
#define PORTAL_FHIR_SCOPE_H

#include <stdbool.h>

#include "fhir.h"
#include "router.h"

enum fhir_interaction { FHIR_READ, FHIR_SEARCH };

/* What the space-separated scopes let a token of role do: bit fhir_grant_bit(type, interaction)
 * for each resource type and interaction granted. Patients take patient/ and user/ scopes,
 * physicians user/ scopes; a scope with a query (v2 "?category=...") grants nothing, since this
 * server cannot narrow by it. */
unsigned fhir_scope_grants(const char *scopes, enum role role);

static inline unsigned fhir_grant_bit(enum fhir_type type, enum fhir_interaction interaction)
{
    return 1u << (type * 2 + (interaction == FHIR_SEARCH));
}

#endif
