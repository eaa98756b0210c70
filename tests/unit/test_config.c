/* Start-up configuration: each bad or missing PORTAL_* variable stops start-up with its own exact
 * one-line message, and the defaults are what README promises. */
#include "../../server/config.c"

#include <stdio.h>
#include <unistd.h>

#include "testhelp.h"

#define SECRET "config-test-secret-0123456789abcdef"

extern char **environ;

static char dir[] = "/tmp/portal-config-test.XXXXXX";
static char pem_path[300], junk_path[300], empty_path[300];

static void reset(void)
{
    /* Unsetting shifts environ, so start over after each removal. */
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "PORTAL_", 7) == 0) {
                char name[128];
                size_t n = strcspn(*e, "=");
                snprintf(name, sizeof(name), "%.*s", (int)n, *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
    setenv("PORTAL_DATABASE_URL", "host=/nowhere dbname=portal", 1);
    setenv("PORTAL_JWT_SECRET", SECRET, 1);
}

/* Loads with one variable set (value NULL: removed) and checks the message. */
static void expect(enum config_need need, const char *name, const char *value, const char *want)
{
    struct config c;
    char err[256];
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
    int rc = config_load(&c, need, err, sizeof(err));
    if (want) {
        CHECK(rc == -1);
        CHECK_STR(err, want);
        CHECK(strchr(err, '\n') == NULL);
    } else {
        CHECK(rc == 0);
        if (rc)
            printf("# %s=%s: %s\n", name, value ? value : "(unset)", err);
    }
    config_free(&c);
    reset();
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void required(void)
{
    expect(CONFIG_FOR_SERVE, "PORTAL_DATABASE_URL", NULL,
           "PORTAL_DATABASE_URL is required (a libpq connection string or URI)");
    expect(CONFIG_FOR_SERVE, "PORTAL_DATABASE_URL", "",
           "PORTAL_DATABASE_URL is required (a libpq connection string or URI)");
    expect(CONFIG_FOR_MIGRATE, "PORTAL_DATABASE_URL", NULL,
           "PORTAL_MIGRATE_DATABASE_URL or PORTAL_DATABASE_URL is required for migrate");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_SECRET", NULL,
           "PORTAL_JWT_SECRET is required (or PORTAL_JWT_ALG with PORTAL_JWT_PUBLIC_KEY_FILE)");
    expect(CONFIG_FOR_TOKEN, "PORTAL_JWT_SECRET", NULL,
           "PORTAL_JWT_SECRET is required (or PORTAL_JWT_ALG with PORTAL_JWT_PUBLIC_KEY_FILE)");
    /* migrate needs no key at all. */
    expect(CONFIG_FOR_MIGRATE, "PORTAL_JWT_SECRET", NULL, NULL);
}

static void listen_values(void)
{
    const char *host_port = "PORTAL_LISTEN must be host:port, for example 127.0.0.1:8080";
    const char *port = "PORTAL_LISTEN must be host:port with a port from 0 to 65535";
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "nope", host_port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", ":8080", host_port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "127.0.0.1:", port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "127.0.0.1:65536", port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "127.0.0.1:-1", port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "127.0.0.1:80x", port);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "127.0.0.1:0", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_LISTEN", "[::1]:8080", NULL);
    struct config c;
    char err[256];
    setenv("PORTAL_LISTEN", "[::1]:9090", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK_STR(c.listen_host, "::1");
    CHECK(c.listen_port == 9090);
    reset();
}

static void secrets_and_keys(void)
{
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_SECRET", "short",
           "PORTAL_JWT_SECRET must be at least 32 bytes");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_SECRET", "0123456789abcdef0123456789abcde",
           "PORTAL_JWT_SECRET must be at least 32 bytes");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_SECRET", "0123456789abcdef0123456789abcdef", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PREVIOUS_SECRET", "old",
           "PORTAL_JWT_PREVIOUS_SECRET must be at least 32 bytes");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_ALG", "none",
           "PORTAL_JWT_ALG must be RS256 or ES256 (HS256 needs no setting)");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_ALG", "rs256",
           "PORTAL_JWT_ALG must be RS256 or ES256 (HS256 needs no setting)");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_ALG", "HS256", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_ALG", "RS256",
           "PORTAL_JWT_PUBLIC_KEY_FILE is required when PORTAL_JWT_ALG is RS256");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_ALG", "ES256",
           "PORTAL_JWT_PUBLIC_KEY_FILE is required when PORTAL_JWT_ALG is ES256");
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PUBLIC_KEY_FILE", pem_path,
           "PORTAL_JWT_ALG (RS256 or ES256) is required with PORTAL_JWT_PUBLIC_KEY_FILE");

    setenv("PORTAL_JWT_ALG", "RS256", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PUBLIC_KEY_FILE", "/nonexistent/key.pem",
           "PORTAL_JWT_PUBLIC_KEY_FILE cannot be read: No such file or directory");
    setenv("PORTAL_JWT_ALG", "RS256", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PUBLIC_KEY_FILE", junk_path,
           "PORTAL_JWT_PUBLIC_KEY_FILE must hold a PEM public key");
    setenv("PORTAL_JWT_ALG", "RS256", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PUBLIC_KEY_FILE", empty_path,
           "PORTAL_JWT_PUBLIC_KEY_FILE must hold a PEM public key");
    setenv("PORTAL_JWT_ALG", "RS256", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_JWT_PUBLIC_KEY_FILE", dir,
           "PORTAL_JWT_PUBLIC_KEY_FILE must hold a PEM public key");

    /* A public key alone is enough for serve. */
    struct config c;
    char err[256];
    unsetenv("PORTAL_JWT_SECRET");
    setenv("PORTAL_JWT_ALG", "ES256", 1);
    setenv("PORTAL_JWT_PUBLIC_KEY_FILE", pem_path, 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.jwt_key_kind == JWT_KEY_ES256 && c.jwt_public_key && c.jwt_secret == NULL);
    config_free(&c);
    reset();
}

