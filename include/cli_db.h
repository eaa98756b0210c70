/* The database connection of a one-shot `portald` subcommand (seed-demo, access-code,
 * seed-history, backtest, set-password), as opposed to the serving threads' in db.c. */
#ifndef PORTAL_CLI_DB_H
#define PORTAL_CLI_DB_H

#include <libpq-fe.h>

/* Connects once to conninfo, in UTC. Returns the connection (the caller PQfinish()es it), or NULL
 * after saying why on stderr (libpq's first line: no password, no data). */
PGconn *cli_db_connect(const char *conninfo);

#endif
