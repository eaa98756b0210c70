/* One PostgreSQL connection per worker thread: connected lazily, every statement prepared at
 * connect, dropped and re-made after a failure with a short back-off, so an outage answers 503 at
 * once and recovery needs no restart. */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define RECONNECT_BACKOFF_MS 250
#define MAX_RETRIES          3

static const char *db_conninfo;
static char db_timeout_str[16] = "2";
/* The site's zone for portal.site_timezone; empty keeps the database's own. */
static char site_time_zone[72];
static enum db_mode db_mode = DB_PREPARED;
static atomic_int open_connections;

static _Thread_local PGconn *tl_conn;
static _Thread_local long long tl_last_failure_ms;
/* A command's session: it may hold session state (migrate's advisory lock), so once made it is
 * never silently replaced; a lost one fails the command. */
static _Thread_local bool tl_command_connected;

static pthread_key_t conn_key;
static pthread_once_t conn_key_once = PTHREAD_ONCE_INIT;

/* The hot standby (PORTAL_DATABASE_READ_URL): a second connection per thread, used only for the
 * statements marked in query_standby_ok; any failure there runs the statement on the primary. */
static const char *standby_conninfo;
static _Thread_local PGconn *tl_standby;
static _Thread_local long long tl_standby_failure_ms;
static pthread_key_t standby_key;

static void (*connect_hook)(void);

static PGconn *connect_and_prepare(const char *conninfo, bool standby);
static PGresult *send_query(PGconn *c, enum query q, int nparams, const char *const *params);
static PGresult *run_on_standby(enum query q, int nparams, const char *const *params,
                                const char *context);
static int fail(PGresult *res, const char *what, struct outcome *o, const char *context);

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Closes a worker's connection when its thread exits (libmicrohttpd's pool threads end at
 * shutdown), so no connection outlives its thread. */
static void conn_destructor(void *p)
{
    PQfinish(p);
    atomic_fetch_sub(&open_connections, 1);
}

static void conn_key_create(void)
{
    (void)pthread_key_create(&conn_key, conn_destructor);
    (void)pthread_key_create(&standby_key, conn_destructor);
}

void db_configure(const char *conninfo, int connect_timeout_s, enum db_mode mode)
{
    pthread_once(&conn_key_once, conn_key_create);
    db_conninfo = conninfo;
    db_mode = mode;
    tl_command_connected = false;
    snprintf(db_timeout_str, sizeof(db_timeout_str), "%d", connect_timeout_s);
}

void db_set_site_time_zone(const char *zone)
{
    /* config.c admits only zone names that need no escaping in an options string. */
    if (zone && strlen(zone) < sizeof(site_time_zone))
        snprintf(site_time_zone, sizeof(site_time_zone), "%s", zone);
}

void db_configure_standby(const char *conninfo)
{
    standby_conninfo = conninfo;
}

PGconn *db_conn(void)
{
    if (tl_conn && PQstatus(tl_conn) == CONNECTION_OK)
        return tl_conn;
    if (tl_conn)
        db_close();
    if (db_mode == DB_UNPREPARED && tl_command_connected)
        return NULL;
    if (tl_last_failure_ms && now_ms() - tl_last_failure_ms < RECONNECT_BACKOFF_MS)
        return NULL;
    tl_conn = connect_and_prepare(db_conninfo, false);
    tl_last_failure_ms = tl_conn ? 0 : now_ms();
    tl_command_connected = tl_conn != NULL;
    pthread_setspecific(conn_key, tl_conn);
    return tl_conn;
}

void db_close(void)
{
    if (!tl_conn)
        return;
    PQfinish(tl_conn);
    tl_conn = NULL;
    pthread_setspecific(conn_key, NULL);
    atomic_fetch_sub(&open_connections, 1);
}

int db_open_connections(void)
{
    return atomic_load(&open_connections);
}

