/* `portald migrate`: brings a database to the SQL in sql/, in three steps.
 *
 * 1. sql/migrations/NNNN_name.sql (the directory PORTAL_MIGRATIONS_DIR names): tables, indexes,
 *    constraints, sequences and data changes, applied once each, in order, each in its own
 *    transaction with its record in schema_migrations; a file whose checksum differs from the
 *    applied one is refused (add a new migration instead).
 * 2. sql/definitions/NN_name.sql (beside the migrations directory): the functions, triggers and
 *    views, one file per concern, written with CREATE OR REPLACE. A file is applied again when its
 *    checksum differs from the one recorded in schema_definitions, and every file is applied again
 *    after a run that applied a migration (a migration may have dropped a view or trigger to
 *    change a table; the definitions put it back).
 * 3. sql/grants.sql: every privilege of portal_app and PUBLIC. Applied on every run: it revokes
 *    everything and grants the exact list, so it converges whatever was granted before, and
 *    functions a definitions file has just created never keep PostgreSQL's default EXECUTE for
 *    PUBLIC. Steps 2 and 3 are one transaction: a failing file leaves the previous definitions
 *    and privileges in place, and the error names the file.
 *
 * An advisory lock keeps two instances from migrating at once. Its statements are in queries.c and
 * run through db.c like every other command's; the files' text runs as it is (db_exec_file). */
#include "migrate.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_db.h"
#include "db.h"
#include "digest.h"

#define MIGRATION_LOCK_KEY  7277710001LL
#define MAX_SQL_FILES       1000
#define MIGRATION_MAX_BYTES (8 * 1024 * 1024)
#define PATH_MAX_LEN        1024
#define DEFINITIONS_DIR     "definitions"
#define GRANTS_FILE         "grants.sql"

/* The checksums that databases migrated up to commit 801e334 record for 0001-0006, when those
 * files also created the functions, triggers and views (and the grants) that now live in
 * sql/definitions/ and sql/grants.sql. The files were then cut down to their tables, indexes and
 * data, so their checksums changed; what the old versions created beyond that is exactly what
 * the definitions replace (CREATE OR REPLACE) and grants.sql converges. Accepted for these file
 * names only: any other difference is still refused as an edit. 0005 did not change. */
static const struct {
    const char *name;
    const char *checksum;
} pre_definitions_checksums[] = {
    {"0001_domain.sql", "203086d43525f9a6a5f27d6d58569fd99929118f5810d8c5a05c66d890fd8002"},
    {"0002_flows.sql", "45f7ead4b53c326359afd881c5f496c7ea9ba9894f42fa58524de1ebf816bd28"},
    {"0003_estimates.sql", "d183e0488b654f6b82c15b4dbde37aa4db1aad95e7c73106a6c48ad91480c029"},
    {"0004_release_policies.sql",
     "c65e0282543383e957708fd205e1a4090d91483072c63a3a64451803a158c8ce"},
    {"0006_page_versions.sql", "c8eb49903bd6594d25e0130bada66646699c566377af205773423460c2157383"},
};

static bool is_pre_definitions_checksum(const char *name, const char *checksum)
{
    for (size_t i = 0; i < sizeof(pre_definitions_checksums) / sizeof(pre_definitions_checksums[0]);
         i++)
        if (strcmp(pre_definitions_checksums[i].name, name) == 0 &&
            strcmp(pre_definitions_checksums[i].checksum, checksum) == 0)
            return true;
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `digits` digits, an underscore, a name, .sql: NNNN_name.sql (migrations), NN_name.sql
 * (definitions). */
static bool is_numbered_sql(const char *n, size_t digits)
{
    size_t len = strlen(n);
    if (len < digits + 6 || strcmp(n + len - 4, ".sql") != 0 || n[digits] != '_')
        return false;
    for (size_t i = 0; i < digits; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    return true;
}

/* The sorted names of dir's NNNN_name.sql files (digits long), each malloc'ed; -1 when dir cannot
 * be read. */
static int list_sql(const char *dir, size_t digits, char **names, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && *n < MAX_SQL_FILES)
        if (is_numbered_sql(e->d_name, digits))
            names[(*n)++] = strdup(e->d_name);
    closedir(d);
    qsort(names, *n, sizeof(names[0]), by_name);
    return 0;
}

/* The directory that holds dir: "sql" for "sql/migrations" (and "sql/migrations/"), "." for
 * "migrations". */
static void parent_of(const char *dir, char *out, size_t outlen)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    while (len > 0 && dir[len - 1] != '/')
        len--;
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len == 0)
        snprintf(out, outlen, ".");
    else
        snprintf(out, outlen, "%.*s", (int)len, dir);
}

