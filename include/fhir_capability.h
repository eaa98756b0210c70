/* What the FHIR API says about itself: the CapabilityStatement at /fhir/R4/metadata, built from
 * the resource table (fhir.h) so it lists exactly what is implemented, and the SMART discovery
 * document that points apps at the site's identity provider. */
#ifndef PORTAL_FHIR_CAPABILITY_H
#define PORTAL_FHIR_CAPABILITY_H

#include <jansson.h>

struct config;

/* base: the FHIR service base URL as the client reached it. New reference, or NULL. */
json_t *fhir_capability_statement(const struct config *cfg, const char *base);
/* The .well-known/smart-configuration document; cfg names both SMART URLs. */
json_t *fhir_smart_configuration(const struct config *cfg);

/* The scopes this server understands, as listed in both documents. */
extern const char *const fhir_scopes_supported[];

#endif
