/* Webhook notifications (Standard Webhooks): one POST per message, signed with the key of
 * PORTAL_WEBHOOK_SECRET_FILE. The webhook-id is the outbox row's key, the same on every attempt,
 * so the receiver drops repeats; the timestamp is the attempt's, so the receiver's tolerance window
 * holds for a message sent again hours later. 2xx is delivered; 429 and 5xx are tried again (429
 * no sooner than its Retry-After); any other status refuses the message for good. */
#include "notify_webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* A Retry-After beyond this is not believed. */
#define RETRY_AFTER_MAX_S 86400

struct notify_webhook {
    struct notify_client client;
    const struct config *cfg;
    char retry_after[64]; /* the last answer's Retry-After */
};

struct notify_webhook *notify_webhook_new(const struct config *cfg, const atomic_bool *stopping)
{
    struct notify_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    if (notify_client_init(&w->client, cfg, stopping) < 0) {
        free(w);
        return NULL;
    }
    w->cfg = cfg;
    return w;
}

void notify_webhook_free(struct notify_webhook *w)
{
    if (!w)
        return;
    notify_client_cleanup(&w->client);
    free(w);
}

char *notify_webhook_body(const struct notify_message *m, const struct notify_text *t, time_t now)
{
    char at[32], type[64];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(type, sizeof(type), "notification.%s", notify_kind_name(m->kind));
    json_t *to = m->audience == NOTIFY_PATIENT
                     ? json_pack("{s:s, s:s?}", "audience", "patient", "phone", m->address)
                 : m->audience == NOTIFY_PHYSICIAN
                     ? json_pack("{s:s, s:s?}", "audience", "physician", "physician_id", m->address)
                     : json_pack("{s:s}", "audience", "staff");
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:o*, s:s, s:s, s:s, s:i}}", "type", type,
                          "timestamp", at, "data", "message_id", m->message_id, "kind",
                          notify_kind_name(m->kind), "to", to, "subject", t->subject, "text",
                          t->sms, "link", t->link, "attempt", m->attempt);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

int notify_webhook_sign(const unsigned char *key, size_t key_len, const char *id, long timestamp,
                        const char *body, char *out, size_t size)
{
    size_t n = strlen(id) + strlen(body) + 40;
    char *signed_text = malloc(n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int len = signed_text ? snprintf(signed_text, n, "%s.%ld.%s", id, timestamp, body) : -1;
    bool ok = len > 0 && (size_t)len < n &&
              HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)signed_text, (size_t)len,
                   mac, &mac_len) != NULL;
    free(signed_text);
    if (!ok || size < 3 + 4 * ((mac_len + 2) / 3) + 1)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
    return 0;
}

int notify_webhook_retry_after(const char *value, time_t now)
{
    if (!value || !*value)
        return 0;
    char *end;
    long n = strtol(value, &end, 10);
    if (end != value && (*end == '\0' || *end == ' ' || *end == '\r'))
        return n <= 0 ? 0 : n > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)n;
    time_t at = curl_getdate(value, NULL);
    if (at <= now)
        return 0;
    return at - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)(at - now);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
    struct notify_webhook *w = arg;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;
        size_t vn = n - (sizeof(name) - 1);
        while (vn > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        snprintf(w->retry_after, sizeof(w->retry_after), "%.*s", (int)vn, v);
    }
    return n;
}

static size_t on_discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

struct notify_attempt notify_webhook_send(struct notify_webhook *w, const struct notify_message *m,
                                          const struct notify_text *t)
{
    if (m->audience != NOTIFY_STAFF && (!m->address || !*m->address))
        return (struct notify_attempt){NOTIFY_PERMANENT, "no_address", 0};
    time_t now = time(NULL);
    char *body = notify_webhook_body(m, t, now);
    char sig[128], h_id[96], h_ts[64], h_sig[160];
    if (!body || notify_webhook_sign(w->cfg->webhook_secret, w->cfg->webhook_secret_len,
                                     m->message_id, (long)now, body, sig, sizeof(sig)) < 0) {
        free(body);
        return (struct notify_attempt){NOTIFY_TEMPORARY, "temporary", 0};
    }
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", m->message_id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %ld", (long)now);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
    struct curl_slist *hs = NULL, *next;
    const char *lines[] = {"Content-Type: application/json", h_id, h_ts, h_sig};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        next = curl_slist_append(hs, lines[i]);
        if (!next) {
            curl_slist_free_all(hs);
            free(body);
            return (struct notify_attempt){NOTIFY_TEMPORARY, "temporary", 0};
        }
        hs = next;
    }
    w->retry_after[0] = '\0';
    CURL *c = notify_client_reset(&w->client);
    curl_easy_setopt(c, CURLOPT_URL, w->cfg->webhook_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    free(body);
    if (rc != CURLE_OK) {
        if (atomic_load(w->client.stopping))
            return (struct notify_attempt){NOTIFY_ABANDONED, "temporary", 0};
        if (rc == CURLE_OPERATION_TIMEDOUT)
            return (struct notify_attempt){NOTIFY_TEMPORARY, "timeout", 0};
        if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
            return (struct notify_attempt){NOTIFY_TEMPORARY, "connect", 0};
        if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION)
            return (struct notify_attempt){NOTIFY_TEMPORARY, "tls", 0};
        return (struct notify_attempt){NOTIFY_TEMPORARY, "temporary", 0};
    }
    if (status >= 200 && status < 300)
        return (struct notify_attempt){NOTIFY_SENT, NULL, 0};
    if (status == 429)
        return (struct notify_attempt){NOTIFY_TEMPORARY, "rate_limited",
                                       notify_webhook_retry_after(w->retry_after, time(NULL))};
    if (status >= 500 || status == 408)
        return (struct notify_attempt){NOTIFY_TEMPORARY, "http_5xx",
                                       notify_webhook_retry_after(w->retry_after, time(NULL))};
    return (struct notify_attempt){NOTIFY_PERMANENT, "http_4xx", 0};
}
