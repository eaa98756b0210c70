/* argon2id hashes of the secrets people type: patients' access codes (access_code.c) and
 * physicians' passwords (physician_account.c), at one cost for both. */
#ifndef PORTAL_SECRET_HASH_H
#define PORTAL_SECRET_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_HASH_MAX 128 /* the encoded hash, "$argon2id$v=19$m=...", with its NUL */

/* Hashes the len bytes of secret with a fresh salt into out, encoded. Returns 0, or -1 when the
 * kernel gives no randomness or hashing fails. */
__attribute__((warn_unused_result)) int secret_hash(const char *secret, size_t len,
                                                    char out[SECRET_HASH_MAX]);
/* Checks secret against an encoded hash, in constant time. hash NULL (nobody by that name)
 * verifies against a hash of a random secret instead, so it costs the same, and returns false. */
bool secret_hash_verify(const char *hash, const char *secret, size_t len);

#endif
