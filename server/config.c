/* Configuration from PORTAL_* environment variables: a table of settings, parsed and validated
 * once, at start-up, then the few rules that relate one setting to another. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define JWT_SECRET_MIN_BYTES  32
#define PUBLIC_KEY_MAX_BYTES  65536
#define CREDENTIALS_MAX_BYTES 1024
#define ORTHANC_URL_MAX       512
#define URL_MAX               512
/* Connections one address may hold when clients reach portald directly: a browser opens six, an
 * interface engine a few, so 64 leaves room while 1,000 slow sockets from one address cannot
 * starve everyone else. */
#define PER_IP_CONNECTIONS_DIRECT 64

#define FIELD(f) offsetof(struct config, f)

static int parse_string(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen);
static int parse_int(const struct config_setting *s, const char *value, struct config *c, char *err,
                     size_t errlen);
static int parse_listen(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen);
static int parse_secret(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen);
static int parse_jwt_alg(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen);
static int parse_language(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen);
static int parse_key_file(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen);
static int parse_proxies(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen);
static int parse_hl7_listen(const struct config_setting *s, const char *value, struct config *c,
                            char *err, size_t errlen);
static int parse_obx_map(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen);
static int parse_orthanc_url(const struct config_setting *s, const char *value, struct config *c,
                             char *err, size_t errlen);
static int parse_credentials_file(const struct config_setting *s, const char *value,
                                  struct config *c, char *err, size_t errlen);
static int parse_smart_url(const struct config_setting *s, const char *value, struct config *c,
                           char *err, size_t errlen);
static int parse_mail_url(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen);
static int parse_http_url(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen);
static int parse_address(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen);
static int parse_starttls(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen);
static int parse_ingest_codes(const struct config_setting *s, const char *value, struct config *c,
                              char *err, size_t errlen);
static int parse_webhook_secret(const struct config_setting *s, const char *value, struct config *c,
                                char *err, size_t errlen);
static int parse_quiet_hours(const struct config_setting *s, const char *value, struct config *c,
                             char *err, size_t errlen);
static int parse_time_zone(const struct config_setting *s, const char *value, struct config *c,
                           char *err, size_t errlen);
static int apply_rules(struct config *c, enum config_need need, char *err, size_t errlen);
static int notify_rules(struct config *c, char *err, size_t errlen);

/* Every PORTAL_* variable portald reads, in the order config_load checks them; apply_rules runs
 * after the last. README's configuration table lists the same variables with the same defaults and
 * ranges (tests/unit/test_config.c checks). Columns: name, default, lo, hi, parser, field, needed
 * by, what. */
/* Settings whose value is a secret or may hold one (a database URL may carry a password): the
 * effective configuration shows only whether they are set (config_is_secret). Settings naming a
 * file show the path, never its contents. */
static const char *const secret_settings[] = {
    "PORTAL_DATABASE_URL", "PORTAL_DATABASE_READ_URL",   "PORTAL_MIGRATE_DATABASE_URL",
    "PORTAL_JWT_SECRET",   "PORTAL_JWT_PREVIOUS_SECRET", "PORTAL_METRICS_TOKEN",
};

bool config_is_secret(const char *name)
{
    for (size_t i = 0; i < sizeof(secret_settings) / sizeof(secret_settings[0]); i++)
        if (strcmp(secret_settings[i], name) == 0)
            return true;
    return false;
}

