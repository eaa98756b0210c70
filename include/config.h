/* Configuration from PORTAL_* environment variables, validated once at start-up. */
#ifndef PORTAL_CONFIG_H
#define PORTAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "hl7_map.h"
#include "i18n.h"
#include "netaddr.h"

enum jwt_key_kind { JWT_KEY_NONE, JWT_KEY_RS256, JWT_KEY_ES256 };

struct config {
    const char *database_url; /* PORTAL_DATABASE_URL (required for serve) */
    const char *migrate_url;  /* PORTAL_MIGRATE_DATABASE_URL, default database_url */
    char listen_host[64];     /* PORTAL_LISTEN host part */
    int listen_port;          /* PORTAL_LISTEN port part; 0 picks a free port */
    const char *jwt_secret;   /* PORTAL_JWT_SECRET, >= 32 bytes */
    size_t jwt_secret_len;
    const char
        *jwt_previous_secret; /* PORTAL_JWT_PREVIOUS_SECRET: still accepted, never used to sign */
    size_t jwt_previous_secret_len;
    enum jwt_key_kind jwt_key_kind; /* PORTAL_JWT_ALG */
    char *jwt_public_key;           /* contents of PORTAL_JWT_PUBLIC_KEY_FILE (owned) */
    size_t jwt_public_key_len;
    const char *jwt_issuer;    /* PORTAL_JWT_ISSUER */
    const char *jwt_audience;  /* PORTAL_JWT_AUDIENCE */
    int session_ttl;           /* PORTAL_SESSION_TTL seconds */
    const char *public_origin; /* PORTAL_PUBLIC_ORIGIN: allowed Origin for cookie writes */
    /* PORTAL_SMART_AUTHORIZE_URL and PORTAL_SMART_TOKEN_URL: the site's identity provider, as
     * /.well-known/smart-configuration names it to SMART apps; NULL: none configured. */
    const char *smart_authorize_url;
    const char *smart_token_url;
    const char *static_dir;     /* PORTAL_STATIC_DIR; empty: do not serve pages */
    enum lang default_language; /* PORTAL_DEFAULT_LANGUAGE: without a choice or Accept-Language */
    int threads;                /* PORTAL_THREADS */
    int hash_workers;           /* PORTAL_HASH_WORKERS: threads of the argon2id pool */
    int hash_queue;             /* PORTAL_HASH_QUEUE: sign-ins waiting for it, at most */
    /* PORTAL_INGEST_ACCESS_CODES: on_request (true): a patient created by JSON ingest gets no
     * access code until the front desk issues one; in_answer (false): the ingest answer has it. */
    bool ingest_codes_on_request;
    int max_connections;       /* PORTAL_MAX_CONNECTIONS */
    int per_ip_connections;    /* PORTAL_PER_IP_CONNECTIONS */
    int idle_timeout;          /* PORTAL_IDLE_TIMEOUT seconds */
    int head_timeout;          /* PORTAL_HEAD_TIMEOUT seconds from connect to a complete head */
    int body_timeout;          /* PORTAL_BODY_TIMEOUT seconds from the head to the body's end */
    const char *metrics_token; /* PORTAL_METRICS_TOKEN: Bearer token for /metrics; NULL: loopback */
    int connection_memory;     /* PORTAL_CONNECTION_MEMORY bytes per connection */
    int db_connect_timeout;    /* PORTAL_DB_CONNECT_TIMEOUT seconds */
    int estimates_refresh;     /* PORTAL_ESTIMATES_REFRESH seconds between estimate refreshes */
    int estimates_window_days; /* PORTAL_ESTIMATES_WINDOW_DAYS of history the estimates use */
    int release_sweep;         /* PORTAL_RELEASE_SWEEP seconds between automatic releases; 0: off */
    int page_cache_mb;         /* PORTAL_PAGE_CACHE_MB of patient pages kept for reuse; 0: none */
    int page_cache_ttl;        /* PORTAL_PAGE_CACHE_TTL seconds a kept page may be reused */
    const char *migrations_dir; /* PORTAL_MIGRATIONS_DIR: what portald migrate applies */

    /* PORTAL_DATABASE_READ_URL: a hot standby for the queries marked standby_ok; NULL sends every
     * query to database_url. */
    const char *database_read_url;
    /* PORTAL_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed. */
    struct netaddr_list trusted_proxies;

