/* Physician accounts for the web page: a password an operator sets (`portald set-password`),
 * stored only as an argon2id hash in portal.physicians.password_hash. */
#ifndef PORTAL_PHYSICIAN_ACCOUNT_H
#define PORTAL_PHYSICIAN_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#define PHYSICIAN_PASSWORD_MIN  12
#define PHYSICIAN_PASSWORD_MAX  256
#define PHYSICIAN_RANDOM_PW_LEN 20 /* symbols, 5 bits each: 100 bits */

/* A random password of PHYSICIAN_RANDOM_PW_LEN symbols in groups of 5 ("xxxxx-xxxxx-..."). Returns
 * 0, or -1 when the kernel gives no randomness. */
__attribute__((warn_unused_result)) int physician_password_random(char *out, size_t outlen);
/* Stores the hash of password for physician id on this thread's connection (cli_db.h). Returns
 * 0, 1 when there is no such physician, or -1 on a database or hashing failure. */
__attribute__((warn_unused_result)) int physician_password_store(const char *id,
                                                                 const char *password);
/* Reads a password from the first line of stdin (operators pipe it in or type it; no echo
 * handling), prompting on a terminal. Returns 0, or -1 when there is none or it is longer than
 * len - 2 bytes. Also `portald staff-add`'s. */
int password_read_stdin(char *buf, size_t len);
/* `portald set-password PHYSICIAN_ID`: reads the password from the first line of stdin. */
int physician_set_password(const char *conninfo, int argc, char **argv);

#endif
