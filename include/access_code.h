/* Patients' access codes: printed once for a patient's first login, stored only as a selector
 * (to find the patient) and an argon2id hash of the secret part. */
#ifndef PORTAL_ACCESS_CODE_H
#define PORTAL_ACCESS_CODE_H

#include <stdbool.h>

#include "secret_hash.h"

#define ACCESS_CODE_LEN     19 /* XXXX-XXXX-XXXX-XXXX */
#define ACCESS_SELECTOR_LEN 8
#define ACCESS_VERIFIER_LEN 8
#define ACCESS_HASH_MAX     SECRET_HASH_MAX

struct access_code {
    char code[ACCESS_CODE_LEN + 1];
    char selector[ACCESS_SELECTOR_LEN + 1];
    char hash[ACCESS_HASH_MAX];
};

/* Makes a new random code and hashes its secret part. Returns 0, or -1 on failure. */
__attribute__((warn_unused_result)) int access_code_new(struct access_code *out);
/* Splits what a patient typed (any case, with or without dashes and spaces, O and I/L read as 0
 * and 1) into selector and verifier. Returns false when it cannot be a code. */
bool access_code_parse(const char *typed, char selector[ACCESS_SELECTOR_LEN + 1],
                       char verifier[ACCESS_VERIFIER_LEN + 1]);
/* Checks verifier against a stored hash; hash NULL spends the same time and returns false, so a
 * wrong selector and a wrong secret cost alike. */
bool access_code_verify(const char *hash, const char *verifier);

#endif
