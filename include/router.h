/* The route table and its matcher: method, path pattern, handler, role and body limit, as data. */
#ifndef PORTAL_ROUTER_H
#define PORTAL_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct req;

enum role {
    ROLE_NONE = 0, /* no token needed */
    ROLE_PATIENT = 1 << 0,
    ROLE_PHYSICIAN = 1 << 1,
    ROLE_RIS = 1 << 2,
    ROLE_ADMIN = 1 << 3,
    ROLE_STAFF = 1 << 4, /* the front desk; every staff route also admits ROLE_ADMIN */
    ROLE_PROXY = 1 << 5, /* acts for patients through links (sql/definitions/65_proxies.sql) */
};

enum body_kind {
    BODY_NONE,
    BODY_JSON,
    BODY_FORM, /* a small body read up to the limit and never parsed (RFC 8058's one-click POST) */
};

struct route {
    const char *method;
    const char *pattern; /* "/api/v1/patient/studies/{id}"; {id} takes one UUID segment, {fid}
                            one FHIR id segment */
    int (*handler)(struct req *rq);
    unsigned roles; /* bitwise or of enum role; ROLE_NONE: public */
    enum body_kind body;
    size_t body_limit; /* bytes; larger bodies get 413 before they are read */
    const char *name;  /* label for metrics and logs */
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/* Holds a UUID or a FHIR id (up to 64 characters). */
#define ROUTER_MAX_ID 72

/* Finds the route for method and path. On ROUTER_FOUND *out is set and id receives the {id}
 * segment (empty if none). On ROUTER_BAD_METHOD allow receives the comma-separated methods the
 * path does accept. */
enum router_result router_match(const char *method, const char *path, const struct route **out,
                                char id[ROUTER_MAX_ID], char *allow, size_t allow_len);

/* Whether s[0..len) is a UUID in canonical 8-4-4-4-12 hex form. */
bool router_is_uuid(const char *s, size_t len);

/* The table, defined in routes.c; terminated by a row with a NULL method. */
extern const struct route routes[];
size_t routes_count(void);
const char *role_name(enum role r);
enum role role_from_name(const char *name);

#endif
