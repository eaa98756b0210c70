/* Configuration from PORTAL_* environment variables: parsed and validated once, at start-up. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JWT_SECRET_MIN_BYTES 32

/* libmicrohttpd's memory pool per connection: it holds the request head and the answer's headers.
 * 0.9.75 zeroes the whole pool when a keep-alive request ends, so every idle connection keeps all
 * of it resident: 5.5 KiB costs ~6.2 KB per connection, 59 MiB for 10,000 idle ones (issue 8:
 * at most 64 MB; 16 KiB cost 161 MiB). The price: a request head over ~2.7 KB (a token and
 * cookies together) gets libmicrohttpd's own 431, so a site whose identity provider issues large
 * tokens raises PORTAL_CONNECTION_MEMORY (8192 allows ~4 KB; docs/performance.md). */
#define CONNECTION_MEMORY_DEFAULT 5632
#define PUBLIC_KEY_MAX_BYTES      65536

static int parse_int(const char *name, int def, int lo, int hi, int *out, char *err, size_t errlen);
static int parse_listen(const char *value, struct config *c, char *err, size_t errlen);
static int read_key_file(const char *path, struct config *c, char *err, size_t errlen);

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

int config_load(struct config *c, enum config_need need, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    err[0] = '\0';

    c->database_url = env("PORTAL_DATABASE_URL");
    c->database_read_url = env("PORTAL_DATABASE_READ_URL");
    c->migrate_url = env("PORTAL_MIGRATE_DATABASE_URL");
    if (!c->migrate_url)
        c->migrate_url = c->database_url;
    if (need == CONFIG_FOR_SERVE && !c->database_url) {
        snprintf(err, errlen, "PORTAL_DATABASE_URL is required (a libpq connection string or URI)");
        return -1;
    }
    if (need == CONFIG_FOR_MIGRATE && !c->migrate_url) {
        snprintf(err, errlen,
                 "PORTAL_MIGRATE_DATABASE_URL or PORTAL_DATABASE_URL is required for migrate");
        return -1;
    }

    const char *listen = env("PORTAL_LISTEN");
    if (parse_listen(listen ? listen : "127.0.0.1:8080", c, err, errlen) < 0)
        return -1;

    c->jwt_secret = env("PORTAL_JWT_SECRET");
    if (c->jwt_secret) {
        c->jwt_secret_len = strlen(c->jwt_secret);
        if (c->jwt_secret_len < JWT_SECRET_MIN_BYTES) {
            snprintf(err, errlen, "PORTAL_JWT_SECRET must be at least %d bytes",
                     JWT_SECRET_MIN_BYTES);
            return -1;
        }
    }
    c->jwt_previous_secret = env("PORTAL_JWT_PREVIOUS_SECRET");
    if (c->jwt_previous_secret) {
        c->jwt_previous_secret_len = strlen(c->jwt_previous_secret);
        if (c->jwt_previous_secret_len < JWT_SECRET_MIN_BYTES) {
            snprintf(err, errlen, "PORTAL_JWT_PREVIOUS_SECRET must be at least %d bytes",
                     JWT_SECRET_MIN_BYTES);
            return -1;
        }
    }

    const char *alg = env("PORTAL_JWT_ALG");
    const char *key_file = env("PORTAL_JWT_PUBLIC_KEY_FILE");
    if (alg) {
        if (strcmp(alg, "RS256") == 0)
            c->jwt_key_kind = JWT_KEY_RS256;
        else if (strcmp(alg, "ES256") == 0)
            c->jwt_key_kind = JWT_KEY_ES256;
        else if (strcmp(alg, "HS256") != 0) {
            snprintf(err, errlen, "PORTAL_JWT_ALG must be RS256 or ES256 (HS256 needs no setting)");
            return -1;
        }
    }
    if (c->jwt_key_kind != JWT_KEY_NONE && !key_file) {
        snprintf(err, errlen, "PORTAL_JWT_PUBLIC_KEY_FILE is required when PORTAL_JWT_ALG is %s",
                 alg);
        return -1;
    }
    if (key_file && c->jwt_key_kind == JWT_KEY_NONE) {
        snprintf(err, errlen,
                 "PORTAL_JWT_ALG (RS256 or ES256) is required with "
                 "PORTAL_JWT_PUBLIC_KEY_FILE");
        return -1;
    }
    if (key_file && read_key_file(key_file, c, err, errlen) < 0)
        return -1;

    if ((need == CONFIG_FOR_SERVE || need == CONFIG_FOR_TOKEN) && !c->jwt_secret &&
        c->jwt_key_kind == JWT_KEY_NONE) {
        snprintf(err, errlen,
                 "PORTAL_JWT_SECRET is required (or PORTAL_JWT_ALG with "
                 "PORTAL_JWT_PUBLIC_KEY_FILE)");
        return -1;
    }
    c->jwt_issuer = env("PORTAL_JWT_ISSUER");
    c->jwt_audience = env("PORTAL_JWT_AUDIENCE");
    if (!c->jwt_issuer)
        c->jwt_issuer = "portal";
    if (!c->jwt_audience)
        c->jwt_audience = "portal";

    if (netaddr_parse_list(env("PORTAL_TRUSTED_PROXIES"), &c->trusted_proxies, err, errlen) < 0)
        return -1;

    c->public_origin = env("PORTAL_PUBLIC_ORIGIN");
    c->static_dir = getenv("PORTAL_STATIC_DIR");
    if (!c->static_dir)
        c->static_dir = access("static/index.html", R_OK) == 0 ? "static" : "";

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (parse_int("PORTAL_THREADS", cores > 0 ? (int)cores : 2, 1, 256, &c->threads, err, errlen) <
            0 ||
        parse_int("PORTAL_MAX_CONNECTIONS", 16384, 1, 1000000, &c->max_connections, err, errlen) <
            0 ||
        parse_int("PORTAL_PER_IP_CONNECTIONS", 0, 0, 1000000, &c->per_ip_connections, err, errlen) <
            0 ||
        parse_int("PORTAL_IDLE_TIMEOUT", 60, 1, 86400, &c->idle_timeout, err, errlen) < 0 ||
        parse_int("PORTAL_CONNECTION_MEMORY", CONNECTION_MEMORY_DEFAULT, 4096, 1048576,
                  &c->connection_memory, err, errlen) < 0 ||
        parse_int("PORTAL_SESSION_TTL", 1800, 60, 86400, &c->session_ttl, err, errlen) < 0 ||
        parse_int("PORTAL_DB_CONNECT_TIMEOUT", 2, 1, 60, &c->db_connect_timeout, err, errlen) < 0 ||
        parse_int("PORTAL_ESTIMATES_REFRESH", 300, 1, 86400, &c->estimates_refresh, err, errlen) <
            0 ||
        parse_int("PORTAL_ESTIMATES_WINDOW_DAYS", 90, 7, 3650, &c->estimates_window_days, err,
                  errlen) < 0)
        return -1;
    /* 0 turns the release sweep off on this instance (another instance may run it), and 0 MB
     * keeps no pages. */
    if (parse_int("PORTAL_RELEASE_SWEEP", 60, 0, 86400, &c->release_sweep, err, errlen) < 0 ||
        parse_int("PORTAL_PAGE_CACHE_MB", 64, 0, 65536, &c->page_cache_mb, err, errlen) < 0 ||
        parse_int("PORTAL_PAGE_CACHE_TTL", 60, 1, 3600, &c->page_cache_ttl, err, errlen) < 0)
        return -1;
    return 0;
}

void config_free(struct config *c)
{
    free(c->jwt_public_key);
    c->jwt_public_key = NULL;
}

static int parse_int(const char *name, int def, int lo, int hi, int *out, char *err, size_t errlen)
{
    const char *v = env(name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < lo || n > hi) {
        snprintf(err, errlen, "%s must be a whole number from %d to %d", name, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int parse_listen(const char *value, struct config *c, char *err, size_t errlen)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value || (size_t)(colon - value) >= sizeof(c->listen_host)) {
        snprintf(err, errlen, "PORTAL_LISTEN must be host:port, for example 127.0.0.1:8080");
        return -1;
    }
    const char *host = value;
    size_t host_len = (size_t)(colon - value);
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    memcpy(c->listen_host, host, host_len);
    c->listen_host[host_len] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535) {
        snprintf(err, errlen, "PORTAL_LISTEN must be host:port with a port from 0 to 65535");
        return -1;
    }
    c->listen_port = (int)port;
    return 0;
}

static int read_key_file(const char *path, struct config *c, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
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
