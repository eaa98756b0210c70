/* Request ids made here or taken from a trusted sender (nginx's X-Request-Id). */
#include "request_id.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

bool request_id_acceptable(const char *given)
{
    size_t n = given ? strlen(given) : 0;
    bool ok = n > 0 && n <= REQUEST_ID_GIVEN_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        char c = given[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    }
    return ok;
}

void request_id_new(char out[REQUEST_ID_SIZE])
{
    static _Thread_local unsigned long long counter;
    static _Thread_local unsigned int prefix;
    if (!prefix && getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix))
        prefix = (unsigned)getpid();
    snprintf(out, REQUEST_ID_SIZE, "%08x%016llx", prefix, ++counter);
}
