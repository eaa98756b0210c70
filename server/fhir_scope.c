/* SMART scopes to permissions (fhir_scope.h). */
#include "fhir_scope.h"

#include <string.h>

/* Whether perms (after the dot) grant the interaction: v1 "read" or "*", or a v2 set of the
 * letters c, r, u, d, s in that order, each at most once. */
static bool perms_grant(const char *perms, size_t len, enum fhir_interaction interaction)
{
    if ((len == 4 && memcmp(perms, "read", 4) == 0) || (len == 1 && perms[0] == '*'))
        return true;
    static const char order[] = "cruds";
    size_t at = 0;
    bool has = false;
    char wanted = interaction == FHIR_READ ? 'r' : 's';
    for (size_t i = 0; i < len; i++) {
        const char *p = memchr(order + at, perms[i], sizeof(order) - 1 - at);
        if (!p)
            return false; /* not a v2 permission string */
        at = (size_t)(p - order) + 1;
        has |= perms[i] == wanted;
    }
    return len > 0 && has;
}

static bool scope_grants(const char *scope, size_t len, enum role role, const char *type,
                         enum fhir_interaction interaction)
{
    if (memchr(scope, '?', len))
        return false;
    const char *slash = memchr(scope, '/', len);
    if (!slash)
        return false;
    size_t context_len = (size_t)(slash - scope);
    bool context_ok =
        (context_len == 4 && memcmp(scope, "user", 4) == 0) ||
        (role == ROLE_PATIENT && context_len == 7 && memcmp(scope, "patient", 7) == 0);
    if (!context_ok)
        return false;
    const char *resource = slash + 1;
    const char *end = scope + len;
    const char *dot = memchr(resource, '.', (size_t)(end - resource));
    if (!dot)
        return false;
    size_t resource_len = (size_t)(dot - resource);
    bool resource_ok = (resource_len == 1 && resource[0] == '*') ||
                       (resource_len == strlen(type) && memcmp(resource, type, resource_len) == 0);
    return resource_ok && perms_grant(dot + 1, (size_t)(end - dot - 1), interaction);
}

unsigned fhir_scope_grants(const char *scopes, enum role role)
{
    unsigned grants = 0;
    if (role != ROLE_PATIENT && role != ROLE_PHYSICIAN)
        return 0;
    const char *p = scopes;
    while (*p) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        for (int t = 0; len && t < FHIR_TYPE_COUNT; t++)
            for (int i = FHIR_READ; i <= FHIR_SEARCH; i++)
                if (scope_grants(p, len, role, fhir_resources[t].name, (enum fhir_interaction)i))
                    grants |= fhir_grant_bit((enum fhir_type)t, (enum fhir_interaction)i);
        p += len;
    }
    return grants;
}