static PGconn *connect_and_prepare(const char *conninfo, bool standby)
{
    if (!conninfo)
        return NULL;
    /* The server sets the time zone as a startup option; a command keeps whatever options its
     * connection string gives (an operator's lock_timeout, say) and sets the zone once connected.
     * The server also turns JIT off: its statements are index probes, and where the planner's
     * guess of a cost crossed jit_above_cost, compiling took a second per execution of a statement
     * that runs in milliseconds (the patient list at 1,000,000 studies, docs/performance.md). */
    bool command = db_mode == DB_UNPREPARED;
    char options[128];
    snprintf(options, sizeof(options), "-c TimeZone=UTC -c jit=off%s%s",
             site_time_zone[0] ? " -c portal.site_timezone=" : "", site_time_zone);
    const char *keys[] = {"dbname", "connect_timeout", "application_name",
                          command ? NULL : "options", NULL};
    const char *vals[] = {conninfo, db_timeout_str, standby ? "portald-read" : "portald",
                          command ? NULL : options, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names the host and the reason, never a password. */
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", c ? PQerrorMessage(c) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        log_msg(LOG_WARN, "%s connect failed: %s", standby ? "standby" : "database", msg);
        PQfinish(c);
        return NULL;
    }
    if (command) {
        const char *zone[] = {site_time_zone};
        PGresult *r = send_query(c, Q_SET_SESSION_ZONES, 1, zone);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok) {
            log_msg(LOG_ERROR, "cannot set the session's time zones (UTC, the site's)");
            PQfinish(c);
            return NULL;
        }
    }
    for (int i = 0; !command && i < Q_COUNT; i++) {
        if ((standby && !query_standby_ok[i]) || queries[i].one_shot)
            continue;
        PGresult *r = PQprepare(c, queries[i].name, queries[i].sql, queries[i].nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            /* A prepare fails on schema errors (e.g. migrations not applied), whose messages
             * name objects, not data. */
            char msg[256];
            snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
            msg[strcspn(msg, "\n")] = '\0';
            log_msg(LOG_ERROR, "preparing statement %s failed (%s): %s", queries[i].name,
                    state ? state : "-", msg);
            PQclear(r);
            PQfinish(c);
            return NULL;
        }
        PQclear(r);
    }
    atomic_fetch_add(&open_connections, 1);
    if (connect_hook)
        connect_hook();
    return c;
}

void db_on_connect(void (*hook)(void))
{
    connect_hook = hook;
}

int db_sqlstate_status(const char *state)
{
    if (!state)
        return 503;
    /* Our own functions raise 'PTnnn' with nnn the HTTP status. */
    if (state[0] == 'P' && state[1] == 'T') {
        int s = atoi(state + 2);
        return (s >= 400 && s <= 599) ? s : 500;
    }
    if (strcmp(state, "23505") == 0)
        return 409;
    if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)
        return 422;
    if (strncmp(state, "22", 2) == 0)
        return 422;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return 503;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return 503;
    if (strcmp(state, "53300") == 0)
        return 503;
    return 500;
}

static bool retryable(const char *state)
{
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* Sends q on c: by name where statements are prepared, else with its text. */
static PGresult *send_query(PGconn *c, enum query q, int nparams, const char *const *params)
{
    if (db_mode == DB_PREPARED && !queries[q].one_shot)
        return PQexecPrepared(c, queries[q].name, nparams, params, NULL, NULL, 0);
    return PQexecParams(c, queries[q].sql, nparams, NULL, params, NULL, NULL, 0);
}

int db_exec(enum query q, int nparams, const char *const *params, PGresult **res, struct outcome *o,
            const char *context)
{
    *res = NULL;
    if ((unsigned)q >= Q_COUNT || nparams != queries[q].nparams) {
        log_msg(LOG_ERROR, "request %s: statement %s called with %d parameters; it declares %d",
                context, (unsigned)q < Q_COUNT ? queries[q].name : "(unknown)", nparams,
                (unsigned)q < Q_COUNT ? queries[q].nparams : -1);
        return outcome_fail(o, FAIL_INTERNAL, 500, "Internal error; quote request id %s.", context);
    }
    /* Inside a transaction the primary's snapshot is what the caller asked for. */
    if (standby_conninfo && query_standby_ok[q] &&
        !(tl_conn && PQtransactionStatus(tl_conn) != PQTRANS_IDLE)) {
        PGresult *r = run_on_standby(q, nparams, params, context);
        if (r) {
            *res = r;
            return 0;
        }
    }
    for (int attempt = 0; attempt < MAX_RETRIES; attempt++) {
        PGconn *c = db_conn();
        if (!c)
            return outcome_fail(o, FAIL_UNAVAILABLE, 503,
                                "The database is unavailable; try again shortly.");
        bool in_tx = PQtransactionStatus(c) != PQTRANS_IDLE;
        PGresult *r = send_query(c, q, nparams, params);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *res = r;
            return 0;
        }
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool dead = PQstatus(c) != CONNECTION_OK;
        if (dead)
            db_close();
        /* A statement on a dead connection did not commit unless it was the commit itself;
         * outside an explicit transaction it is safe to run again on a new connection. Every
         * write path is idempotent in any case (CONTRACT: ingest, release). */
        if (!in_tx && (dead || retryable(state)) && attempt + 1 < MAX_RETRIES) {
            PQclear(r);
            continue;
        }
        return fail(r, queries[q].name, o, context);
    }
    return outcome_fail(o, FAIL_UNAVAILABLE, 503, "The database is busy; try again shortly.");
}