const struct config_setting config_settings[] = {
    {"PORTAL_DATABASE_URL", NULL, 0, 0, parse_string, FIELD(database_url),
     CONFIG_NEED(CONFIG_FOR_SERVE), "a libpq connection string or URI"},
    {"PORTAL_DATABASE_READ_URL", NULL, 0, 0, parse_string, FIELD(database_read_url), 0, NULL},
    /* Defaults to PORTAL_DATABASE_URL (apply_rules). */
    {"PORTAL_MIGRATE_DATABASE_URL", NULL, 0, 0, parse_string, FIELD(migrate_url), 0, NULL},
    {"PORTAL_LISTEN", "127.0.0.1:8080", 0, 0, parse_listen, FIELD(listen_host), 0, NULL},

    /* A secret, a public key or both are required for serve and token (apply_rules). */
    {"PORTAL_JWT_SECRET", NULL, 0, 0, parse_secret, FIELD(jwt_secret), 0, NULL},
    {"PORTAL_JWT_PREVIOUS_SECRET", NULL, 0, 0, parse_secret, FIELD(jwt_previous_secret), 0, NULL},
    {"PORTAL_JWT_ALG", NULL, 0, 0, parse_jwt_alg, FIELD(jwt_key_kind), 0, NULL},
    {"PORTAL_JWT_PUBLIC_KEY_FILE", NULL, 0, 0, parse_key_file, FIELD(jwt_public_key), 0, NULL},
    {"PORTAL_JWT_ISSUER", "portal", 0, 0, parse_string, FIELD(jwt_issuer), 0, NULL},
    {"PORTAL_JWT_AUDIENCE", "portal", 0, 0, parse_string, FIELD(jwt_audience), 0, NULL},

    {"PORTAL_TRUSTED_PROXIES", NULL, 0, 0, parse_proxies, FIELD(trusted_proxies), 0, NULL},
    {"PORTAL_PUBLIC_ORIGIN", NULL, 0, 0, parse_string, FIELD(public_origin), 0, NULL},
    /* Both or neither (apply_rules). */
    {"PORTAL_SMART_AUTHORIZE_URL", NULL, 0, 0, parse_smart_url, FIELD(smart_authorize_url), 0,
     NULL},
    {"PORTAL_SMART_TOKEN_URL", NULL, 0, 0, parse_smart_url, FIELD(smart_token_url), 0, NULL},
    /* Set but empty: do not serve pages; unset: static/ if it has an index.html (apply_rules). */
    {"PORTAL_STATIC_DIR", NULL, 0, 0, parse_string, FIELD(static_dir), 0, NULL},
    {"PORTAL_DEFAULT_LANGUAGE", "en", 0, 0, parse_language, FIELD(default_language), 0, NULL},

    /* Defaults to the number of cores (apply_rules). */
    {"PORTAL_THREADS", NULL, 1, 256, parse_int, FIELD(threads), 0, NULL},
    /* Defaults to half the cores, at least one (apply_rules): the rest serve page views while a
     * wave of sign-ins hashes. */
    {"PORTAL_HASH_WORKERS", NULL, 1, 64, parse_int, FIELD(hash_workers), 0, NULL},
    {"PORTAL_HASH_QUEUE", "32", 1, 4096, parse_int, FIELD(hash_queue), 0, NULL},
    {"PORTAL_INGEST_ACCESS_CODES", "in_answer", 0, 0, parse_ingest_codes,
     FIELD(ingest_codes_on_request), 0, NULL},
    {"PORTAL_MAX_CONNECTIONS", "16384", 1, 1000000, parse_int, FIELD(max_connections), 0, NULL},
    /* Defaults to 64 without PORTAL_TRUSTED_PROXIES, else 0, no limit (apply_rules): behind nginx
     * every client is nginx, and nginx limits per client itself. */
    {"PORTAL_PER_IP_CONNECTIONS", NULL, 0, 1000000, parse_int, FIELD(per_ip_connections), 0, NULL},
    {"PORTAL_IDLE_TIMEOUT", "60", 1, 86400, parse_int, FIELD(idle_timeout), 0, NULL},
    /* Deadlines from a connection's start to its request head's end, and from the head's end to
     * the body's end, however slowly the bytes trickle in (the idle timeout restarts with each
     * byte, so alone it lets a slow client hold a connection for ever). */
    {"PORTAL_HEAD_TIMEOUT", "10", 1, 3600, parse_int, FIELD(head_timeout), 0, NULL},
    {"PORTAL_BODY_TIMEOUT", "20", 1, 3600, parse_int, FIELD(body_timeout), 0, NULL},
    /* Without it /metrics answers loopback clients only. */
    {"PORTAL_METRICS_TOKEN", NULL, 0, 0, parse_secret, FIELD(metrics_token), 0, NULL},
    /* libmicrohttpd's memory pool per connection: it holds the request head and the answer's
     * headers. 0.9.75 zeroes the whole pool when a keep-alive request ends, so every idle
     * connection keeps all of it resident: 5.5 KiB costs ~6.2 KB per connection, 59 MiB for
     * 10,000 idle ones (issue 8: at most 64 MB; 16 KiB cost 161 MiB). The price: a request head
     * over ~2.7 KB (a token and cookies together) gets libmicrohttpd's own 431, so a site whose
     * identity provider issues large tokens raises PORTAL_CONNECTION_MEMORY (8192 allows ~4 KB;
     * docs/performance.md). */
    {"PORTAL_CONNECTION_MEMORY", "5632", 4096, 1048576, parse_int, FIELD(connection_memory), 0,
     NULL},
    {"PORTAL_SESSION_TTL", "1800", 60, 86400, parse_int, FIELD(session_ttl), 0, NULL},
    {"PORTAL_DB_CONNECT_TIMEOUT", "2", 1, 60, parse_int, FIELD(db_connect_timeout), 0, NULL},
    {"PORTAL_ESTIMATES_REFRESH", "3600", 1, 86400, parse_int, FIELD(estimates_refresh), 0, NULL},
    {"PORTAL_ESTIMATES_WINDOW_DAYS", "90", 7, 3650, parse_int, FIELD(estimates_window_days), 0,
     NULL},
    /* 0 turns the release sweep off on this instance (another instance may run it), and 0 MB
     * keeps no pages. */
    {"PORTAL_RELEASE_SWEEP", "60", 0, 86400, parse_int, FIELD(release_sweep), 0, NULL},
    {"PORTAL_PAGE_CACHE_MB", "64", 0, 65536, parse_int, FIELD(page_cache_mb), 0, NULL},
    {"PORTAL_PAGE_CACHE_TTL", "60", 1, 3600, parse_int, FIELD(page_cache_ttl), 0, NULL},

    {"PORTAL_MIGRATIONS_DIR", "sql/migrations", 0, 0, parse_string, FIELD(migrations_dir), 0, NULL},

    /* The HL7 v2 listener (MLLP), off unless an address is given. */
    {"PORTAL_HL7_LISTEN", NULL, 0, 0, parse_hl7_listen, FIELD(hl7_listen_host), 0, NULL},
    {"PORTAL_HL7_OBX_SECTIONS", HL7_OBX_MAP_DEFAULT, 0, 0, parse_obx_map, FIELD(hl7_obx_map), 0,
     NULL},
    {"PORTAL_HL7_READ_TIMEOUT", "30", 1, 3600, parse_int, FIELD(hl7_read_timeout), 0, NULL},
    /* The PACS follower, off unless the URL is set (docs/pacs.md). */
    {"PORTAL_ORTHANC_URL", NULL, 0, 0, parse_orthanc_url, FIELD(orthanc_url), 0, NULL},
    {"PORTAL_ORTHANC_CREDENTIALS_FILE", NULL, 0, 0, parse_credentials_file,
     FIELD(orthanc_credentials), 0, NULL},
    {"PORTAL_ORTHANC_POLL", "2", 1, 3600, parse_int, FIELD(orthanc_poll), 0, NULL},

    /* Notifications (docs/notifications.md): nothing is sent without an SMTP or webhook URL. */
    {"PORTAL_PUBLIC_URL", NULL, 0, 0, parse_http_url, FIELD(public_url), 0, NULL},
    {"PORTAL_SMTP_URL", NULL, 0, 0, parse_mail_url, FIELD(smtp_url), 0, NULL},
    {"PORTAL_SMTP_FROM", NULL, 0, 0, parse_address, FIELD(smtp_from), 0, NULL},
    {"PORTAL_SMTP_CREDENTIALS_FILE", NULL, 0, 0, parse_credentials_file, FIELD(smtp_credentials), 0,
     NULL},
    {"PORTAL_SMTP_STARTTLS", "required", 0, 0, parse_starttls, FIELD(smtp_starttls_required), 0,
     NULL},
    {"PORTAL_SMTP_CA_FILE", NULL, 0, 0, parse_string, FIELD(smtp_ca_file), 0, NULL},
    {"PORTAL_WEBHOOK_URL", NULL, 0, 0, parse_http_url, FIELD(webhook_url), 0, NULL},
    {"PORTAL_WEBHOOK_SECRET_FILE", NULL, 0, 0, parse_webhook_secret, FIELD(webhook_secret), 0,
     NULL},
    {"PORTAL_STAFF_EMAIL", NULL, 0, 0, parse_address, FIELD(staff_email), 0, NULL},
    /* Set but empty: no quiet hours (apply_rules). */
    {"PORTAL_QUIET_HOURS", "21:00-08:00", 0, 0, parse_quiet_hours, FIELD(quiet_start), 0, NULL},
    {"PORTAL_TIME_ZONE", "UTC", 0, 0, parse_time_zone, FIELD(time_zone), 0, NULL},
    {"PORTAL_NOTIFY_BATCH", "20", 1, 500, parse_int, FIELD(notify_batch), 0, NULL},
    {"PORTAL_NOTIFY_TIMEOUT", "10", 1, 300, parse_int, FIELD(notify_timeout), 0, NULL},
    {"PORTAL_NOTIFY_RATE_CAP", "10", 0, 10000, parse_int, FIELD(notify_rate_cap), 0, NULL},
    {"PORTAL_NOTIFY_MAX_ATTEMPTS", "12", 1, 100, parse_int, FIELD(notify_max_attempts), 0, NULL},
    {"PORTAL_NOTIFY_RETRY_BASE", "10", 1, 3600, parse_int, FIELD(notify_retry_base), 0, NULL},
    {"PORTAL_NOTIFY_SCHEDULE", "60", 0, 86400, parse_int, FIELD(notify_schedule), 0, NULL},
    {"PORTAL_NOTIFY_DIGEST_HOUR", "8", 0, 23, parse_int, FIELD(notify_digest_hour), 0, NULL},
};

