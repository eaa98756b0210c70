/* `portald staff-add`: the first administrator (and any other staff account) for a site without
 * an identity provider. The password is stored as an argon2id hash, the TOTP secret as base32 (the
 * server computes codes from it); the otpauth:// URI is printed once, for the person's
 * authenticator app, and never again. The account's creation is in the audit log. */
#include "staff_account.h"

#include <stdio.h>
#include <string.h>

#include "cli_db.h"
#include "db.h"
#include "physician_account.h"
#include "secret_hash.h"
#include "totp.h"

static int usage(void)
{
    fprintf(stderr, "usage: portald staff-add ID staff|admin NAME  (password on stdin)\n");
    return 2;
}

/* What the table's CHECK allows, told before anything is hashed. */
static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > STAFF_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!plain && (i == 0 || !strchr("._@-", c)))
            return 0;
    }
    return 1;
}

static int store(const char *id, const char *role, const char *name, const char *password,
                 const char *secret)
{
    char hash[SECRET_HASH_MAX];
    if (secret_hash(password, strlen(password), hash) < 0)
        return -1;
    const char *p[5] = {id, name, role, hash, secret};
    PGresult *r;
    struct outcome o = {0};
    int s = db_exec(Q_STAFF_ADD, 5, p, &r, &o, "staff-add");
    memset(hash, 0, sizeof(hash));
    if (s == 0) {
        PQclear(r);
        return 0;
    }
    fprintf(stderr, "portald: %s\n",
            s == 409 ? "a staff account with that id exists already" : o.detail);
    return -1;
}

int staff_add_cli(const char *conninfo, int argc, char **argv)
{
    if (argc != 5)
        return usage();
    const char *id = argv[2], *role = argv[3], *name = argv[4];
    if (!id_ok(id)) {
        fprintf(stderr,
                "portald: ID must be 1 to %d of a-z 0-9 . _ @ - (starting with a letter "
                "or digit)\n",
                STAFF_ID_MAX);
        return 1;
    }
    if (strcmp(role, "staff") != 0 && strcmp(role, "admin") != 0)
        return usage();
    if (!name[0] || strlen(name) > 200) {
        fprintf(stderr, "portald: NAME must be 1 to 200 bytes\n");
        return 1;
    }
    char pw[STAFF_PASSWORD_MAX + 2];
    if (password_read_stdin(pw, sizeof(pw)) < 0 || strlen(pw) < STAFF_PASSWORD_MIN) {
        memset(pw, 0, sizeof(pw));
        fprintf(stderr, "portald: a password of %d to %d characters on stdin is needed\n",
                STAFF_PASSWORD_MIN, STAFF_PASSWORD_MAX);
        return 1;
    }
    char secret[TOTP_SECRET_B32];
    char uri[TOTP_URI_MAX];
    if (totp_secret_new(secret) < 0 || totp_uri(uri, sizeof(uri), STAFF_TOTP_ISSUER, id, secret)) {
        memset(pw, 0, sizeof(pw));
        fprintf(stderr, "portald: no randomness for the second factor\n");
        return 1;
    }
    if (cli_db_open(conninfo) < 0) {
        memset(pw, 0, sizeof(pw));
        return 1;
    }
    int rc = store(id, role, name, pw, secret);
    db_close();
    memset(pw, 0, sizeof(pw));
    if (rc < 0)
        return 1;
    printf("Staff account %s (%s) created.\n", id, role);
    printf("Add it to an authenticator app now (a QR code of this line, or the secret by hand); it "
           "is not shown again:\n%s\nsecret: %s\n",
           uri, secret);
    memset(secret, 0, sizeof(secret));
    return 0;
}
