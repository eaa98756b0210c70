/* SHA-256 and HMAC-SHA-256 through OpenSSL's EVP interface. */
#include "digest.h"

#include <openssl/evp.h>

static void to_hex(const unsigned char *md, size_t md_len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * md_len] = '\0';
}

int digest_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        return -1;
    to_hex(md, md_len, out);
    return 0;
}

int digest_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, md, sizeof(md),
                   &md_len) ||
        md_len != 32)
        return -1;
    to_hex(md, md_len, out);
    return 0;
}