const size_t config_settings_count = sizeof(config_settings) / sizeof(config_settings[0]);

int config_load(struct config *c, enum config_need need, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    err[0] = '\0';
    for (size_t i = 0; i < config_settings_count; i++) {
        const struct config_setting *s = &config_settings[i];
        const char *value = getenv(s->name);
        if (!value || !*value)
            value = s->def;
        if (!value) {
            if (s->need & CONFIG_NEED(need)) {
                snprintf(err, errlen, "%s is required (%s)", s->name, s->what);
                goto fail;
            }
            continue;
        }
        if (s->parse(s, value, c, err, errlen) < 0)
            goto fail;
    }
    if (apply_rules(c, need, err, errlen) < 0)
        goto fail;
    return 0;

fail:
    config_free(c);
    return -1;
}

void config_free(struct config *c)
{
    free(c->jwt_public_key);
    c->jwt_public_key = NULL;
    char **secrets[] = {&c->orthanc_credentials, &c->smtp_credentials};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (*secrets[i]) {
            explicit_bzero(*secrets[i], strlen(*secrets[i]));
            free(*secrets[i]);
            *secrets[i] = NULL;
        }
    }
    if (c->webhook_secret) {
        explicit_bzero(c->webhook_secret, c->webhook_secret_len);
        free(c->webhook_secret);
        c->webhook_secret = NULL;
    }
}

