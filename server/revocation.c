/* Revoked sessions, kept in memory per instance. One thread holds its own connection, LISTENs on
 * portal_sessions (portal.revoke_sessions notifies it) and loads the whole table after each
 * (re)connect; a revocation made here is also applied here at once, before its answer. While the
 * thread is not connected, checks go to the database, so an instance that missed a notice never
 * answers from stale memory. Rows only ever move forward (the later second wins), so the order in
 * which the load and the notices arrive does not matter. */
#include "revocation.h"

#include <limits.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_db.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "queries.h"

#define BUCKETS 65536 /* 512 KiB of heads: chains stay short up to ~100,000 people */

struct revoked {
    struct revoked *next;
    enum role role;
    long before;
    long heard; /* the latest second this instance's listener was told of */
    char sub[128];
};

static struct revoked *table[BUCKETS];
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
/* Signalled when the listener applies a notice; revocation_revoke waits on it for its own. */
static pthread_mutex_t heard_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heard_cond = PTHREAD_COND_INITIALIZER;
static atomic_bool in_memory;
static atomic_bool stopping;
static pthread_t listener;
static bool listener_running;
static const char *listener_conninfo;

static unsigned bucket(enum role role, const char *sub)
{
    unsigned h = 2166136261u ^ (unsigned)role;
    for (const unsigned char *p = (const unsigned char *)sub; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

/* Caller holds the write lock. heard: the notice came through the listener. */
static void remember_locked(enum role role, const char *sub, long before, bool heard)
{
    if (strlen(sub) >= sizeof(((struct revoked *)0)->sub))
        return; /* no token can carry such a sub (auth.c) */
    unsigned b = bucket(role, sub);
    for (struct revoked *r = table[b]; r; r = r->next) {
        if (r->role == role && strcmp(r->sub, sub) == 0) {
            if (before > r->before)
                r->before = before;
            if (heard && before > r->heard)
                r->heard = before;
            return;
        }
    }
    struct revoked *r = calloc(1, sizeof(*r));
    if (!r) {
        /* Without the row in memory the check would pass: ask the database from now on. */
        atomic_store(&in_memory, false);
        return;
    }
    r->role = role;
    r->before = before;
    r->heard = heard ? before : 0;
    strcpy(r->sub, sub);
    r->next = table[b];
    table[b] = r;
}

static void remember(enum role role, const char *sub, long before, bool heard)
{
    pthread_rwlock_wrlock(&table_lock);
    remember_locked(role, sub, before, heard);
    pthread_rwlock_unlock(&table_lock);
    if (heard) {
        pthread_mutex_lock(&heard_lock);
        pthread_cond_broadcast(&heard_cond);
        pthread_mutex_unlock(&heard_lock);
    }
}

/* Whether this instance's listener has been told of (role, sub)'s revocation at before. */
static bool heard_of(enum role role, const char *sub, long before)
{
    bool heard = false;
    pthread_rwlock_rdlock(&table_lock);
    for (struct revoked *r = table[bucket(role, sub)]; r; r = r->next)
        if (r->role == role && strcmp(r->sub, sub) == 0)
            heard = r->heard >= before;
    pthread_rwlock_unlock(&table_lock);
    return heard;
}

/* The database delivers a notice to every listening instance at the commit; waiting until this
 * instance's own listener has it means the others' listeners were sent it at the same moment, so
 * a client that uses the ended token right after the answer meets the revocation on any instance
 * (but for one that is not following: it asks the database anyway). Bounded, so a slow listener
 * delays a sign-out at most this long. */
#define HEARD_WAIT_MS 500

static void wait_until_heard(enum role role, const char *sub, long before)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += HEARD_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&heard_lock);
    while (atomic_load(&in_memory) && !heard_of(role, sub, before))
        if (pthread_cond_timedwait(&heard_cond, &heard_lock, &until) != 0)
            break;
    pthread_mutex_unlock(&heard_lock);
}

static void forget_all_locked(void)
{
    for (int b = 0; b < BUCKETS; b++) {
        while (table[b]) {
            struct revoked *r = table[b];
            table[b] = r->next;
            free(r);
        }
    }
}

