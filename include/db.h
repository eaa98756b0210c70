/* Database access: one connection per worker thread, statements prepared on connect, reconnecting
 * by itself; SQLSTATE mapped to HTTP status in one place. */
#ifndef PORTAL_DB_H
#define PORTAL_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "queries.h"

struct req;

/* Sets the connection string every thread uses. Call once before any other db_ function. */
void db_configure(const char *conninfo, int connect_timeout_s);
/* Sends the statements marked in query_standby_ok to this hot standby (PORTAL_DATABASE_READ_URL),
 * falling back to the primary whenever it cannot answer. Call after db_configure, before serving.
 */
void db_configure_standby(const char *conninfo);

/* Calls hook after every new database connection (primary or standby, any thread): whatever the
 * process kept from the database before may have come from another server (a failover, a restore)
 * and must go. Call before serving. */
void db_on_connect(void (*hook)(void));

/* This thread's connection, connected and prepared; NULL while the database is unreachable (a
 * failed attempt is not retried for a short back-off, so an outage costs no time per request). */
PGconn *db_conn(void);
/* Closes this thread's connection (thread exit, shutdown). */
void db_close(void);

/* Runs a prepared query for a request. Returns 0 with *res kept by the request, or an HTTP status
 * with a problem set on rq: 503 unreachable, the status of a 'PTnnn' SQLSTATE, 409 unique
 * violation, 422 check violation, else 500. Serialization failures and deadlocks are retried. */
__attribute__((warn_unused_result)) int db_run(struct req *rq, enum query q, int nparams,
                                               const char *const *params, PGresult **res);
/* Runs a plain command (BEGIN, COMMIT, ROLLBACK) for a request; same return as db_run. */
__attribute__((warn_unused_result)) int db_command(struct req *rq, const char *sql);

/* Rolls back a transaction a request left open; called when every request ends. */
void db_request_done(void);

/* Whether the database answers now (readiness). */
bool db_ping(void);
/* Connections currently open across threads. */
int db_open_connections(void);

/* Maps a SQLSTATE to the HTTP status the client gets. */
int db_sqlstate_status(const char *sqlstate);

/* Field value or NULL when SQL NULL. */
const char *db_value(const PGresult *res, int row, const char *column);

#endif