/* What one setting cannot say alone: defaults taken from other settings or from the machine, and
 * settings that need each other. */
static int apply_rules(struct config *c, enum config_need need, char *err, size_t errlen)
{
    if (!c->migrate_url)
        c->migrate_url = c->database_url;
    if (need == CONFIG_FOR_MIGRATE && !c->migrate_url) {
        snprintf(err, errlen,
                 "PORTAL_MIGRATE_DATABASE_URL or PORTAL_DATABASE_URL is required for migrate");
        return -1;
    }

    if (c->jwt_secret)
        c->jwt_secret_len = strlen(c->jwt_secret);
    if (c->jwt_previous_secret)
        c->jwt_previous_secret_len = strlen(c->jwt_previous_secret);
    if (c->jwt_key_kind != JWT_KEY_NONE && !c->jwt_public_key) {
        snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE is required when PORTAL_JWT_ALG is %s",
                 c->jwt_key_kind == JWT_KEY_RS256 ? "RS256" : "ES256");
        return -1;
    }
    if (c->jwt_public_key && c->jwt_key_kind == JWT_KEY_NONE) {
        snprintf(err, errlen,
                 "PORTAL_JWT_ALG (RS256 or ES256) is required with "
                 "PORTAL_JWT_PUBLIC_KEY_FILE");
        return -1;
    }
    if ((need == CONFIG_FOR_SERVE || need == CONFIG_FOR_TOKEN) && !c->jwt_secret &&
        c->jwt_key_kind == JWT_KEY_NONE) {
        snprintf(err, errlen,
                 "PORTAL_JWT_SECRET is required (or PORTAL_JWT_ALG with "
                 "PORTAL_JWT_PUBLIC_KEY_FILE)");
        return -1;
    }

    /* getenv, not the table's value: set but empty means "serve no pages". */
    if (!c->static_dir)
        c->static_dir =
            getenv("PORTAL_STATIC_DIR") || access("static/index.html", R_OK) != 0 ? "" : "static";

    if (!getenv("PORTAL_PER_IP_CONNECTIONS") || !*getenv("PORTAL_PER_IP_CONNECTIONS"))
        c->per_ip_connections = c->trusted_proxies.count > 0 ? 0 : PER_IP_CONNECTIONS_DIRECT;

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!c->threads)
        c->threads = cores > 0 ? (int)cores : 2;
    if (!c->hash_workers)
        c->hash_workers = cores > 1 ? (int)(cores / 2) : 1;

    if (c->orthanc_credentials && !c->orthanc_url) {
        snprintf(err, errlen, "PORTAL_ORTHANC_CREDENTIALS_FILE needs PORTAL_ORTHANC_URL");
        return -1;
    }
    if (!c->smart_authorize_url != !c->smart_token_url) {
        snprintf(err, errlen,
                 "PORTAL_SMART_AUTHORIZE_URL and PORTAL_SMART_TOKEN_URL go together: set both");
        return -1;
    }
    return notify_rules(c, err, errlen);
}

