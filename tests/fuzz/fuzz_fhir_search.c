/* libFuzzer harness for the FHIR search parser (server/fhir_search.c): any bytes, read as a
 * query string (key=value pairs split on '&', the first byte choosing the resource type and the
 * handling), either fail with errors that each name a parameter, or give a search whose every
 * value keeps the promises the SQL relies on: ids that are FHIR ids, a status mask within the
 * type's codes, a page size within the limit, an offset a page could reach, and date bounds
 * that came from real dates. */
#include "../../server/fhir_resources.c"
#include "../../server/fhir_search.c"
#include "../../server/outcome.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    const struct fhir_resource *r = &fhir_resources[data[0] % FHIR_TYPE_COUNT];
    bool strict = data[0] & 0x80;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    struct fhir_kv kv[FHIR_SEARCH_MAX_PARAMS + 1];
    int n = 0;
    for (char *save = NULL, *pair = strtok_r(text, "&", &save);
         pair && n < FHIR_SEARCH_MAX_PARAMS + 1; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        kv[n++] = (struct fhir_kv){pair, eq ? eq + 1 : ""};
    }
    static struct fhir_search s;
    int rc = fhir_search_parse(r, kv, n, strict, &s);
    if (rc < 0) {
        if (s.errors.count == 0 && s.errors.dropped == 0)
            __builtin_trap();
        for (int i = 0; i < s.errors.count; i++)
            if (!s.errors.list[i].field[0])
                __builtin_trap();
    } else {
        if (s.count < 0 || s.count > FHIR_COUNT_MAX || s.offset < 0 || s.offset > FHIR_OFFSET_MAX)
            __builtin_trap();
        if (s.nids < 0 || s.nids > FHIR_SEARCH_MAX_IDS)
            __builtin_trap();
        for (int i = 0; i < s.nids; i++)
            if (!fhir_id_valid(s.ids[i], strlen(s.ids[i])))
                __builtin_trap();
        if (s.has_patient && !fhir_id_valid(s.patient, strlen(s.patient)))
            __builtin_trap();
        unsigned allowed = 0;
        for (int i = 0; i < FHIR_MAX_STATUSES && r->statuses[i]; i++)
            allowed |= 1u << i;
        if (s.statuses & ~allowed)
            __builtin_trap();
        if (strict && s.warnings.count)
            __builtin_trap();
    }
    free(text);
    return 0;
}
