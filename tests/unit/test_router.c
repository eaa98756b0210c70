/* The route table and matcher: every row is well formed, ids match only UUIDs, 404 vs 405. */
#include "../../server/router.c"

#include "testhelp.h"

static void every_row_is_well_formed(void)
{
    size_t n = routes_count();
    CHECK(n > 10);
    for (size_t i = 0; i < n; i++) {
        const struct route *r = &routes[i];
        CHECK(r->method && r->pattern && r->handler && r->name);
        CHECK(r->pattern[0] == '/');
        /* Every API row names the roles allowed; only the four sign-in endpoints, a physician's
         * invitation (its code is its credential), the one-click unsubscribe link (whose key is
         * its credential) and the language a visitor is answered in (which the sign-in pages
         * need) are public. */
        bool sign_in = strcmp(r->pattern, "/api/v1/session") == 0 ||
                       strcmp(r->pattern, "/api/v1/language") == 0 ||
                       strcmp(r->pattern, "/api/v1/physician/session") == 0 ||
                       strcmp(r->pattern, "/api/v1/staff/session") == 0 ||
                       strcmp(r->pattern, "/api/v1/proxy/session") == 0 ||
                       strcmp(r->pattern, "/api/v1/physician/invitation") == 0 ||
                       strcmp(r->pattern, "/api/v1/notifications/unsubscribe/{id}") == 0;
        if (strncmp(r->pattern, "/api/", 5) == 0)
            CHECK(sign_in == (r->roles == ROLE_NONE));
        /* A body is read only where one is expected, and always under a limit. */
        CHECK((r->body == BODY_NONE) == (r->body_limit == 0));
        for (size_t j = 0; j < i; j++)
            CHECK(!(strcmp(routes[j].method, r->method) == 0 &&
                    strcmp(routes[j].pattern, r->pattern) == 0));
    }
}

static void matching(void)
{
    const struct route *r;
    char id[ROUTER_MAX_ID], allow[64];
    CHECK(router_match("GET", "/healthz", &r, id, allow, sizeof(allow)) == ROUTER_FOUND);
    CHECK_STR(r->name, "healthz");
    CHECK(router_match("GET", "/api/v1/patient/studies/123e4567-e89b-12d3-a456-426614174000", &r,
                       id, allow, sizeof(allow)) == ROUTER_FOUND);
    CHECK_STR(id, "123e4567-e89b-12d3-a456-426614174000");
    CHECK(router_match("GET", "/api/v1/patient/studies/123", &r, id, allow, sizeof(allow)) ==
          ROUTER_NOT_FOUND);
    CHECK(router_match("GET", "/api/v1/patient/studies/123e4567-e89b-12d3-a456-42661417400g", &r,
                       id, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
    CHECK(router_match("GET", "/api/v1/patient/studies/", &r, id, allow, sizeof(allow)) ==
          ROUTER_NOT_FOUND);
    CHECK(router_match("PUT", "/api/v1/session", &r, id, allow, sizeof(allow)) ==
          ROUTER_BAD_METHOD);
    CHECK_STR(allow, "POST, DELETE");
    CHECK(router_match("GET", "/healthz/", &r, id, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
    CHECK(router_match("GET", "", &r, id, allow, sizeof(allow)) == ROUTER_NOT_FOUND);
}

static void roles(void)
{
    CHECK(role_from_name("patient") == ROLE_PATIENT);
    CHECK(role_from_name("Patient") == ROLE_NONE);
    CHECK(role_from_name(NULL) == ROLE_NONE);
    CHECK_STR(role_name(ROLE_RIS), "ris");
    CHECK(role_from_name("staff") == ROLE_STAFF);
    CHECK_STR(role_name(ROLE_STAFF), "staff");
}

/* An admin may do everything the front desk may; the front desk reaches no admin path. */
static void staff_and_admin_routes(void)
{
    for (const struct route *r = routes; r->method; r++) {
        if (strncmp(r->pattern, "/api/v1/admin/", 14) == 0)
            CHECK(r->roles == ROLE_ADMIN);
        if (strncmp(r->pattern, "/api/v1/staff/", 14) == 0 &&
            strcmp(r->pattern, "/api/v1/staff/session") != 0)
            CHECK(r->roles == (ROLE_STAFF | ROLE_ADMIN));
    }
}

int main(void)
{
    every_row_is_well_formed();
    matching();
    roles();
    staff_and_admin_routes();
    return testhelp_done();
}
