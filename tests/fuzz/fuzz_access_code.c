/* libFuzzer harness for reading a typed access code (server/access_code.c): any text is refused
 * or split into a selector and a verifier of exactly their lengths in the code's alphabet, and
 * typing it back in canonical form gives the same split. */
#include "../../server/access_code.c"
#include "../../server/secret_hash.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_alphabet(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return false;
    return s[n] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *typed = malloc(size + 1);
    memcpy(typed, data, size);
    typed[size] = '\0';
    char sel[ACCESS_SELECTOR_LEN + 1], ver[ACCESS_VERIFIER_LEN + 1];
    if (access_code_parse(typed, sel, ver)) {
        if (!in_alphabet(sel, ACCESS_SELECTOR_LEN) || !in_alphabet(ver, ACCESS_VERIFIER_LEN))
            __builtin_trap();
        char again[64], sel2[ACCESS_SELECTOR_LEN + 1], ver2[ACCESS_VERIFIER_LEN + 1];
        snprintf(again, sizeof(again), "%.4s-%.4s-%.4s-%.4s", sel, sel + 4, ver, ver + 4);
        if (!access_code_parse(again, sel2, ver2) || strcmp(sel, sel2) || strcmp(ver, ver2))
            __builtin_trap();
    }
    free(typed);
    return 0;
}
