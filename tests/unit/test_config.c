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
    CHECK(!c.ingest_codes_on_request);
    CHECK(c.threads >= 1);
    CHECK(c.jwt_key_kind == JWT_KEY_NONE);
    CHECK_STR(c.migrate_url, c.database_url);
    config_free(&c);
}

static void ingest_access_codes(void)
{
    const char *msg = "PORTAL_INGEST_ACCESS_CODES must be in_answer or on_request";
    expect(CONFIG_FOR_SERVE, "PORTAL_INGEST_ACCESS_CODES", "on-request", msg);
    expect(CONFIG_FOR_SERVE, "PORTAL_INGEST_ACCESS_CODES", "in_answer", NULL);
    struct config c;
    char err[256];
    setenv("PORTAL_INGEST_ACCESS_CODES", "on_request", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.ingest_codes_on_request);
    config_free(&c);
    reset();
}

/* A load that fails after the key file was read frees it itself: this caller never calls
 * config_free, so LeakSanitizer would report the key. */
static void nothing_to_free_after_an_error(void)
{
    struct config c;
    char err[256];
    setenv("PORTAL_JWT_ALG", "RS256", 1);
    setenv("PORTAL_JWT_PUBLIC_KEY_FILE", pem_path, 1);
    setenv("PORTAL_PAGE_CACHE_TTL", "0", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == -1);
    CHECK_STR(err, "PORTAL_PAGE_CACHE_TTL must be a whole number from 1 to 3600");
    CHECK(c.jwt_public_key == NULL);
    reset();
}

/* The defaults that rules derive rather than the table: the migrations directory (read here since
 * it moved from main.c into the table) and the pages directory, where empty means "none". */
static void derived_defaults(void)
{
    struct config c;
    char err[256];
    CHECK(config_load(&c, CONFIG_FOR_MIGRATE, err, sizeof(err)) == 0);
    CHECK_STR(c.migrations_dir, "sql/migrations");
    /* Tests run from the repository root, which has static/index.html. */
    CHECK_STR(c.static_dir, "static");
    config_free(&c);
    setenv("PORTAL_MIGRATIONS_DIR", "/usr/local/share/portal/sql/migrations", 1);
    setenv("PORTAL_STATIC_DIR", "", 1);
    CHECK(config_load(&c, CONFIG_FOR_MIGRATE, err, sizeof(err)) == 0);
    CHECK_STR(c.migrations_dir, "/usr/local/share/portal/sql/migrations");
    CHECK_STR(c.static_dir, "");
    config_free(&c);
    reset();
    /* Reached directly, one address holds 64 connections at most; behind a proxy, no limit. */
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.per_ip_connections == 64);
    config_free(&c);
    setenv("PORTAL_TRUSTED_PROXIES", "127.0.0.1", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.per_ip_connections == 0);
    config_free(&c);
    setenv("PORTAL_PER_IP_CONNECTIONS", "5", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.per_ip_connections == 5);
    config_free(&c);
    reset();
}

/* The PACS follower's settings: a URL without credentials, the credentials from their file (kept,
 * wiped by config_free), a bounded poll interval. */
static void orthanc_settings(void)
{
    const char *url = "PORTAL_ORTHANC_URL must be an http:// or https:// URL, for example "
                      "http://127.0.0.1:8042";
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "127.0.0.1:8042", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "ftp://pacs", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http://", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http:///changes", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http://pacs:8042/?x=1", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http://pacs 8042", url);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http://user:pw@pacs:8042",
           "PORTAL_ORTHANC_URL must not hold credentials: put them in "
           "PORTAL_ORTHANC_CREDENTIALS_FILE");
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "https://pacs.example.org/orthanc/", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_URL", "http://[::1]:8042", NULL);

    char creds[300], bad[300], blank[300];
    snprintf(creds, sizeof(creds), "%s/orthanc-credentials", dir);
    snprintf(bad, sizeof(bad), "%s/orthanc-bad", dir);
    snprintf(blank, sizeof(blank), "%s/orthanc-blank", dir);
    write_file(creds, "portal:pass word:with colon\n");
    write_file(blank, "\n");
    const char *line = "PORTAL_ORTHANC_CREDENTIALS_FILE must hold user:password on one line";
    setenv("PORTAL_ORTHANC_URL", "http://127.0.0.1:8042", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_CREDENTIALS_FILE", "/nonexistent/orthanc",
           "PORTAL_ORTHANC_CREDENTIALS_FILE cannot be read: No such file or directory");
    static const char *const bad_contents[] = {"no colon\n", ":password\n", "a:b\nc:d\n",
                                               "a:b\tc\n"};
    for (size_t i = 0; i < sizeof(bad_contents) / sizeof(bad_contents[0]); i++) {
        write_file(bad, bad_contents[i]);
        setenv("PORTAL_ORTHANC_URL", "http://127.0.0.1:8042", 1);
        expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_CREDENTIALS_FILE", bad, line);
    }
    setenv("PORTAL_ORTHANC_URL", "http://127.0.0.1:8042", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_CREDENTIALS_FILE", blank, line);
    setenv("PORTAL_ORTHANC_URL", "http://127.0.0.1:8042", 1);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_CREDENTIALS_FILE", dir, line);
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_CREDENTIALS_FILE", creds,
           "PORTAL_ORTHANC_CREDENTIALS_FILE needs PORTAL_ORTHANC_URL");

    struct config c;
    char err[256];
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK(c.orthanc_url == NULL && c.orthanc_credentials == NULL && c.orthanc_poll == 2);
    config_free(&c);
    setenv("PORTAL_ORTHANC_URL", "http://127.0.0.1:8042", 1);
    setenv("PORTAL_ORTHANC_CREDENTIALS_FILE", creds, 1);
    setenv("PORTAL_ORTHANC_POLL", "10", 1);
    CHECK(config_load(&c, CONFIG_FOR_SERVE, err, sizeof(err)) == 0);
    CHECK_STR(c.orthanc_url, "http://127.0.0.1:8042");
    CHECK_STR(c.orthanc_credentials, "portal:pass word:with colon");
    CHECK(c.orthanc_poll == 10);
    config_free(&c);
    CHECK(c.orthanc_credentials == NULL);
    reset();
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_POLL", "0",
           "PORTAL_ORTHANC_POLL must be a whole number from 1 to 3600");
    expect(CONFIG_FOR_SERVE, "PORTAL_ORTHANC_POLL", "3601",
           "PORTAL_ORTHANC_POLL must be a whole number from 1 to 3600");
    unlink(creds);
    unlink(bad);
    unlink(blank);
}