static void numbers(void)
{
    static const struct {
        const char *name;
        const char *bad;
        const char *good;
        const char *msg;
    } cases[] = {
        {"PORTAL_THREADS", "0", "4", "PORTAL_THREADS must be a whole number from 1 to 256"},
        {"PORTAL_THREADS", "257", "256", "PORTAL_THREADS must be a whole number from 1 to 256"},
        {"PORTAL_THREADS", "two", "2", "PORTAL_THREADS must be a whole number from 1 to 256"},
        {"PORTAL_THREADS", "2 ", "2", "PORTAL_THREADS must be a whole number from 1 to 256"},
        {"PORTAL_MAX_CONNECTIONS", "0", "100",
         "PORTAL_MAX_CONNECTIONS must be a whole number from 1 to 1000000"},
        {"PORTAL_PER_IP_CONNECTIONS", "-1", "0",
         "PORTAL_PER_IP_CONNECTIONS must be a whole number from 0 to 1000000"},
        {"PORTAL_IDLE_TIMEOUT", "0", "30",
         "PORTAL_IDLE_TIMEOUT must be a whole number from 1 to 86400"},
        {"PORTAL_CONNECTION_MEMORY", "4095", "8192",
         "PORTAL_CONNECTION_MEMORY must be a whole number from 4096 to 1048576"},
        {"PORTAL_SESSION_TTL", "59", "60",
         "PORTAL_SESSION_TTL must be a whole number from 60 to 86400"},
        {"PORTAL_SESSION_TTL", "99999999999999999999", "86400",
         "PORTAL_SESSION_TTL must be a whole number from 60 to 86400"},
        {"PORTAL_DB_CONNECT_TIMEOUT", "61", "60",
         "PORTAL_DB_CONNECT_TIMEOUT must be a whole number from 1 to 60"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect(CONFIG_FOR_SERVE, cases[i].name, cases[i].bad, cases[i].msg);
        expect(CONFIG_FOR_SERVE, cases[i].name, cases[i].good, NULL);
    }
}

static void defaults(void)
{
    struct config c;
    char err[256];
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK_STR(c.listen_host, "127.0.0.1");
    CHECK(c.listen_port == 8080);
    CHECK_STR(c.jwt_issuer, "portal");
    CHECK_STR(c.jwt_audience, "portal");
    CHECK(c.session_ttl == 1800);
    CHECK(c.connection_memory == 5632);
    CHECK(c.threads >= 1);
    CHECK(c.jwt_key_kind == JWT_KEY_NONE);
    CHECK_STR(c.migrate_url, c.database_url);
    config_free(&c);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(pem_path, sizeof(pem_path), "%s/key.pem", dir);
    snprintf(junk_path, sizeof(junk_path), "%s/junk.pem", dir);
    snprintf(empty_path, sizeof(empty_path), "%s/empty.pem", dir);
    /* Config only checks the PEM's shape; auth_init parses the key itself. */
    write_file(pem_path, "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n");
    write_file(junk_path, "not a key\n");
    write_file(empty_path, "");
    reset();
    required();
    listen_values();
    secrets_and_keys();
    numbers();
    defaults();
    unlink(pem_path);
    unlink(junk_path);
    unlink(empty_path);
    rmdir(dir);
    return testhelp_done();
}
