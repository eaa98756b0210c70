/* Sessions that end: a person's tokens issued before their revocation second are refused, on
 * every instance. The revocations live in portal.session_revocations; each portald keeps them in
 * memory, told of new ones by NOTIFY, so the check on every request is a hash lookup. */
#ifndef PORTAL_REVOCATION_H
#define PORTAL_REVOCATION_H

#include <time.h>

#include "http.h"
#include "outcome.h"

struct config;

enum revocation_verdict { REVOCATION_VALID, REVOCATION_ENDED, REVOCATION_UNKNOWN };

/* Starts the thread that keeps the table in memory (listening on portal_sessions). Until it has
 * loaded the table, and whenever its connection is lost, revocation_check asks the database. */
int revocation_start(const struct config *cfg);
void revocation_stop(void);
/* Whether who's token (its role, sub and iat) still holds. REVOCATION_UNKNOWN when neither the
 * memory nor the database can tell (the database is down). */
enum revocation_verdict revocation_check(const struct principal *who, const char *request_id);
/* Ends every session of (role, sub) issued up to now. Returns 0, or an HTTP status with o set. */
__attribute__((warn_unused_result)) int
revocation_revoke(enum role role, const char *sub, const char *request_id, struct outcome *o);
/* After a statement that ended (role, sub)'s sessions in SQL (portal.revoke_sessions inside a
 * larger write: a new access code, a physician disabled or reset), makes this instance refuse the
 * ended tokens before the answer goes out, as revocation_revoke does; the NOTIFY alone may reach
 * the listener after the client's next request. The same person's other identity (a proxy who is
 * also a patient) is caught up too: the statements that revoke end both. */
void revocation_caught_up(enum role role, const char *sub, const char *request_id);
/* The iat for a token signed now for (role, sub): now, or the revocation second when that is
 * later (a sign-in in the same second as a sign-out). */
time_t revocation_issue_time(enum role role, const char *sub, time_t now);
/* `portald end-sessions ROLE SUB`: an operator ends every session of one person. */
int revocation_end_sessions_cli(const char *conninfo, int argc, char **argv);

#endif