int db_exec_command(enum query q, int nparams, const char *const *params, struct outcome *o,
                    const char *context)
{
    PGresult *r;
    int s = db_exec(q, nparams, params, &r, o, context);
    PQclear(r);
    return s;
}

int db_exec_script(enum query_script sc, struct outcome *o, const char *context)
{
    PGconn *c = db_conn();
    if (!c)
        return outcome_fail(o, FAIL_UNAVAILABLE, 503,
                            "The database is unavailable; try again shortly.");
    size_t len = 1;
    for (int i = 0; i < QUERY_SCRIPT_MAX_PARTS && query_scripts[sc].parts[i]; i++)
        len += strlen(query_scripts[sc].parts[i]);
    char *sql = malloc(len);
    if (!sql)
        return outcome_fail(o, FAIL_INTERNAL, 500, "Out of memory.");
    sql[0] = '\0';
    for (int i = 0; i < QUERY_SCRIPT_MAX_PARTS && query_scripts[sc].parts[i]; i++)
        strcat(sql, query_scripts[sc].parts[i]);
    PGresult *r = PQexec(c, sql);
    free(sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        PQclear(r);
        return 0;
    }
    if (PQstatus(c) != CONNECTION_OK)
        db_close();
    return fail(r, query_scripts[sc].name, o, context);
}

int db_exec_file(const char *sql, struct outcome *o)
{
    PGconn *c = db_conn();
    if (!c)
        return outcome_fail(o, FAIL_UNAVAILABLE, 503,
                            "The database is unavailable; try again shortly.");
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int s = 0;
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        /* No data travels with a file; the connection is mid-COPY and of no further use. */
        PQclear(r);
        db_close();
        return outcome_fail(o, FAIL_INTERNAL, 500, "COPY is not supported in these files");
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
        s = db_sqlstate_status(state);
        enum failure_kind kind = s == 503 ? FAIL_UNAVAILABLE : FAIL_REFUSED;
        /* Data exceptions (22) and integrity violations (23) quote the values of the rows a data
         * change touched, which may be a patient's: name the class and the constraint only. */
        if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
            outcome_fail(o, kind, s, "SQLSTATE %s%s%s (the message may quote row values)", state,
                         constraint ? " on constraint " : "", constraint ? constraint : "");
        else
            outcome_fail(o, kind, s, "%s", PQresultErrorMessage(r));
        o->detail[strcspn(o->detail, "\n")] = '\0';
        snprintf(o->sqlstate, sizeof(o->sqlstate), "%s", state ? state : "");
        if (PQstatus(c) != CONNECTION_OK)
            db_close();
    }
    PQclear(r);
    return s;
}

static void standby_close(void)
{
    if (!tl_standby)
        return;
    PQfinish(tl_standby);
    tl_standby = NULL;
    pthread_setspecific(standby_key, NULL);
    atomic_fetch_sub(&open_connections, 1);
}

/* Runs a read-only statement on this thread's standby connection; NULL when the standby cannot
 * answer (unreachable, in back-off, a recovery conflict), and the caller then asks the primary:
 * these statements are pure reads, so running one again is harmless. */