/* dir/name into out; false when it does not fit. */
static bool join_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int r = snprintf(out, outlen, "%s/%s", dir, name);
    if (r < 0 || (size_t)r >= outlen) {
        fprintf(stderr, "migrate: path too long: %s/%s\n", dir, name);
        return false;
    }
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

/* The file's text and its SHA-256; NULL having said why on stderr. */
static char *read_sql(const char *path, char sum[DIGEST_HEX_LEN + 1])
{
    size_t len = 0;
    char *sql = read_file(path, &len);
    if (!sql) {
        fprintf(stderr, "migrate: cannot read %s\n", path);
        return NULL;
    }
    if (digest_sha256_hex(sql, len, sum) < 0) {
        free(sql);
        fprintf(stderr, "migrate: cannot checksum %s\n", path);
        return NULL;
    }
    return sql;
}

/* Runs the text of a file; one of comments only is fine. On failure prints the first line of the
 * server's message (schema errors name objects, never row values). */
static bool file_ok(const char *sql, const char *what)
{
    struct outcome o = {0};
    if (db_exec_file(sql, &o) == 0)
        return true;
    fprintf(stderr, "migrate: %s failed: %s\n", what, o.detail);
    return false;
}

/* Runs one of migrate's statements (server/queries.c). */
static bool step_ok(enum query q, int n, const char *const *params, const char *what)
{
    struct outcome o = {0};
    if (db_exec_command(q, n, params, &o, "migrate") == 0)
        return true;
    fprintf(stderr, "migrate: %s failed: %s\n", what, o.sqlstate[0] ? o.sqlstate : o.detail);
    return false;
}

/* The checksum recorded for key by q (schema_migrations by version, schema_definitions by name):
 * 1 with it copied to out, 0 when none is recorded, -1 on error. */