    /* PORTAL_HL7_LISTEN: the MLLP listener's address; empty host: no listener. */
    char hl7_listen_host[64];
    int hl7_listen_port;
    struct hl7_obx_map hl7_obx_map; /* PORTAL_HL7_OBX_SECTIONS */
    int hl7_read_timeout; /* PORTAL_HL7_READ_TIMEOUT seconds a message may take to arrive */
    /* The PACS follower (orthanc_feed.c): off while orthanc_url is NULL. */
    const char *orthanc_url;   /* PORTAL_ORTHANC_URL, http(s)://host:port[/path] */
    char *orthanc_credentials; /* PORTAL_ORTHANC_CREDENTIALS_FILE's user:password (owned) */
    int orthanc_poll;          /* PORTAL_ORTHANC_POLL seconds between reads of the feed */

    /* Notifications (notify.c): nothing is sent while smtp_url and webhook_url are NULL. */
    const char *public_url;      /* PORTAL_PUBLIC_URL: the portal's address, the link in messages */
    const char *smtp_url;        /* PORTAL_SMTP_URL: smtp://host:port or smtps://host:port */
    const char *smtp_from;       /* PORTAL_SMTP_FROM */
    char *smtp_credentials;      /* PORTAL_SMTP_CREDENTIALS_FILE's user:password (owned) */
    bool smtp_starttls_required; /* PORTAL_SMTP_STARTTLS: required (true) or none */
    const char *smtp_ca_file;    /* PORTAL_SMTP_CA_FILE: the CAs to trust instead of the system's */
    const char *webhook_url;     /* PORTAL_WEBHOOK_URL */
    unsigned char *webhook_secret; /* PORTAL_WEBHOOK_SECRET_FILE's key, decoded (owned) */
    size_t webhook_secret_len;
    const char *staff_email; /* PORTAL_STAFF_EMAIL: where overdue studies are announced */
    char quiet_start[6];     /* PORTAL_QUIET_HOURS "HH:MM"; empty: no quiet hours */
    char quiet_end[6];
    const char *time_zone;   /* PORTAL_TIME_ZONE: the site's, for quiet hours and the digest */
    int notify_batch;        /* PORTAL_NOTIFY_BATCH messages claimed at once */
    int notify_timeout;      /* PORTAL_NOTIFY_TIMEOUT seconds one send may take */
    int notify_rate_cap;     /* PORTAL_NOTIFY_RATE_CAP messages per recipient per hour; 0: none */
    int notify_max_attempts; /* PORTAL_NOTIFY_MAX_ATTEMPTS before a message ends failed */
    int notify_retry_base;   /* PORTAL_NOTIFY_RETRY_BASE seconds: the first back-off */
    int notify_schedule;     /* PORTAL_NOTIFY_SCHEDULE seconds between schedule rounds; 0: off */
    int notify_digest_hour;  /* PORTAL_NOTIFY_DIGEST_HOUR: the daily digest's hour, site time */
};

enum config_need { CONFIG_FOR_SERVE, CONFIG_FOR_MIGRATE, CONFIG_FOR_TOKEN };

#define CONFIG_NEED(n) (1u << (n))

/* One PORTAL_* variable: a row of the table in config.c, which README's configuration table
 * mirrors (tests/unit/test_config.c checks the two against each other). */
struct config_setting {
    const char *name; /* "PORTAL_..." */
    /* Text parsed when the variable is unset or empty, as README shows it; NULL: none, or a
     * default that config_load derives from other settings. */
    const char *def;
    int lo, hi; /* the range of an integer setting */
    /* Parses value into c at field; on error returns -1 and writes one line naming s->name. */
    int (*parse)(const struct config_setting *s, const char *value, struct config *c, char *err,
                 size_t errlen);
    size_t field;     /* offsetof(struct config, ...) of what parse fills */
    unsigned need;    /* CONFIG_NEED bits of the commands that cannot start without it */
    const char *what; /* what a required value is, for its "is required (...)" message */
};

/* Whether the named setting is a secret (or may hold one), never shown by value. */
bool config_is_secret(const char *name);

extern const struct config_setting config_settings[];
extern const size_t config_settings_count;

/* Fills c from the environment. On error returns -1, writes one line naming the variable into err
 * and leaves nothing to free. */
__attribute__((warn_unused_result)) int config_load(struct config *c, enum config_need need,
                                                    char *err, size_t errlen);
void config_free(struct config *c);

#endif