static PGresult *run_on_standby(enum query q, int nparams, const char *const *params,
                                const char *context)
{
    if (tl_standby && PQstatus(tl_standby) != CONNECTION_OK)
        standby_close();
    if (!tl_standby) {
        if (tl_standby_failure_ms && now_ms() - tl_standby_failure_ms < RECONNECT_BACKOFF_MS)
            return NULL;
        tl_standby = connect_and_prepare(standby_conninfo, true);
        tl_standby_failure_ms = tl_standby ? 0 : now_ms();
        pthread_setspecific(standby_key, tl_standby);
        if (!tl_standby)
            return NULL;
    }
    PGresult *r = send_query(tl_standby, q, nparams, params);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    log_msg(LOG_WARN,
            "request %s: statement %s failed on the standby with SQLSTATE %s; asking the "
            "primary",
            context, queries[q].name, state ? state : "(connection lost)");
    if (PQstatus(tl_standby) != CONNECTION_OK)
        standby_close();
    PQclear(r);
    return NULL;
}

/* Logs what an operator needs (statement, SQLSTATE, constraint) and never the message, which can
 * quote the values sent; the caller gets the status and, for our own PTnnn errors, their text. */
static int fail(PGresult *r, const char *what, struct outcome *o, const char *context)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int status = db_sqlstate_status(state);
    enum failure_kind kind = status == 503   ? FAIL_UNAVAILABLE
                             : status >= 500 ? FAIL_INTERNAL
                                             : FAIL_REFUSED;
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    if (state && state[0] == 'P' && state[1] == 'T') {
        outcome_fail(o, kind, status, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    } else {
        log_msg(status >= 500 ? LOG_ERROR : LOG_WARN,
                "request %s: statement %s failed with SQLSTATE %s%s%s", context, what,
                state ? state : "(connection lost)", constraint ? " on constraint " : "",
                constraint ? constraint : "");
        switch (status) {
        case 409:
            outcome_fail(o, kind, status, "This conflicts with data already recorded.");
            break;
        case 422:
            outcome_fail(o, kind, status, "A field holds a value out of range%s%s.",
                         constraint ? ": " : "", constraint ? constraint : "");
            break;
        case 503:
            outcome_fail(o, kind, status, "The database is unavailable; try again shortly.");
            break;
        default:
            outcome_fail(o, kind, status, "Internal error; quote request id %s.", context);
        }
    }
    snprintf(o->sqlstate, sizeof(o->sqlstate), "%s", state ? state : "");
    PQclear(r);
    return status;
}

bool db_ping(void)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = db_conn();
        if (!c)
            return false;
        PGresult *r = send_query(c, Q_PING, 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (ok)
            return true;
        if (PQstatus(c) != CONNECTION_OK)
            db_close(); /* a stale connection after a restart: try one fresh one */
        else
            return false;
    }
    return false;
}

bool db_in_transaction(void)
{
    return tl_conn && PQtransactionStatus(tl_conn) != PQTRANS_IDLE;
}

void db_work_done(void)
{
    /* Work that left a transaction open (an error between BEGIN and COMMIT) must not hand it to
     * the next request on this thread. */
    if (tl_conn && PQtransactionStatus(tl_conn) != PQTRANS_IDLE)
        PQclear(send_query(tl_conn, Q_ROLLBACK, 0, NULL));
}

/* The column's index in res, as PQfnumber gives it for our lower-case names but without its copy
 * and case folding of the name on every call. Handlers read a row's columns one by one and rows in
 * a loop, so a per-thread hint keyed by (res, the caller's string literal) skips the scan for every
 * row after the first; it is checked against res before use. */
#define COLUMN_HINTS 256
static int column_index(const PGresult *res, const char *column)
{
    static _Thread_local struct {
        const PGresult *res;
        const char *name;
        int col;
    } hints[COLUMN_HINTS];
    size_t h = (((uintptr_t)column >> 3) ^ ((uintptr_t)res >> 4)) % COLUMN_HINTS;
    int nf = PQnfields(res);
    int col = hints[h].col;
    if (hints[h].res == res && hints[h].name == column && col < nf &&
        strcmp(PQfname(res, col), column) == 0)
        return col;
    for (col = 0; col < nf; col++) {
        if (strcmp(PQfname(res, col), column) == 0) {
            hints[h].res = res;
            hints[h].name = column;
            hints[h].col = col;
            return col;
        }
    }
    return PQfnumber(res, column); /* a name needing PQfnumber's case folding or quoting */
}

const char *db_value(const PGresult *res, int row, const char *column)
{
    int col = column_index(res, column);
    if (col < 0 || row >= PQntuples(res) || PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}