static int is_int_row(const struct config_setting *s)
{
    return s->parse == parse_int;
}

/* The table itself, like the route table's test: every row is whole and no two collide. */
static void table_rows(void)
{
    CHECK(config_settings_count > 0);
    for (size_t i = 0; i < config_settings_count; i++) {
        const struct config_setting *s = &config_settings[i];
        int ok = s->name && strncmp(s->name, "PORTAL_", 7) == 0 && s->parse &&
                 s->field < sizeof(struct config) && (!s->need || s->what);
        CHECK(ok);
        if (!ok)
            printf("# row %zu (%s) lacks a PORTAL_ name, a parser, a field or its what\n", i,
                   s->name ? s->name : "(null)");
        if (is_int_row(s) && s->def) {
            char *end;
            long def = strtol(s->def, &end, 10);
            ok = s->lo <= s->hi && *end == '\0' && def >= s->lo && def <= s->hi;
            CHECK(ok);
            if (!ok)
                printf("# %s: default %s outside %d to %d\n", s->name, s->def, s->lo, s->hi);
        }
        for (size_t j = i + 1; j < config_settings_count; j++) {
            const struct config_setting *t = &config_settings[j];
            ok = strcmp(s->name, t->name) != 0 && s->field != t->field;
            CHECK(ok);
            if (!ok)
                printf("# rows %s and %s share a name or a field\n", s->name, t->name);
        }
    }
    /* Only PORTAL_THREADS and PORTAL_HASH_WORKERS (from the machine) and
     * PORTAL_PER_IP_CONNECTIONS (from PORTAL_TRUSTED_PROXIES), of the numbers, take their
     * defaults from elsewhere. */
    for (size_t i = 0; i < config_settings_count; i++)
        if (is_int_row(&config_settings[i]) && !config_settings[i].def)
            CHECK(strcmp(config_settings[i].name, "PORTAL_THREADS") == 0 ||
                  strcmp(config_settings[i].name, "PORTAL_HASH_WORKERS") == 0 ||
                  strcmp(config_settings[i].name, "PORTAL_PER_IP_CONNECTIONS") == 0);
}

/* Defaults that apply_rules derives, with the words README uses for them. */
static const struct {
    const char *name;
    const char *readme;
} derived[] = {
    {"PORTAL_MIGRATE_DATABASE_URL", "`PORTAL_DATABASE_URL`"},
    {"PORTAL_STATIC_DIR", "`static` if `static/index.html` exists, else none"},
    {"PORTAL_THREADS", "number of cores"},
    {"PORTAL_HASH_WORKERS", "half the cores, at least 1"},
    {"PORTAL_PER_IP_CONNECTIONS", "`64` without `PORTAL_TRUSTED_PROXIES`, else `0` (no limit)"},
};

static const struct config_setting *setting(const char *name)
{
    for (size_t i = 0; i < config_settings_count; i++)
        if (strcmp(config_settings[i].name, name) == 0)
            return &config_settings[i];
    return NULL;
}

/* Copies the markdown cell that starts at p (just after a '|') into out, trimmed; returns the
 * position after the cell's closing '|', or NULL when there is none. */
