/* The libcurl handle both notification channels send with: one per sender thread, reset between
 * messages (which keeps its open connection), bounded by PORTAL_NOTIFY_TIMEOUT, and abandoned at
 * once when the process stops. */
#include "notify_channel.h"

#include <stdint.h>

#include "config.h"

/* A connection that cannot be made within this is not waited for longer. */
#define CONNECT_TIMEOUT_MS 5000

int notify_client_init(struct notify_client *c, const struct config *cfg,
                       const atomic_bool *stopping)
{
    c->cfg = cfg;
    c->stopping = stopping;
    c->curl = curl_easy_init();
    return c->curl ? 0 : -1;
}

void notify_client_cleanup(struct notify_client *c)
{
    curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

/* Called by libcurl at least once a second while a transfer runs: a stop abandons it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const atomic_bool *stopping = arg;
    return atomic_load(stopping) ? 1 : 0;
}

CURL *notify_client_reset(struct notify_client *c)
{
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->cfg->notify_timeout * 1000L);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, (void *)(uintptr_t)c->stopping);
    return c->curl;
}
