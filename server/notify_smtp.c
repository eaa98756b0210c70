/* Email notifications over SMTP with libcurl. The message is plain text in UTF-8, base64-encoded
 * so it passes any relay unchanged; its Message-ID is the outbox row's key, the same on every
 * attempt, so a receiver can drop a repeat. The envelope sender is PORTAL_SMTP_FROM's address.
 * An SMTP answer is classed, never copied: 5xx refuses the message for good, 4xx and failures to
 * connect, time-outs and TLS or AUTH failures are tried again later. */
#include "notify_smtp.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define HEADER_MAX 4096

struct notify_smtp {
    struct notify_client client;
    const struct config *cfg;
    char domain[256];    /* the right side of Message-IDs: PORTAL_PUBLIC_URL's host */
    char mail_from[300]; /* "<address>" for MAIL FROM */
    char user[256];
    char password[1024];
};

struct upload {
    const char *p;
    size_t len, off;
};

bool notify_smtp_address_ok(const char *addr)
{
    if (!addr)
        return false;
    size_t n = strlen(addr);
    const char *at = strchr(addr, '@');
    if (n < 3 || n > 254 || !at || at == addr || at[1] == '\0' || strchr(at + 1, '@'))
        return false;
    for (const char *p = addr; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("<>()[],;:\"\\", *p))
            return false;
    return true;
}

/* The host of an http(s) URL (config.c checked its shape), without a port. */
static void url_host(const char *url, char *out, size_t size)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/:");
    if (n >= size)
        n = size - 1;
    memcpy(out, h, n);
    out[n] = '\0';
}

/* The address part of "Name <addr>" or "addr", in angle brackets. */
static void envelope_from(const char *from, char *out, size_t size)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
        snprintf(out, size, "<%.*s>", (int)(gt - lt - 1), lt + 1);
    else
        snprintf(out, size, "<%s>", from);
}

struct notify_smtp *notify_smtp_new(const struct config *cfg, const atomic_bool *stopping)
{
    struct notify_smtp *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (notify_client_init(&s->client, cfg, stopping) < 0) {
        free(s);
        return NULL;
    }
    s->cfg = cfg;
    url_host(cfg->public_url, s->domain, sizeof(s->domain));
    envelope_from(cfg->smtp_from, s->mail_from, sizeof(s->mail_from));
    if (cfg->smtp_credentials) {
        const char *colon = strchr(cfg->smtp_credentials, ':');
        snprintf(s->user, sizeof(s->user), "%.*s", (int)(colon - cfg->smtp_credentials),
                 cfg->smtp_credentials);
        snprintf(s->password, sizeof(s->password), "%s", colon + 1);
    }
    return s;
}

void notify_smtp_free(struct notify_smtp *s)
{
    if (!s)
        return;
    notify_client_cleanup(&s->client);
    explicit_bzero(s->password, sizeof(s->password));
    free(s);
}

/* Appends base64 of data[0..len) in lines of 76 characters, each ending CRLF. */
static size_t put_base64(char *out, const unsigned char *data, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 57) {
        size_t chunk = len - i < 57 ? len - i : 57;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, data + i, (int)chunk);
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
    return o;
}

/* The subject as a header value: itself when printable ASCII, else an RFC 2047 encoded word. */
static int subject_header(const char *subject, char *out, size_t size)
{
    bool ascii = true;
    for (const char *p = subject; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
            ascii = false;
    if (ascii)
        return snprintf(out, size, "%s", subject) < (int)size ? 0 : -1;
    size_t n = strlen(subject);
    if (4 * ((n + 2) / 3) + 16 > size)
        return -1;
    size_t o = (size_t)snprintf(out, size, "=?UTF-8?B?");
    o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, (const unsigned char *)subject, (int)n);
    snprintf(out + o, size - o, "?=");
    return 0;
}

