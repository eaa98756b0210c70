/* Physician passwords: argon2id with the same cost as access codes (secret_hash.c), set by an
 * operator with `portald set-password` or by `portald seed-demo`, checked at sign-in
 * (h_physician_session.c, on the hash pool). Neither the password nor its hash is ever logged. */
#include "physician_account.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli_db.h"
#include "db.h"
#include "secret_hash.h"

/* Crockford's base32 in lower case: no symbol that reads like another. */
static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

int physician_password_random(char *out, size_t outlen)
{
    unsigned char rnd[PHYSICIAN_RANDOM_PW_LEN];
    /* 20 symbols and 3 dashes. */
    if (outlen < PHYSICIAN_RANDOM_PW_LEN + PHYSICIAN_RANDOM_PW_LEN / 5 ||
        getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -1;
    size_t o = 0;
    for (int i = 0; i < PHYSICIAN_RANDOM_PW_LEN; i++) {
        if (i && i % 5 == 0)
            out[o++] = '-';
        out[o++] = alphabet[rnd[i] & 31];
    }
    out[o] = '\0';
    memset(rnd, 0, sizeof(rnd));
    return 0;
}

int physician_password_store(const char *id, const char *password)
{
    char hash[SECRET_HASH_MAX];
    if (secret_hash(password, strlen(password), hash) < 0)
        return -1;
    const char *p[2] = {id, hash};
    PGresult *r;
    struct outcome o = {0};
    int rc = -1;
    if (db_exec(Q_SET_PHYSICIAN_PASSWORD, 2, p, &r, &o, "set-password") == 0) {
        rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : 1;
        PQclear(r);
    }
    memset(hash, 0, sizeof(hash));
    return rc;
}

int password_read_stdin(char *buf, size_t len)
{
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "Password (at least %d characters), then Enter: ", PHYSICIAN_PASSWORD_MIN);
    if (!fgets(buf, (int)len, stdin))
        return -1;
    size_t n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == len - 1)
        return -1; /* longer than the buffer */
    buf[n] = '\0';
    return 0;
}

int physician_set_password(const char *conninfo, int argc, char **argv)
{
    if (argc != 3 || !argv[2][0]) {
        fprintf(stderr, "usage: portald set-password PHYSICIAN_ID  (password on stdin)\n");
        return 2;
    }
    char pw[PHYSICIAN_PASSWORD_MAX + 2];
    if (password_read_stdin(pw, sizeof(pw)) < 0) {
        fprintf(stderr, "portald: no password on stdin, or longer than %d bytes\n",
                PHYSICIAN_PASSWORD_MAX);
        return 1;
    }
    if (strlen(pw) < PHYSICIAN_PASSWORD_MIN) {
        memset(pw, 0, sizeof(pw));
        fprintf(stderr, "portald: the password needs at least %d characters\n",
                PHYSICIAN_PASSWORD_MIN);
        return 1;
    }
    if (cli_db_open(conninfo) < 0) {
        memset(pw, 0, sizeof(pw));
        return 1;
    }
    int rc = physician_password_store(argv[2], pw);
    db_close();
    memset(pw, 0, sizeof(pw));
    if (rc == 1) {
        fprintf(stderr, "portald: no physician with that id (the RIS creates physicians)\n");
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "portald: storing the password failed\n");
        return 1;
    }
    printf("Password set for physician %s.\n", argv[2]);
    return 0;
}
