/* portald: the results portal's one binary. Subcommands: serve, migrate, token, seed-demo,
 * access-code, access-codes-pending, set-password, end-sessions, proxy-*, staff-add, catalogue. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "backtest.h"
#include "config.h"
#include "db.h"
#include "demo.h"
#include "estimates.h"
#include "history.h"
#include "hash_pool.h"
#include "hl7_listener.h"
#include "http.h"
#include "i18n.h"
#include "i18n_pages.h"
#include "log.h"
#include "migrate.h"
#include "notify.h"
#include "orthanc_feed.h"
#include "page_cache.h"
#include "release_sweep.h"
#include "physician_account.h"
#include "proxy_cli.h"
#include "revocation.h"
#include "staff_account.h"

#define SHUTDOWN_GRACE_MS 10000

static int usage(void)
{
    fprintf(
        stderr,
        "usage: portald serve | migrate | token --role ROLE --sub SUB [--ttl SECONDS]\n"
        "               | seed-demo | access-code MRN [AUTHORITY] | access-codes-pending\n"
        "               | set-password PHYSICIAN_ID | end-sessions ROLE SUB\n"
        "               | staff-add ID staff|admin NAME\n"
        "               | proxy-add NAME BIRTH_DATE [EMAIL] [--patient MRN] | proxy-code PROXY_ID\n"
        "               | proxy-patient PROXY_ID MRN|--none [--authority A]\n"
        "               | proxy-grant PROXY_ID MRN guardian|caregiver [--until TIME] ...\n"
        "               | proxy-renew LINK_ID UNTIL | proxy-end LINK_ID\n"
        "               | catalogue en|es|fr\n"
        "               | seed-history [--days N] [--shape S] [--seed N]\n"
        "               | backtest [--days N] [--window-days W] [--conditional | --every-hour "
        "[--by-hour]]\n"
        "Configuration comes from PORTAL_* environment variables (see README.md).\n");
    return 2;
}

static int load(struct config *cfg, enum config_need need)
{
    char err[256];
    if (config_load(cfg, need, err, sizeof(err)) < 0) {
        fprintf(stderr, "portald: %s\n", err);
        config_free(cfg); /* a key file read before a later setting failed */
        return -1;
    }
    if (auth_init(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "portald: %s\n", err);
        config_free(cfg);
        return -1;
    }
    return 0;
}

static int cmd_serve(void)
{
    struct config cfg;
    if (load(&cfg, CONFIG_FOR_SERVE) < 0)
        return 1;
    /* Signals are taken synchronously by sigwait below, never by a worker thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[256];
    if (i18n_init(err, sizeof(err)) < 0) {
        fprintf(stderr, "portald: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    db_set_site_time_zone(cfg.time_zone);
    db_configure(cfg.database_url, cfg.db_connect_timeout, DB_PREPARED);
    if (cfg.database_read_url)
        db_configure_standby(cfg.database_read_url);
    if (page_cache_init((size_t)cfg.page_cache_mb << 20, cfg.page_cache_ttl) < 0) {
        fprintf(stderr, "portald: no memory for PORTAL_PAGE_CACHE_MB=%d\n", cfg.page_cache_mb);
        config_free(&cfg);
        return 1;
    }
    db_on_connect(page_cache_clear);
    (void)revocation_start(&cfg); /* without it, each request asks the database */
    if (hash_pool_start(cfg.hash_workers, cfg.hash_queue) < 0) {
        fprintf(stderr, "portald: cannot start the %d threads of PORTAL_HASH_WORKERS\n",
                cfg.hash_workers);
        revocation_stop();
        page_cache_free();
        config_free(&cfg);
        return 1;
    }
    struct http_server *srv = http_start(&cfg, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "portald: %s\n", err);
        hash_pool_stop();
        revocation_stop();
        page_cache_free();
        config_free(&cfg);
        return 1;
    }
    log_msg(LOG_INFO, "listening on %s:%d with %d threads (and %d for sign-in hashes)",
            cfg.listen_host, http_port(srv), cfg.threads, cfg.hash_workers);
    struct hl7_listener *hl7 = NULL;
    if (cfg.hl7_listen_host[0]) {
        hl7 = hl7_listener_start(&cfg, err, sizeof(err));
        if (!hl7) {
            fprintf(stderr, "portald: %s\n", err);
            http_stop(srv, 0);
            hash_pool_stop();
            revocation_stop();
            page_cache_free();
            config_free(&cfg);
            return 1;
        }
        log_msg(LOG_INFO, "hl7 (MLLP) listening on %s:%d", cfg.hl7_listen_host,
                hl7_listener_port(hl7));
    }
    struct release_sweep *sweep = release_sweep_start(cfg.release_sweep);
    struct estimates_task *estimates =
        estimates_start(cfg.estimates_refresh, cfg.estimates_window_days);
    struct orthanc_feed *orthanc = orthanc_feed_start(&cfg);
    struct notify *notify = notify_start(&cfg);
    int sig = 0;
    sigwait(&set, &sig);
    log_msg(LOG_INFO, "signal %d: finishing requests in flight, then stopping", sig);
    hl7_listener_stop(hl7, SHUTDOWN_GRACE_MS);
    orthanc_feed_stop(orthanc);
    notify_stop(notify);
    release_sweep_stop(sweep);
    estimates_stop(estimates);
    http_stop(srv, SHUTDOWN_GRACE_MS);
    hash_pool_stop();
    revocation_stop();
    db_close();
    page_cache_free();
    config_free(&cfg);
    log_msg(LOG_INFO, "stopped");
    return 0;
}

