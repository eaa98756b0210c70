/* Prints one named statement of server/queries.c ("NPARAMS SQL" on one line), so the pgbench
 * ceiling runs exactly the SQL the server prepares, whoever edits it next. Linked with the
 * server's own queries.o by tests/bench/run.sh. */
#include <stdio.h>
#include <string.h>

#include "queries.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s STATEMENT_NAME\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < Q_COUNT; i++) {
        if (queries[i].name && strcmp(queries[i].name, argv[1]) == 0) {
            printf("%d %s\n", queries[i].nparams, queries[i].sql);
            return 0;
        }
    }
    fprintf(stderr, "%s: no statement named %s\n", argv[0], argv[1]);
    return 1;
}
