/* argon2id for access codes and passwords. A missing account costs one verification too, against
 * a dummy hash made once, so the time of an answer does not tell whether the account exists. */
#include "secret_hash.h"

#include <argon2.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

/* OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
#define ARGON2_T_COST     2
#define ARGON2_M_COST_KIB 19456
#define ARGON2_LANES      1
#define ARGON2_SALT_LEN   16
#define ARGON2_HASH_LEN   32
#define DUMMY_SECRET_LEN  16

static char dummy_hash[SECRET_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    char secret[DUMMY_SECRET_LEN];
    /* Left empty on failure: verifying against it then fails at once, and still never matches. */
    if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret) ||
        secret_hash(secret, sizeof(secret), dummy_hash) != 0)
        dummy_hash[0] = '\0';
    memset(secret, 0, sizeof(secret));
}

int secret_hash(const char *secret, size_t len, char out[SECRET_HASH_MAX])
{
    unsigned char salt[ARGON2_SALT_LEN];
    if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
        return -1;
    int rc = argon2id_hash_encoded(ARGON2_T_COST, ARGON2_M_COST_KIB, ARGON2_LANES, secret, len,
                                   salt, sizeof(salt), ARGON2_HASH_LEN, out, SECRET_HASH_MAX);
    return rc == ARGON2_OK ? 0 : -1;
}

bool secret_hash_verify(const char *hash, const char *secret, size_t len)
{
    if (!hash)
        pthread_once(&dummy_once, make_dummy_hash);
    const char *h = hash ? hash : dummy_hash;
    bool ok = *h && argon2id_verify(h, secret, len) == ARGON2_OK;
    return hash != NULL && ok;
}
