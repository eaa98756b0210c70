/* The database core every transport calls: one connection per thread, statements from queries.c
 * prepared on connect, reconnecting by itself; one executor (db_exec) with the retry and standby
 * rules, answering a status and an outcome instead of knowing who asked. The HTTP adapter is
 * req_db.h; the CLI commands, the estimates task and the release sweep call db_exec directly. */
#ifndef PORTAL_DB_H
#define PORTAL_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "outcome.h"
#include "queries.h"

enum db_mode {
    DB_PREPARED,   /* serving: every statement prepared once per connection */
    DB_UNPREPARED, /* one-shot commands: nothing prepared (the schema may not exist yet, and a
                      command runs each statement once); one session, never silently replaced,
                      since a command may hold session state (migrate's lock) */
};

/* Sets the connection string every thread uses. Call once before any other db_ function. */
void db_configure(const char *conninfo, int connect_timeout_s, enum db_mode mode);
/* The site's time zone (PORTAL_TIME_ZONE) as portal.site_timezone in every session: the zone of
 * the estimates' clocks and closed days. Call before the first connection. */
void db_set_site_time_zone(const char *zone);
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
/* Closes this thread's connection (thread exit, shutdown, the end of a command). */
void db_close(void);

/* Runs statement q with nparams text parameters (which must be the number q declares). Returns 0
 * with *res set (the caller PQclear()s it), or a status with o filled: 503 unreachable, the status
 * of a 'PTnnn' SQLSTATE, 409 unique violation, 422 check violation, else 500. Serialization
 * failures, deadlocks and a connection lost outside a transaction are retried. context names the
 * work in log lines (a request id, "estimates"). */
__attribute__((warn_unused_result)) int db_exec(enum query q, int nparams,
                                                const char *const *params, PGresult **res,
                                                struct outcome *o, const char *context);
/* db_exec for a statement whose rows are not needed (BEGIN, COMMIT, an UPDATE). */
__attribute__((warn_unused_result)) int db_exec_command(enum query q, int nparams,
                                                        const char *const *params,
                                                        struct outcome *o, const char *context);
/* Runs one of the multi-statement scripts in queries.c (a one-shot command's generator). */
__attribute__((warn_unused_result)) int db_exec_script(enum query_script s, struct outcome *o,
                                                       const char *context);

/* Runs the text of one of the owner's SQL files (a migration, a definitions file, grants.sql),
 * which may hold several statements, or none. On failure o->detail is the first line of the
 * server's message (errors in schema changes name objects, and the operator needs them), except
 * for data exceptions and integrity violations, whose messages quote row values: their SQLSTATE
 * and constraint only. COPY is refused. */
__attribute__((warn_unused_result)) int db_exec_file(const char *sql, struct outcome *o);

/* Whether this thread's connection is inside a transaction (a caller's BEGIN). */
bool db_in_transaction(void);

/* Rolls back a transaction the finished work left open; called when every request ends. */
void db_work_done(void);

/* Whether the database answers now (readiness). */
bool db_ping(void);
/* Connections currently open across threads. */
int db_open_connections(void);

/* Maps a SQLSTATE to the status a client gets. */
int db_sqlstate_status(const char *sqlstate);

/* Field value or NULL when SQL NULL. */
const char *db_value(const PGresult *res, int row, const char *column);

#endif
