/* `portald migrate`: applies sql/migrations/NNNN_name.sql in order. Each file runs in its own
 * transaction with its record in schema_migrations; an advisory lock keeps two instances from
 * migrating at once; a file whose checksum differs from the applied one is refused. */
#include "migrate.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define MIGRATION_LOCK_KEY  7277710001LL
#define MAX_MIGRATIONS      1000
#define MIGRATION_MAX_BYTES (8 * 1024 * 1024)

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NNNN_name.sql: four digits, an underscore, a name, .sql. */
static bool is_migration_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 10 || strcmp(n + len - 4, ".sql") != 0 || n[4] != '_')
        return false;
    for (int i = 0; i < 4; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    return true;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(MIGRATION_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MIGRATION_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > MIGRATION_MAX_BYTES) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool exec_ok(PGconn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
        msg[strcspn(msg, "\n")] = '\0';
        fprintf(stderr, "migrate: %s failed: %s\n", what, msg);
    }
    PQclear(r);
    return ok;
}

static int apply_one(PGconn *c, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len = 0;
    char *sql = read_file(path, &len);
    if (!sql) {
        fprintf(stderr, "migrate: cannot read %s\n", path);
        return -1;
    }
    char sum[DIGEST_HEX_LEN + 1];
    if (digest_sha256_hex(sql, len, sum) < 0) {
        free(sql);
        fprintf(stderr, "migrate: cannot checksum %s\n", path);
        return -1;
    }
    char version[5];
    memcpy(version, name, 4);
    version[4] = '\0';

    const char *params[1] = {version};
    PGresult *r = PQexecParams(c, "SELECT checksum, name FROM schema_migrations WHERE version = $1",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        free(sql);
        fprintf(stderr, "migrate: cannot read schema_migrations\n");
        return -1;
    }
    if (PQntuples(r) == 1) {
        bool same = strcmp(PQgetvalue(r, 0, 0), sum) == 0;
        PQclear(r);
        free(sql);
        if (!same) {
            fprintf(stderr,
                    "migrate: %s was edited after it was applied (checksum differs); "
                    "undo the edit and add a new migration instead\n",
                    name);
            return -1;
        }
        return 0;
    }
    PQclear(r);

    bool ok = exec_ok(c, "BEGIN", "BEGIN") && exec_ok(c, sql, name);
    free(sql);
    if (ok) {
        const char *ins[3] = {version, name, sum};
        PGresult *ri = PQexecParams(
            c, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
            NULL, ins, NULL, NULL, 0);
        ok = PQresultStatus(ri) == PGRES_COMMAND_OK;
        PQclear(ri);
        ok = ok && exec_ok(c, "COMMIT", "COMMIT");
    }
    if (!ok) {
        PGresult *rb = PQexec(c, "ROLLBACK");
        PQclear(rb);
        return -1;
    }
    printf("migrate: applied %s\n", name);
    return 1;
}

int migrate_run(const char *conninfo, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "migrate: cannot open migrations directory %s\n", dir);
        return -1;
    }
    char *names[MAX_MIGRATIONS];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_MIGRATIONS)
        if (is_migration_name(e->d_name))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);

    int rc = -1;
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        fprintf(stderr, "migrate: cannot connect: %s\n", msg);
        goto done;
    }
    char lock[96];
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", MIGRATION_LOCK_KEY);
    if (!exec_ok(c, "SET client_min_messages = warning", "settings") ||
        !exec_ok(c, lock, "taking the migration lock") ||
        !exec_ok(c,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                 "name text NOT NULL, checksum text NOT NULL, "
                 "applied_at timestamptz NOT NULL DEFAULT now())",
                 "creating schema_migrations"))
        goto done;
    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strncmp(names[i], names[i - 1], 4) == 0) {
            fprintf(stderr, "migrate: two migrations share the number %.4s\n", names[i]);
            goto done;
        }
        int r = apply_one(c, dir, names[i]);
        if (r < 0)
            goto done;
        applied += r;
    }
    printf("migrate: %d applied, %zu up to date\n", applied, n - (size_t)applied);
    rc = 0;
done:
    PQfinish(c);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
