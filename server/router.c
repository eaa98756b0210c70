/* Route matching over the table in routes.c: exact segments, {id} for one UUID segment and {fid}
 * for one FHIR id segment. */
#include "router.h"

#include <stdbool.h>
#include <string.h>

#include "fhir.h"

static bool path_matches(const char *pattern, const char *path, char id[ROUTER_MAX_ID]);

enum router_result router_match(const char *method, const char *path, const struct route **out,
                                char id[ROUTER_MAX_ID], char *allow, size_t allow_len)
{
    bool path_known = false;
    size_t allow_used = 0;
    if (allow_len)
        allow[0] = '\0';
    id[0] = '\0';
    for (const struct route *r = routes; r->method; r++) {
        char cand[ROUTER_MAX_ID];
        if (!path_matches(r->pattern, path, cand))
            continue;
        if (strcmp(r->method, method) == 0) {
            *out = r;
            memcpy(id, cand, ROUTER_MAX_ID);
            return ROUTER_FOUND;
        }
        path_known = true;
        size_t m = strlen(r->method);
        if (allow_used + m + 3 < allow_len) {
            if (allow_used) {
                memcpy(allow + allow_used, ", ", 2);
                allow_used += 2;
            }
            memcpy(allow + allow_used, r->method, m + 1);
            allow_used += m;
        }
    }
    *out = NULL;
    return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}

static bool path_matches(const char *pattern, const char *path, char id[ROUTER_MAX_ID])
{
    id[0] = '\0';
    while (*pattern && *path) {
        bool uuid = strncmp(pattern, "{id}", 4) == 0;
        if (uuid || strncmp(pattern, "{fid}", 5) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= ROUTER_MAX_ID ||
                !(uuid ? router_is_uuid(path, n) : fhir_id_valid(path, n)))
                return false;
            memcpy(id, path, n);
            id[n] = '\0';
            pattern += uuid ? 4 : 5;
            path += n;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

/* Canonical 8-4-4-4-12 hex form only, so a malformed id is simply an unknown path (404). */
bool router_is_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_PATIENT:
        return "patient";
    case ROLE_PHYSICIAN:
        return "physician";
    case ROLE_RIS:
        return "ris";
    case ROLE_ADMIN:
        return "admin";
    case ROLE_STAFF:
        return "staff";
    case ROLE_PROXY:
        return "proxy";
    case ROLE_NONE:
        break;
    }
    return "anonymous";
}

enum role role_from_name(const char *name)
{
    if (!name)
        return ROLE_NONE;
    if (strcmp(name, "patient") == 0)
        return ROLE_PATIENT;
    if (strcmp(name, "physician") == 0)
        return ROLE_PHYSICIAN;
    if (strcmp(name, "ris") == 0)
        return ROLE_RIS;
    if (strcmp(name, "admin") == 0)
        return ROLE_ADMIN;
    if (strcmp(name, "staff") == 0)
        return ROLE_STAFF;
    if (strcmp(name, "proxy") == 0)
        return ROLE_PROXY;
    return ROLE_NONE;
}