/* The revocation second of (role, sub) from memory: 1 found, 0 none. */
static int lookup(enum role role, const char *sub, long *before)
{
    int found = 0;
    pthread_rwlock_rdlock(&table_lock);
    for (struct revoked *r = table[bucket(role, sub)]; r; r = r->next) {
        if (r->role == role && strcmp(r->sub, sub) == 0) {
            *before = r->before;
            found = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&table_lock);
    return found;
}

/* The same from the database, on this thread's connection: 1 found, 0 none, -1 unavailable. */
static int lookup_db(enum role role, const char *sub, long *before, const char *request_id)
{
    const char *p[2] = {role_name(role), sub};
    PGresult *r;
    struct outcome o;
    if (db_exec(Q_SESSION_REVOKED_BEFORE, 2, p, &r, &o, request_id))
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        *before = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return found;
}

static int find(enum role role, const char *sub, long *before, const char *request_id)
{
    if (atomic_load(&in_memory))
        return lookup(role, sub, before);
    return lookup_db(role, sub, before, request_id);
}

enum revocation_verdict revocation_check(const struct principal *who, const char *request_id)
{
    long before = 0;
    int found = find(who->role, who->sub, &before, request_id);
    if (found < 0)
        return REVOCATION_UNKNOWN;
    /* A token without iat cannot show it came after the revocation. */
    if (found && (who->iat == LONG_MIN || who->iat < before))
        return REVOCATION_ENDED;
    return REVOCATION_VALID;
}

int revocation_revoke(enum role role, const char *sub, const char *request_id, struct outcome *o)
{
    const char *p[2] = {role_name(role), sub};
    PGresult *r;
    int s = db_exec(Q_REVOKE_SESSIONS, 2, p, &r, o, request_id);
    if (s)
        return s;
    /* One row for the person, and one for their other identity when they have one. */
    for (int i = 0; i < PQntuples(r); i++) {
        enum role each = role_from_name(PQgetvalue(r, i, 0));
        const char *each_sub = PQgetvalue(r, i, 1);
        long before = strtol(PQgetvalue(r, i, 2), NULL, 10);
        remember(each, each_sub, before, false);
        wait_until_heard(each, each_sub, before);
    }
    PQclear(r);
    return 0;
}

static void caught_up_one(enum role role, const char *sub, const char *request_id)
{
    long before = 0;
    if (lookup_db(role, sub, &before, request_id) != 1)
        return;
    remember(role, sub, before, false);
    wait_until_heard(role, sub, before);
}

void revocation_caught_up(enum role role, const char *sub, const char *request_id)
{
    caught_up_one(role, sub, request_id);
    /* The statement that revoked ended the same person's other identity too
     * (portal.revoke_person_sessions). */
    const char *p[2] = {role_name(role), sub};
    PGresult *r;
    struct outcome o;
    if (db_exec(Q_SAME_PERSON, 2, p, &r, &o, request_id))
        return;
    for (int i = 0; i < PQntuples(r); i++)
        caught_up_one(role_from_name(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1), request_id);
    PQclear(r);
}

time_t revocation_issue_time(enum role role, const char *sub, time_t now)
{
    long before = 0;
    if (find(role, sub, &before, "sign-in") == 1 && before > (long)now)
        return (time_t)before;
    return now;
}

/* "role before sub", as portal.revoke_sessions sends it. */
static void apply_notice(const char *payload)
{
    char role[16];
    long before;
    int used = 0;
    if (sscanf(payload, "%15s %ld %n", role, &before, &used) != 2 || !used)
        return;
    enum role r = role_from_name(role);
    if (r != ROLE_NONE)
        remember(r, payload + used, before, true);
}

static bool load(PGconn *c)
{
    PGresult *res = PQexec(c, queries[Q_SESSION_REVOCATIONS].sql);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (ok) {
        pthread_rwlock_wrlock(&table_lock);
        forget_all_locked();
        for (int i = 0; i < PQntuples(res); i++)
            remember_locked(role_from_name(PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1),
                            strtol(PQgetvalue(res, i, 2), NULL, 10), true);
        pthread_rwlock_unlock(&table_lock);
    }
    PQclear(res);
    return ok;
}

static void follow(PGconn *c)
{
    while (!atomic_load(&stopping)) {
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (pfd.fd < 0 || poll(&pfd, 1, 500) < 0)
            return;
        if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
            return;
        PGnotify *n;
        while ((n = PQnotifies(c))) {
            apply_notice(n->extra);
            PQfreemem(n);
        }
    }
}

static void *listener_main(void *arg)
{
    (void)arg;
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *values[] = {listener_conninfo, "2", "portald-sessions", NULL};
    bool said_lost = false;
    while (!atomic_load(&stopping)) {
        PGconn *c = PQconnectdbParams(keys, values, 1);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "LISTEN portal_sessions") : NULL;
        bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (listening && load(c)) {
            atomic_store(&in_memory, true);
            if (said_lost)
                log_msg(LOG_INFO, "sessions: revocations followed in memory again");
            said_lost = false;
            follow(c);
        }
        atomic_store(&in_memory, false);
        PQfinish(c);
        if (!said_lost && !atomic_load(&stopping))
            log_msg(LOG_WARN, "sessions: not following revocations; every request asks the "
                              "database until the connection is back");
        said_lost = true;
        for (int i = 0; i < 10 && !atomic_load(&stopping); i++)
            poll(NULL, 0, 100);
    }
    return NULL;
}

int revocation_start(const struct config *cfg)
{
    listener_conninfo = cfg->database_url;
    atomic_store(&stopping, false);
    if (pthread_create(&listener, NULL, listener_main, NULL) != 0) {
        log_msg(LOG_WARN, "sessions: cannot start the revocation listener; every request asks "
                          "the database");
        return -1;
    }
    listener_running = true;
    return 0;
}

void revocation_stop(void)
{
    if (listener_running) {
        atomic_store(&stopping, true);
        pthread_join(listener, NULL);
        listener_running = false;
    }
    atomic_store(&in_memory, false);
    pthread_rwlock_wrlock(&table_lock);
    forget_all_locked();
    pthread_rwlock_unlock(&table_lock);
}

int revocation_end_sessions_cli(const char *conninfo, int argc, char **argv)
{
    enum role role = argc == 4 ? role_from_name(argv[2]) : ROLE_NONE;
    if (role == ROLE_NONE) {
        fprintf(stderr, "usage: portald end-sessions patient|physician|ris|admin SUB\n");
        return 2;
    }
    if (cli_db_open(conninfo) < 0)
        return 1;
    struct outcome o = {0};
    int s = revocation_revoke(role, argv[3], "end-sessions", &o);
    db_close();
    if (s) {
        fprintf(stderr, "portald: ending the sessions failed: %s\n", o.detail);
        return 1;
    }
    printf("every %s session of %s issued until now has ended\n", role_name(role), argv[3]);
    return 0;
}
