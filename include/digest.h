/* SHA-256 and HMAC-SHA-256 as lowercase hex, for migration checksums and ingest payload
 * fingerprints. */
#ifndef PORTAL_DIGEST_H
#define PORTAL_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 64

/* Writes 64 hex digits and a NUL into out. Returns 0, or -1 if OpenSSL fails. */
__attribute__((warn_unused_result)) int digest_sha256_hex(const void *data, size_t len,
                                                          char out[DIGEST_HEX_LEN + 1]);

/* HMAC-SHA-256 under key, as 64 hex digits and a NUL. Returns 0, or -1 if OpenSSL fails. */
__attribute__((warn_unused_result)) int digest_hmac_sha256_hex(const void *key, size_t key_len,
                                                               const void *data, size_t len,
                                                               char out[DIGEST_HEX_LEN + 1]);

#endif
