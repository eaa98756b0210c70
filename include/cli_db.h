/* The database of a one-shot `portald` subcommand (seed-demo, access-code, seed-history,
 * backtest, set-password): the same executor and statements as the server (db.h, queries.c),
 * with nothing prepared, since a command runs each statement about once. */
#ifndef PORTAL_CLI_DB_H
#define PORTAL_CLI_DB_H

/* Connects this thread to conninfo, in UTC. Returns 0, or -1 after saying why on stderr (libpq's
 * first line: no password, no data). The command ends with db_close(). */
int cli_db_open(const char *conninfo);

#endif