char *notify_smtp_compose(const struct config *cfg, const struct notify_message *m,
                          const struct notify_text *t, const char *to, time_t now, size_t *len)
{
    if (!notify_smtp_address_ok(to))
        return NULL;
    char domain[256], date[64], subject[NOTIFY_SUBJECT_MAX * 2], unsubscribe[NOTIFY_LINK_MAX + 160];
    url_host(cfg->public_url, domain, sizeof(domain));
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (subject_header(t->subject, subject, sizeof(subject)) < 0)
        return NULL;
    unsubscribe[0] = '\0';
    if (m->unsubscribe_id) {
        size_t base = strlen(cfg->public_url);
        while (base > 0 && cfg->public_url[base - 1] == '/')
            base--;
        snprintf(unsubscribe, sizeof(unsubscribe),
                 "List-Unsubscribe: <%.*s/api/v1/notifications/unsubscribe/%s>\r\n"
                 "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                 (int)base, cfg->public_url, m->unsubscribe_id);
    }
    /* The text with CRLF line ends (MIME's canonical form for text), then base64. */
    size_t body_len = strlen(t->body);
    unsigned char *crlf = malloc(body_len * 2 + 1);
    size_t msg_cap = HEADER_MAX + body_len * 3 + 64;
    char *msg = malloc(msg_cap);
    if (!crlf || !msg) {
        free(crlf);
        free(msg);
        return NULL;
    }
    size_t c = 0;
    for (size_t i = 0; i < body_len; i++) {
        if (t->body[i] == '\n' && (i == 0 || t->body[i - 1] != '\r'))
            crlf[c++] = '\r';
        crlf[c++] = (unsigned char)t->body[i];
    }
    int h = snprintf(msg, HEADER_MAX,
                     "Date: %s\r\n"
                     "From: %s\r\n"
                     "To: <%s>\r\n"
                     "Subject: %s\r\n"
                     "Message-ID: <%s@%s>\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: base64\r\n"
                     "Auto-Submitted: auto-generated\r\n"
                     "%s"
                     "\r\n",
                     date, cfg->smtp_from, to, subject, m->message_id, domain, unsubscribe);
    if (h < 0 || h >= HEADER_MAX) {
        free(crlf);
        free(msg);
        return NULL;
    }
    size_t total = (size_t)h + put_base64(msg + h, crlf, c);
    free(crlf);
    *len = total;
    return msg;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->p + u->off, n);
    u->off += n;
    return n;
}

static struct notify_attempt classify(CURLcode rc, long code)
{
    switch (rc) {
    case CURLE_OK:
        return (struct notify_attempt){NOTIFY_SENT, NULL, 0};
    case CURLE_OPERATION_TIMEDOUT:
        return (struct notify_attempt){NOTIFY_TEMPORARY, "timeout", 0};
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return (struct notify_attempt){NOTIFY_TEMPORARY, "connect", 0};
    case CURLE_LOGIN_DENIED:
        return (struct notify_attempt){NOTIFY_TEMPORARY, "auth", 0};
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return (struct notify_attempt){NOTIFY_TEMPORARY, "tls", 0};
    default:
        break;
    }
    if (code >= 500 && code < 600)
        return (struct notify_attempt){NOTIFY_PERMANENT, "rejected", 0};
    return (struct notify_attempt){NOTIFY_TEMPORARY, "temporary", 0};
}

struct notify_attempt notify_smtp_send(struct notify_smtp *s, const struct notify_message *m,
                                       const struct notify_text *t, const char *to)
{
    if (!notify_smtp_address_ok(to))
        return (struct notify_attempt){NOTIFY_PERMANENT, "no_address", 0};
    size_t len = 0;
    char *msg = notify_smtp_compose(s->cfg, m, t, to, time(NULL), &len);
    if (!msg)
        return (struct notify_attempt){NOTIFY_TEMPORARY, "temporary", 0};
    char rcpt_line[300];
    snprintf(rcpt_line, sizeof(rcpt_line), "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_line);
    struct upload u = {msg, len, 0};
    /* A reset keeps the handle's open connection, so a batch reuses one SMTP session. */
    CURL *c = notify_client_reset(&s->client);
    curl_easy_setopt(c, CURLOPT_URL, s->cfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     s->cfg->smtp_starttls_required || strncmp(s->cfg->smtp_url, "smtps:", 6) == 0
                         ? (long)CURLUSESSL_ALL
                         : (long)CURLUSESSL_NONE);
    if (s->cfg->smtp_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, s->cfg->smtp_ca_file);
    if (s->user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    CURLcode rc = rcpt ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    free(msg);
    if (rc != CURLE_OK && atomic_load(s->client.stopping))
        return (struct notify_attempt){NOTIFY_ABANDONED, "temporary", 0};
    return classify(rc, code);
}