static const char *cell(const char *p, char *out, size_t outlen)
{
    const char *bar = strchr(p, '|');
    const char *nl = strchr(p, '\n');
    if (!bar || (nl && nl < bar))
        return NULL;
    const char *a = p, *b = bar;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    snprintf(out, outlen, "%.*s", (int)(b - a), a);
    return bar + 1;
}

/* Checks one README row against the table; returns whether it names a known setting. */
static int readme_row(const char *name, const char *def, const char *meaning)
{
    const struct config_setting *s = setting(name);
    CHECK(s != NULL);
    if (!s) {
        printf("# README's %s is not in config.c's table\n", name);
        return 0;
    }
    const char *want = NULL;
    for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
        if (strcmp(derived[i].name, name) == 0)
            want = derived[i].readme;
    int ok;
    char literal[128];
    if (s->def) {
        /* `5632`, or `0` (no limit): the table's text in backticks, perhaps with a remark. */
        size_t n = (size_t)snprintf(literal, sizeof(literal), "`%s`", s->def);
        ok = !want && strncmp(def, literal, n) == 0 && (def[n] == '\0' || def[n] == ' ');
    } else if (want) {
        ok = strcmp(def, want) == 0;
    } else {
        /* (none), (required for `serve`), (HS256 only): no value of its own. */
        ok = def[0] == '(';
    }
    CHECK(ok);
    if (!ok)
        printf("# %s: README's default is \"%s\" but config.c's is %s%s%s\n", name, def,
               s->def ? "\"" : "",
               s->def ? s->def
               : want ? want
                      : "none",
               s->def ? "\"" : "");
    if (s->need) {
        ok = strncmp(def, "(required", 9) == 0;
        CHECK(ok);
        if (!ok)
            printf("# %s is required by config.c but README's default is \"%s\"\n", name, def);
    }
    if (is_int_row(s)) {
        char range[64];
        snprintf(range, sizeof(range), "(%d to %d", s->lo, s->hi);
        ok = strstr(meaning, range) != NULL;
        CHECK(ok);
        if (!ok)
            printf("# %s: README does not state the range %d to %d as \"%s\"\n", name, s->lo, s->hi,
                   range);
    }
    return 1;
}

/* Every session of portald passes the zone on to PostgreSQL: a directory of zones or a name that
 * would need quoting is refused here, not in every estimate. */
static void time_zones(void)
{
    const char *want = "PORTAL_TIME_ZONE must be a time zone name, for example Europe/Paris or UTC";
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "Europe/Paris", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "Etc/GMT-3", NULL);
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "Europe", want);
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "Mars/Olympus", want);
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "../zoneinfo/UTC", want);
    expect(CONFIG_FOR_SERVE, "PORTAL_TIME_ZONE", "Europe/Paris'", want);
}

/* README's configuration table and config.c's table name the same variables, with the same
 * defaults and, for numbers, the same ranges. PORTAL_PG_PORT, which README mentions below the
 * table, is read by scripts/run.sh for make run's private cluster, not by portald. */
static void readme_matches_table(void)
{
    FILE *f = fopen("README.md", "rb");
    CHECK(f != NULL);
    if (!f) {
        printf("# README.md not found: run from the repository root\n");
        return;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strstr(text, "\n## Configuration\n");
    CHECK(p != NULL);
    if (!p)
        return;
    p++;
    const char *end = strstr(p + 1, "\n## ");
    size_t seen[64] = {0};
    CHECK(config_settings_count <= sizeof(seen) / sizeof(seen[0]));
    size_t rows = 0;
    for (; p && (!end || p < end); p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "| `PORTAL_", 10) != 0)
            continue;
        char name[128], def[256], meaning[1024];
        const char *q = cell(p + 1, name, sizeof(name));
        q = q ? cell(q, def, sizeof(def)) : NULL;
        q = q ? cell(q, meaning, sizeof(meaning)) : NULL;
        size_t len = strlen(name);
        int ok = q && len > 2 && name[0] == '`' && name[len - 1] == '`';
        CHECK(ok);
        if (!ok) {
            printf("# README's configuration row is not | `NAME` | default | meaning |: %.60s\n",
                   p);
            continue;
        }
        name[len - 1] = '\0';
        rows++;
        if (readme_row(name + 1, def, meaning)) {
            size_t i = (size_t)(setting(name + 1) - config_settings);
            if (i < sizeof(seen) / sizeof(seen[0]))
                seen[i]++;
        }
    }
    CHECK(rows > 0);
    for (size_t i = 0; i < config_settings_count && i < sizeof(seen) / sizeof(seen[0]); i++) {
        CHECK(seen[i] == 1);
        if (seen[i] != 1)
            printf("# %s is in README's configuration table %zu times, not once\n",
                   config_settings[i].name, seen[i]);
    }
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
    ingest_access_codes();
    nothing_to_free_after_an_error();
    derived_defaults();
    table_rows();
    readme_matches_table();
    orthanc_settings();
    time_zones();
    unlink(pem_path);
    unlink(junk_path);
    unlink(empty_path);
    rmdir(dir);
    return testhelp_done();
}