static int recorded_checksum(enum query q, const char *key, char out[DIGEST_HEX_LEN + 1])
{
    const char *params[1] = {key};
    PGresult *r;
    struct outcome o = {0};
    if (db_exec(q, 1, params, &r, &o, "migrate"))
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(out, DIGEST_HEX_LEN + 1, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

/* Applies one migration unless it is recorded: 1 applied, 0 already applied, -1 failed. */
static int apply_migration(const char *dir, const char *name)
{
    char path[PATH_MAX_LEN];
    if (!join_path(path, sizeof(path), dir, name))
        return -1;
    char sum[DIGEST_HEX_LEN + 1];
    char *sql = read_sql(path, sum);
    if (!sql)
        return -1;
    char version[5];
    memcpy(version, name, 4);
    version[4] = '\0';

    char applied[DIGEST_HEX_LEN + 1];
    int rec = recorded_checksum(Q_MIGRATION_CHECKSUM, version, applied);
    if (rec < 0) {
        free(sql);
        fprintf(stderr, "migrate: cannot read schema_migrations\n");
        return -1;
    }
    if (rec == 1) {
        free(sql);
        if (strcmp(applied, sum) != 0 && !is_pre_definitions_checksum(name, applied)) {
            fprintf(stderr,
                    "migrate: %s was edited after it was applied (checksum differs); "
                    "undo the edit and add a new migration instead\n",
                    name);
            return -1;
        }
        return 0;
    }

    const char *ins[3] = {version, name, sum};
    bool ok = step_ok(Q_BEGIN, 0, NULL, "BEGIN") && file_ok(sql, name) &&
              step_ok(Q_MIGRATION_RECORD, 3, ins, "recording it") &&
              step_ok(Q_COMMIT, 0, NULL, "COMMIT");
    free(sql);
    if (!ok) {
        db_work_done(); /* a failed rollback leaves nothing: the session is gone */
        return -1;
    }
    printf("migrate: applied %s\n", name);
    return 1;
}

/* Inside the definitions transaction: applies one definitions file when forced or when its
 * checksum differs from the recorded one. 1 applied, 0 up to date, -1 failed. */
static int apply_definition(const char *dir, const char *name, bool force)
{
    char path[PATH_MAX_LEN], what[PATH_MAX_LEN];
    if (!join_path(path, sizeof(path), dir, name) ||
        !join_path(what, sizeof(what), DEFINITIONS_DIR, name))
        return -1;
    char sum[DIGEST_HEX_LEN + 1];
    char *sql = read_sql(path, sum);
    if (!sql)
        return -1;
    char applied[DIGEST_HEX_LEN + 1];
    int rec = recorded_checksum(Q_DEFINITION_CHECKSUM, name, applied);
    if (rec < 0) {
        free(sql);
        fprintf(stderr, "migrate: cannot read schema_definitions\n");
        return -1;
    }
    if (rec == 1 && !force && strcmp(applied, sum) == 0) {
        free(sql);
        return 0;
    }
    const char *ins[2] = {name, sum};
    bool ok = file_ok(sql, what) && step_ok(Q_DEFINITION_RECORD, 2, ins, "recording it");
    free(sql);
    if (!ok) {
        fprintf(stderr, "migrate: %s was not applied\n", what);
        return -1;
    }
    printf("migrate: applied %s\n", what);
    return 1;
}

/* Steps 2 and 3, in one transaction. */
static int apply_definitions_and_grants(const char *sql_dir, bool force)
{
    char dir[PATH_MAX_LEN], grants_path[PATH_MAX_LEN];
    if (!join_path(dir, sizeof(dir), sql_dir, DEFINITIONS_DIR) ||
        !join_path(grants_path, sizeof(grants_path), sql_dir, GRANTS_FILE))
        return -1;
    char *names[MAX_SQL_FILES];
    size_t n = 0;
    if (list_sql(dir, 2, names, &n) < 0) {
        fprintf(stderr, "migrate: cannot open definitions directory %s\n", dir);
        return -1;
    }
    char sum[DIGEST_HEX_LEN + 1];
    char *grants = read_sql(grants_path, sum);
    int rc = -1, applied = 0;
    if (!grants)
        goto done;
    if (!step_ok(Q_DEFINITIONS_TABLE, 0, NULL, "creating schema_definitions") ||
        !step_ok(Q_BEGIN, 0, NULL, "BEGIN"))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strncmp(names[i], names[i - 1], 2) == 0) {
            fprintf(stderr, "migrate: two definitions files share the number %.2s\n", names[i]);
            goto rollback;
        }
        int r = apply_definition(dir, names[i], force);
        if (r < 0)
            goto rollback;
        applied += r;
    }
    if (!file_ok(grants, GRANTS_FILE) || !step_ok(Q_COMMIT, 0, NULL, "COMMIT"))
        goto rollback;
    printf("migrate: definitions %d applied, %zu up to date; privileges set from " GRANTS_FILE "\n",
           applied, n - (size_t)applied);
    rc = 0;
    goto done;
rollback:
    db_work_done(); /* a failed rollback leaves nothing: the session is gone */
    fprintf(stderr, "migrate: definitions and privileges left as they were\n");
done:
    free(grants);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}

int migrate_run(const char *conninfo, const char *dir)
{
    char *names[MAX_SQL_FILES];
    size_t n = 0;
    if (list_sql(dir, 4, names, &n) < 0) {
        fprintf(stderr, "migrate: cannot open migrations directory %s\n", dir);
        return -1;
    }
    char sql_dir[PATH_MAX_LEN];
    parent_of(dir, sql_dir, sizeof(sql_dir));

    int rc = -1;
    bool connected = cli_db_open(conninfo) == 0;
    char lock_key[24];
    snprintf(lock_key, sizeof(lock_key), "%lld", MIGRATION_LOCK_KEY);
    const char *lock[1] = {lock_key};
    if (!connected || !step_ok(Q_MIGRATE_QUIET, 0, NULL, "settings") ||
        !step_ok(Q_MIGRATE_LOCK, 1, lock, "taking the migration lock") ||
        !step_ok(Q_MIGRATIONS_TABLE, 0, NULL, "creating schema_migrations"))
        goto done;
    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strncmp(names[i], names[i - 1], 4) == 0) {
            fprintf(stderr, "migrate: two migrations share the number %.4s\n", names[i]);
            goto done;
        }
        int r = apply_migration(dir, names[i]);
        if (r < 0)
            goto done;
        applied += r;
    }
    printf("migrate: %d applied, %zu up to date\n", applied, n - (size_t)applied);
    if (apply_definitions_and_grants(sql_dir, applied > 0) < 0)
        goto done;
    rc = 0;
done:
    db_close();
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