/* The notification settings that need each other. */
static int notify_rules(struct config *c, char *err, size_t errlen)
{
    const char *q = getenv("PORTAL_QUIET_HOURS");
    if (q && !*q)
        c->quiet_start[0] = c->quiet_end[0] = '\0';
    const char *needs_smtp[][2] = {{"PORTAL_SMTP_FROM", c->smtp_from},
                                   {"PORTAL_SMTP_CREDENTIALS_FILE", c->smtp_credentials},
                                   {"PORTAL_SMTP_CA_FILE", c->smtp_ca_file},
                                   {"PORTAL_STAFF_EMAIL", c->staff_email}};
    for (size_t i = 0; i < sizeof(needs_smtp) / sizeof(needs_smtp[0]); i++) {
        if (needs_smtp[i][1] && !c->smtp_url) {
            snprintf(err, errlen, "%s needs PORTAL_SMTP_URL", needs_smtp[i][0]);
            return -1;
        }
    }
    if (c->smtp_url && !c->smtp_from) {
        snprintf(err, errlen, "PORTAL_SMTP_FROM is required with PORTAL_SMTP_URL");
        return -1;
    }
    if (c->webhook_secret && !c->webhook_url) {
        snprintf(err, errlen, "PORTAL_WEBHOOK_SECRET_FILE needs PORTAL_WEBHOOK_URL");
        return -1;
    }
    if (c->webhook_url && !c->webhook_secret) {
        snprintf(err, errlen, "PORTAL_WEBHOOK_SECRET_FILE is required with PORTAL_WEBHOOK_URL");
        return -1;
    }
    if ((c->smtp_url || c->webhook_url) && !c->public_url) {
        snprintf(err, errlen,
                 "PORTAL_PUBLIC_URL is required with PORTAL_SMTP_URL or PORTAL_WEBHOOK_URL (the "
                 "link in messages)");
        return -1;
    }
    return 0;
}

static void *field(const struct config_setting *s, struct config *c)
{
    return (char *)c + s->field;
}

static int parse_string(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *(const char **)field(s, c) = value;
    return 0;
}

static int parse_int(const struct config_setting *s, const char *value, struct config *c, char *err,
                     size_t errlen)
{
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno || *end || n < s->lo || n > s->hi) {
        snprintf(err, errlen, "%s must be a whole number from %d to %d", s->name, s->lo, s->hi);
        return -1;
    }
    *(int *)field(s, c) = (int)n;
    return 0;
}

/* host:port (an IPv6 host in brackets) into host and *port, naming the variable in errors. */
static int split_host_port(const char *name, const char *value, char *host_out, size_t host_size,
                           int *port_out, char *err, size_t errlen)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value || (size_t)(colon - value) >= host_size) {
        snprintf(err, errlen, "%s must be host:port, for example 127.0.0.1:8080", name);
        return -1;
    }
    const char *host = value;
    size_t host_len = (size_t)(colon - value);
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    memcpy(host_out, host, host_len);
    host_out[host_len] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535) {
        snprintf(err, errlen, "%s must be host:port with a port from 0 to 65535", name);
        return -1;
    }
    *port_out = (int)port;
    return 0;
}

