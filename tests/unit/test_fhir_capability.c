/* The CapabilityStatement lists exactly what the route table serves: every resource type it
 * names has a search and a read route, every /fhir/R4/ route is one of those (or discovery),
 * and each listed search parameter is one the parser applies. */
#include "../../server/fhir_capability.c"

#include "config.h"
#include "fhir_search.h"
#include "handlers.h"
#include "router.h"
#include "testhelp.h"

static const struct route *route_for(const char *pattern)
{
    for (size_t i = 0; i < routes_count(); i++)
        if (strcmp(routes[i].pattern, pattern) == 0 && strcmp(routes[i].method, "GET") == 0)
            return &routes[i];
    return NULL;
}

int main(void)
{
    struct config cfg = {0};
    json_t *cs = fhir_capability_statement(&cfg, "http://localhost/fhir/R4");
    CHECK(cs != NULL);
    json_t *listed = json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "resource");
    CHECK(json_array_size(listed) == FHIR_TYPE_COUNT);
    size_t i;
    json_t *res;
    json_array_foreach(listed, i, res)
    {
        const char *type = json_string_value(json_object_get(res, "type"));
        char search[96], read[96];
        snprintf(search, sizeof(search), "/fhir/R4/%s", type);
        snprintf(read, sizeof(read), "/fhir/R4/%s/{fid}", type);
        const struct route *s = route_for(search), *r = route_for(read);
        CHECK(s && s->handler == h_fhir_search);
        CHECK(r && r->handler == h_fhir_read);
        json_t *interactions = json_object_get(res, "interaction");
        CHECK(json_array_size(interactions) == 2);
        /* Each parameter listed is applied: in strict handling it parses with a valid value. */
        const struct fhir_resource *fr = fhir_resource_named(type, strlen(type));
        CHECK(fr != NULL);
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(res, "searchParam"), j, p)
        {
            const char *name = json_string_value(json_object_get(p, "name"));
            const char *kind = json_string_value(json_object_get(p, "type"));
            const char *value = strcmp(kind, "date") == 0        ? "ge2026-01-01"
                                : strcmp(kind, "reference") == 0 ? "Patient/x"
                                : strcmp(name, "status") == 0    ? fr->statuses[0]
                                                                 : "x";
            struct fhir_kv kv[1] = {{name, value}};
            struct fhir_search parsed;
            CHECK(fhir_search_parse(fr, kv, 1, true, &parsed) == 0 && parsed.used[0]);
        }
    }
    /* Every /fhir/R4/ route is a listed type's search or read, or discovery. */
    for (size_t k = 0; k < routes_count(); k++) {
        const char *pattern = routes[k].pattern;
        if (strncmp(pattern, "/fhir/R4/", 9) != 0)
            continue;
        if (routes[k].handler == h_fhir_metadata || routes[k].handler == h_fhir_smart_configuration)
            continue;
        const char *type = pattern + 9;
        bool found = false;
        json_array_foreach(listed, i, res)
        {
            const char *t = json_string_value(json_object_get(res, "type"));
            size_t len = strlen(t);
            found |= strncmp(type, t, len) == 0 && (type[len] == '\0' || type[len] == '/');
        }
        CHECK(found);
    }
    json_decref(cs);
    return testhelp_done();
}
