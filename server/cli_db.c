/* One connection for a `portald` subcommand, through db.c: the reason on stderr when it fails,
 * since an operator is watching. */
#include "cli_db.h"

#include <stdio.h>

#include "db.h"

/* An operator waits for a command; a database that has not answered by then will not. */
#define CLI_CONNECT_TIMEOUT_S 10

int cli_db_open(const char *conninfo)
{
    db_configure(conninfo, CLI_CONNECT_TIMEOUT_S, DB_UNPREPARED);
    if (db_conn())
        return 0;
    fprintf(stderr, "portald: cannot connect to the database (see the log line above)\n");
    return -1;
}
