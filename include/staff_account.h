/* Staff accounts for sites without an identity provider: a password (argon2id) and a TOTP second
 * factor, in portal.staff; `portald staff-add` creates one and shows its otpauth:// URI once. */
#ifndef PORTAL_STAFF_ACCOUNT_H
#define PORTAL_STAFF_ACCOUNT_H

#define STAFF_ID_MAX       64
#define STAFF_PASSWORD_MIN 12
#define STAFF_PASSWORD_MAX 256
#define STAFF_TOTP_ISSUER  "Results portal"

/* `portald staff-add ID staff|admin NAME`: the password from the first line of stdin; connects
 * as the owner (PORTAL_MIGRATE_DATABASE_URL), since the server's role may not create accounts. */
int staff_add_cli(const char *conninfo, int argc, char **argv);

#endif