static int cmd_migrate(void)
{
    struct config cfg;
    char err[256];
    if (config_load(&cfg, CONFIG_FOR_MIGRATE, err, sizeof(err)) < 0) {
        fprintf(stderr, "portald: %s\n", err);
        return 1;
    }
    int rc = migrate_run(cfg.migrate_url, cfg.migrations_dir);
    config_free(&cfg);
    return rc == 0 ? 0 : 1;
}

static int cmd_token(int argc, char **argv)
{
    const char *role = NULL, *sub = NULL;
    int ttl = 3600;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--role") == 0)
            role = argv[i + 1];
        else if (strcmp(argv[i], "--sub") == 0)
            sub = argv[i + 1];
        else if (strcmp(argv[i], "--ttl") == 0)
            ttl = atoi(argv[i + 1]);
        else
            return usage();
    }
    if (!role || !sub || role_from_name(role) == ROLE_NONE || ttl <= 0)
        return usage();
    struct config cfg;
    if (load(&cfg, CONFIG_FOR_TOKEN) < 0)
        return 1;
    char *tok = auth_sign(role_from_name(role), sub, ttl, time(NULL), NULL);
    config_free(&cfg);
    if (!tok) {
        fprintf(stderr, "portald: token needs PORTAL_JWT_SECRET\n");
        return 1;
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}

/* A command an operator runs prints what it did; the core's routine log lines (an event replayed,
 * say) would only bury that, so only warnings and errors are logged. One that creates what the
 * server's role may not (a staff account) connects as the owner, PORTAL_MIGRATE_DATABASE_URL. */
static int cmd_db(int (*fn)(const char *conninfo, int argc, char **argv), bool as_owner, int argc,
                  char **argv)
{
    struct config cfg;
    if (load(&cfg, CONFIG_FOR_SERVE) < 0)
        return 1;
    log_set_level(LOG_WARN);
    db_set_site_time_zone(cfg.time_zone); /* seed-demo's ingests keep estimates */
    int rc = fn(as_owner ? cfg.migrate_url : cfg.database_url, argc, argv);
    config_free(&cfg);
    return rc;
}

/* Commands that read the estimates window from the configuration. One that writes history into the
 * tables directly (seed-history) connects as the owner (PORTAL_MIGRATE_DATABASE_URL): the server's
 * role may write releases and reports only through the functions that audit them. */
static int cmd_estimates(int (*fn)(const char *conninfo, int window_days, int argc, char **argv),
                         bool as_owner, int argc, char **argv)
{
    struct config cfg;
    if (load(&cfg, CONFIG_FOR_SERVE) < 0)
        return 1;
    log_set_level(LOG_WARN);
    db_set_site_time_zone(cfg.time_zone);
    int rc =
        fn(as_owner ? cfg.migrate_url : cfg.database_url, cfg.estimates_window_days, argc, argv);
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve();
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate();
    if (strcmp(cmd, "token") == 0)
        return cmd_token(argc, argv);
    if (strcmp(cmd, "seed-demo") == 0)
        return cmd_db(demo_seed, false, argc, argv);
    if (strcmp(cmd, "access-code") == 0)
        return cmd_db(demo_access_code, false, argc, argv);
    if (strcmp(cmd, "access-codes-pending") == 0)
        return cmd_db(demo_access_codes_pending, false, argc, argv);
    if (strcmp(cmd, "end-sessions") == 0)
        return cmd_db(revocation_end_sessions_cli, false, argc, argv);
    if (strncmp(cmd, "proxy-", 6) == 0)
        return cmd_db(proxy_cli, false, argc, argv);
    if (strcmp(cmd, "set-password") == 0)
        return cmd_db(physician_set_password, false, argc, argv);
    if (strcmp(cmd, "staff-add") == 0)
        return cmd_db(staff_add_cli, true, argc, argv);
    if (strcmp(cmd, "seed-history") == 0)
        return cmd_estimates(history_seed, true, argc, argv);
    if (strcmp(cmd, "catalogue") == 0)
        return i18n_pages_cli(argc, argv);
    if (strcmp(cmd, "backtest") == 0)
        return cmd_estimates(backtest_run, false, argc, argv);
    return usage();
}