/* host:port into listen_host (the row's field) and listen_port. */
static int parse_listen(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen)
{
    return split_host_port(s->name, value, c->listen_host, sizeof(c->listen_host), &c->listen_port,
                           err, errlen);
}

/* host:port into hl7_listen_host (the row's field) and hl7_listen_port; unset leaves it off. */
static int parse_hl7_listen(const struct config_setting *s, const char *value, struct config *c,
                            char *err, size_t errlen)
{
    return split_host_port(s->name, value, c->hl7_listen_host, sizeof(c->hl7_listen_host),
                           &c->hl7_listen_port, err, errlen);
}

/* The OBX-3 sections map, checked now so that a typo stops the start, not the first report. */
static int parse_obx_map(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen)
{
    char why[160];
    if (hl7_obx_map_parse(value, &c->hl7_obx_map, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", s->name, why);
        return -1;
    }
    return 0;
}

/* An HS256 key; apply_rules records its length. */
static int parse_secret(const struct config_setting *s, const char *value, struct config *c,
                        char *err, size_t errlen)
{
    if (strlen(value) < JWT_SECRET_MIN_BYTES) {
        snprintf(err, errlen, "%s must be at least %d bytes", s->name, JWT_SECRET_MIN_BYTES);
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

static int parse_jwt_alg(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen)
{
    enum jwt_key_kind *kind = field(s, c);
    if (strcmp(value, "RS256") == 0)
        *kind = JWT_KEY_RS256;
    else if (strcmp(value, "ES256") == 0)
        *kind = JWT_KEY_ES256;
    else if (strcmp(value, "HS256") == 0)
        *kind = JWT_KEY_NONE;
    else {
        snprintf(err, errlen, "PORTAL_JWT_ALG must be RS256 or ES256 (HS256 needs no setting)");
        return -1;
    }
    return 0;
}

static int parse_language(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen)
{
    enum lang *lang = field(s, c);
    int l = strlen(value) == 2 ? i18n_lang_of_tag(value, 2) : -1;
    if (l < 0) {
        snprintf(err, errlen, "PORTAL_DEFAULT_LANGUAGE must be en, es or fr");
        return -1;
    }
    *lang = (enum lang)l;
    return 0;
}

/* The file's contents into jwt_public_key (owned, freed by config_free) and its length. Only the
 * PEM's shape is checked here; auth_init parses the key. */
static int parse_key_file(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen)
{
    (void)s;
    FILE *f = fopen(value, "rb");
    if (!f) {
        snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE cannot be read: %s", strerror(errno));
        return -1;
    }
    char *buf = malloc(PUBLIC_KEY_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PUBLIC_KEY_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n > PUBLIC_KEY_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE must hold a PEM public key");
        return -1;
    }
    buf[n] = '\0';
    if (!strstr(buf, "-----BEGIN PUBLIC KEY-----")) {
        free(buf);
        snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE must hold a PEM public key");
        return -1;
    }
    c->jwt_public_key = buf;
    c->jwt_public_key_len = n;
    return 0;
}

static int parse_proxies(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen)
{
    return netaddr_parse_list(value, field(s, c), err, errlen);
}

/* Whether value starts http:// or https:// and names a host; *host and *host_len are the part
 * up to the path. */
static bool http_url_host(const char *value, const char **host, size_t *host_len)
{
    size_t scheme = strncmp(value, "http://", 7) == 0    ? 7
                    : strncmp(value, "https://", 8) == 0 ? 8
                                                         : 0;
    *host = value + scheme;
    *host_len = strcspn(*host, "/");
    return scheme && *host_len > 0;
}

/* The PACS's base URL: http or https, a host, no credentials (they would end up in logs: they
 * belong in the credentials file), no query. */
static int parse_orthanc_url(const struct config_setting *s, const char *value, struct config *c,
                             char *err, size_t errlen)
{
    const char *host;
    size_t host_len;
    bool ok = http_url_host(value, &host, &host_len) && strlen(value) <= ORTHANC_URL_MAX;
    for (const char *p = value; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && *p != '?' && *p != '#';
    if (!ok) {
        snprintf(err, errlen,
                 "PORTAL_ORTHANC_URL must be an http:// or https:// URL, for example "
                 "http://127.0.0.1:8042");
        return -1;
    }
    if (memchr(host, '@', host_len)) {
        snprintf(err, errlen,
                 "PORTAL_ORTHANC_URL must not hold credentials: put them in "
                 "PORTAL_ORTHANC_CREDENTIALS_FILE");
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

/* An absolute https:// (or, for a test on loopback, http://) URL of the identity provider. */
static int parse_smart_url(const struct config_setting *s, const char *value, struct config *c,
                           char *err, size_t errlen)
{
    bool ok = (strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0) &&
              strlen(value) <= URL_MAX && value[strcspn(value, ":") + 3] != '\0';
    for (const char *p = value; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\';
    if (!ok) {
        snprintf(err, errlen,
                 "%s must be an https:// URL, for example https://idp.example.org/authorize",
                 s->name);
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

/* One line "user:password" (a final newline is allowed), owned by c and wiped by config_free. */
/* Reads one line of a secret file into buf (at most cap - 2 bytes, its newline dropped);
 * *n is its length, cap - 1 when the file is longer. Returns 0, or -1 with err naming the setting
 * when the file cannot be read. */
static int read_secret_line(const struct config_setting *s, const char *path, char *buf, size_t cap,
                            size_t *n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s cannot be read: %s", s->name, strerror(errno));
        return -1;
    }
    *n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[*n] = '\0';
    if (*n > 0 && buf[*n - 1] == '\n')
        buf[--*n] = '\0';
    if (*n > 0 && buf[*n - 1] == '\r')
        buf[--*n] = '\0';
    return 0;
}

static int parse_credentials_file(const struct config_setting *s, const char *value,
                                  struct config *c, char *err, size_t errlen)
{
    char *buf = calloc(1, CREDENTIALS_MAX_BYTES + 2);
    size_t n = 0;
    if (buf && read_secret_line(s, value, buf, CREDENTIALS_MAX_BYTES + 2, &n, err, errlen) < 0) {
        free(buf);
        return -1;
    }
    bool ok = buf && n > 0 && n <= CREDENTIALS_MAX_BYTES && buf[0] != ':' && strchr(buf, ':');
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)buf[i] >= ' ' && buf[i] != 0x7f;
    if (!ok) {
        if (buf) {
            explicit_bzero(buf, CREDENTIALS_MAX_BYTES + 2);
            free(buf);
        }
        snprintf(err, errlen, "%s must hold user:password on one line", s->name);
        return -1;
    }
    *(char **)field(s, c) = buf;
    return 0;
}

/* Whether value is printable ASCII without spaces, within max bytes: what may go into a URL or a
 * mail header without escaping. */
static bool plain_token(const char *value, size_t max)
{
    size_t n = strlen(value);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] <= ' ' || (unsigned char)value[i] >= 0x7f)
            return false;
    return n > 0 && n <= max;
}

/* smtp://host[:port] (STARTTLS per PORTAL_SMTP_STARTTLS) or smtps://host[:port] (TLS from the
 * start), without credentials (they belong in PORTAL_SMTP_CREDENTIALS_FILE). */
static int parse_mail_url(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen)
{
    size_t scheme = strncmp(value, "smtp://", 7) == 0    ? 7
                    : strncmp(value, "smtps://", 8) == 0 ? 8
                                                         : 0;
    if (!scheme || !plain_token(value, URL_MAX) || value[scheme] == '\0' || value[scheme] == '/') {
        snprintf(err, errlen,
                 "%s must be smtp://host:port or smtps://host:port, for example "
                 "smtp://127.0.0.1:587",
                 s->name);
        return -1;
    }
    if (strchr(value + scheme, '@')) {
        snprintf(err, errlen, "%s must not hold credentials: put them in %s_CREDENTIALS_FILE",
                 s->name, "PORTAL_SMTP");
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

/* An http:// or https:// URL with a host, without credentials, a query or a fragment. */
static int parse_http_url(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen)
{
    const char *host;
    size_t host_len;
    bool ok = http_url_host(value, &host, &host_len) && plain_token(value, URL_MAX) &&
              !strpbrk(value, "?#\"<>");
    if (!ok || memchr(host, '@', host_len)) {
        snprintf(err, errlen,
                 "%s must be an http:// or https:// URL without credentials, for example "
                 "https://results.example.org",
                 s->name);
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

/* A mail address, optionally with a display name ("Results <noreply@example.org>"): one line,
 * with an @. */
static int parse_address(const struct config_setting *s, const char *value, struct config *c,
                         char *err, size_t errlen)
{
    bool ok = strlen(value) <= 254 && strchr(value, '@') && !strpbrk(value, "\r\n");
    for (const char *p = value; ok && *p; p++)
        ok = (unsigned char)*p >= ' ' && *p != 0x7f;
    if (!ok) {
        snprintf(err, errlen, "%s must be a mail address, for example noreply@example.org",
                 s->name);
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}

static int parse_starttls(const struct config_setting *s, const char *value, struct config *c,
                          char *err, size_t errlen)
{
    if (strcmp(value, "required") == 0)
        c->smtp_starttls_required = true;
    else if (strcmp(value, "none") == 0)
        c->smtp_starttls_required = false;
    else {
        snprintf(err, errlen, "%s must be required or none", s->name);
        return -1;
    }
    return 0;
}

static int parse_ingest_codes(const struct config_setting *s, const char *value, struct config *c,
                              char *err, size_t errlen)
{
    if (strcmp(value, "in_answer") == 0)
        c->ingest_codes_on_request = false;
    else if (strcmp(value, "on_request") == 0)
        c->ingest_codes_on_request = true;
    else {
        snprintf(err, errlen, "%s must be in_answer or on_request", s->name);
        return -1;
    }
    return 0;
}

/* A Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes, on one line. The
 * decoded key is kept (owned, wiped by config_free). */
static int parse_webhook_secret(const struct config_setting *s, const char *value, struct config *c,
                                char *err, size_t errlen)
{
    char text[256] = {0};
    size_t n = 0;
    if (read_secret_line(s, value, text, sizeof(text), &n, err, errlen) < 0)
        return -1;
    unsigned char *key = malloc(sizeof(text));
    int len = -1;
    size_t b64 = n > 6 ? n - 6 : 0;
    if (key && strncmp(text, "whsec_", 6) == 0 && b64 % 4 == 0 && b64 > 0)
        len = EVP_DecodeBlock(key, (const unsigned char *)text + 6, (int)b64);
    /* EVP_DecodeBlock counts the padding's zero bytes in. */
    for (size_t i = n; len > 0 && i > 6 && text[i - 1] == '='; i--)
        len--;
    explicit_bzero(text, sizeof(text));
    if (len < 24 || len > 64) {
        if (key) {
            explicit_bzero(key, sizeof(text));
            free(key);
        }
        snprintf(err, errlen, "%s must hold whsec_ and the base64 of 24 to 64 random bytes",
                 s->name);
        return -1;
    }
    c->webhook_secret = key;
    c->webhook_secret_len = (size_t)len;
    return 0;
}

/* HH:MM-HH:MM into quiet_start and quiet_end ("21:00", "08:00"). */
static int parse_quiet_hours(const struct config_setting *s, const char *value, struct config *c,
                             char *err, size_t errlen)
{
    unsigned h1, m1, h2, m2;
    char tail;
    if (sscanf(value, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 > 23 || h2 > 23 ||
        m1 > 59 || m2 > 59 || strlen(value) != 11 || (h1 == h2 && m1 == m2)) {
        snprintf(err, errlen, "%s must be HH:MM-HH:MM, for example 21:00-08:00 (empty: none)",
                 s->name);
        return -1;
    }
    snprintf(c->quiet_start, sizeof(c->quiet_start), "%02u:%02u", h1, m1);
    snprintf(c->quiet_end, sizeof(c->quiet_end), "%02u:%02u", h2, m2);
    return 0;
}

/* A time zone name the system knows (/usr/share/zoneinfo, which PostgreSQL on Debian reads too):
 * a file there, not a directory such as Europe, which PostgreSQL would refuse in every estimate.
 * Every session of portald gets it as a startup option, where a backslash would need escaping. */
static int parse_time_zone(const struct config_setting *s, const char *value, struct config *c,
                           char *err, size_t errlen)
{
    char path[160];
    struct stat st;
    bool ok =
        plain_token(value, 64) && !strstr(value, "..") && value[0] != '/' && !strpbrk(value, "\\'");
    if (ok) {
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", value);
        ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "%s must be a time zone name, for example Europe/Paris or UTC",
                 s->name);
        return -1;
    }
    return parse_string(s, value, c, err, errlen);
}
