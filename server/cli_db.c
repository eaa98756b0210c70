/* One connection for a `portald` subcommand: no retry, since an operator is watching, and the
 * reason on stderr when it fails. Times are read and written in UTC, as the server does. */
#include "cli_db.h"

#include <stdio.h>
#include <string.h>

PGconn *cli_db_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        fprintf(stderr, "portald: cannot connect: %s\n", msg);
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "SET TimeZone = 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        fprintf(stderr, "portald: cannot set the time zone to UTC\n");
        PQfinish(c);
        return NULL;
    }
    return c;
}
