/* The kept patient pages: 64 shards, each a mutex, a chained hash table and a least-recently-used
 * list, within its share of the byte budget. Keys are the binary patient and study ids, so the
 * spelling of an id in a URL cannot make two entries of one page. A shard holds its lock only to
 * find, link or copy an entry; building pages and reading the database happen outside. */
#include "page_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSHARDS 64
/* Patient id, study id (zeros for the list), then the kind of page and its language: the nil UUID
 * is a valid path segment, so without the kind a study key could be the list's, and a page's texts
 * are in one language (a Spanish reader must never get the English page). */
#define KEY_LEN           33
#define KIND_LIST         0
#define KIND_STUDY        1
#define TYPICAL_PAGE_SIZE 2048 /* sizes the hash tables: a study detail is ~1.7 KB */

struct page {
    struct page *chain;
    struct page *newer, *older;
    uint8_t key[KEY_LEN];
    struct page_stamp stamp;
    double expires_at; /* monotonic seconds */
    size_t len;
    char body[];
};

struct shard {
    pthread_mutex_t lock;
    struct page **buckets;
    size_t nbuckets; /* a power of two */
    struct page *newest, *oldest;
    size_t bytes, pages;
};

static struct shard *shards;
static size_t shard_budget;
static double ttl;
static atomic_ullong counts[3], stored, evicted, generation;

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 8-4-4-4-12 hex digits -> 16 bytes; -1 for anything else. */
static int parse_uuid(const char *s, uint8_t out[16])
{
    int n = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            continue;
        }
        int hi = hex_value(s[i]);
        int lo = hi < 0 ? -1 : hex_value(s[++i]);
        if (lo < 0)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return s[36] == '\0' ? 0 : -1;
}

static int make_key(const char *patient, const char *study, enum lang lang, uint8_t key[KEY_LEN])
{
    memset(key, 0, KEY_LEN);
    if (!patient || parse_uuid(patient, key) < 0)
        return -1;
    if (study && parse_uuid(study, key + 16) < 0)
        return -1;
    if ((unsigned)lang >= LANG_COUNT)
        return -1;
    key[32] = (uint8_t)((study ? KIND_STUDY : KIND_LIST) | (unsigned)lang << 1);
    return 0;
}

static uint64_t key_hash(const uint8_t key[KEY_LEN])
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ key[32];
    for (int i = 0; i < 32; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h ^= w;
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9u;
        h ^= h >> 29;
    }
    return h;
}

int page_cache_init(size_t max_bytes, int ttl_s)
{
    if (max_bytes == 0 || ttl_s <= 0)
        return 0;
    size_t per_shard_pages = max_bytes / NSHARDS / TYPICAL_PAGE_SIZE;
    size_t nbuckets = 16;
    while (nbuckets < per_shard_pages)
        nbuckets *= 2;
    struct shard *s = calloc(NSHARDS, sizeof(*s));
    if (!s)
        return -1;
    for (int i = 0; i < NSHARDS; i++) {
        s[i].nbuckets = nbuckets;
        s[i].buckets = calloc(nbuckets, sizeof(*s[i].buckets));
        if (!s[i].buckets) {
            while (i-- > 0)
                free(s[i].buckets);
            free(s);
            return -1;
        }
        pthread_mutex_init(&s[i].lock, NULL);
    }
    shard_budget = max_bytes / NSHARDS;
    ttl = ttl_s;
    shards = s;
    return 0;
}

void page_cache_free(void)
{
    if (!shards)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        for (struct page *p = shards[i].newest, *next; p; p = next) {
            next = p->older;
            free(p);
        }
        free(shards[i].buckets);
        pthread_mutex_destroy(&shards[i].lock);
    }
    free(shards);
    shards = NULL;
}

void page_cache_clear(void)
{
    atomic_fetch_add(&generation, 1);
    if (!shards)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *sh = &shards[i];
        pthread_mutex_lock(&sh->lock);
        for (struct page *p = sh->newest, *next; p; p = next) {
            next = p->older;
            free(p);
        }
        memset(sh->buckets, 0, sh->nbuckets * sizeof(*sh->buckets));
        sh->newest = sh->oldest = NULL;
        sh->bytes = sh->pages = 0;
        pthread_mutex_unlock(&sh->lock);
    }
}

bool page_cache_enabled(void)
{
    return shards != NULL;
}

static size_t page_cost(const struct page *p)
{
    return sizeof(*p) + p->len;
}

/* The link in the bucket chain that points at the page with this key (or at NULL). */
static struct page **find_link(struct shard *sh, uint64_t hash, const uint8_t key[KEY_LEN])
{
    struct page **link = &sh->buckets[(hash / NSHARDS) & (sh->nbuckets - 1)];
    while (*link && memcmp((*link)->key, key, KEY_LEN) != 0)
        link = &(*link)->chain;
    return link;
}

static void lru_unlink(struct shard *sh, struct page *p)
{
    if (p->newer)
        p->newer->older = p->older;
    else
        sh->newest = p->older;
    if (p->older)
        p->older->newer = p->newer;
    else
        sh->oldest = p->newer;
    p->newer = p->older = NULL;
}

static void lru_push(struct shard *sh, struct page *p)
{
    p->newer = NULL;
    p->older = sh->newest;
    if (sh->newest)
        sh->newest->newer = p;
    sh->newest = p;
    if (!sh->oldest)
        sh->oldest = p;
}

/* Unlinks the page *link points at from its chain and the LRU list, and frees it. */
static void drop(struct shard *sh, struct page **link)
{
    struct page *p = *link;
    *link = p->chain;
    lru_unlink(sh, p);
    sh->bytes -= page_cost(p);
    sh->pages--;
    free(p);
}

char *page_cache_get(const char *patient, const char *study, enum lang lang,
                     struct page_stamp *stamp, size_t *len)
{
    uint8_t key[KEY_LEN];
    if (!shards || make_key(patient, study, lang, key) < 0)
        return NULL;
    uint64_t hash = key_hash(key);
    struct shard *sh = &shards[hash % NSHARDS];
    char *copy = NULL;
    pthread_mutex_lock(&sh->lock);
    struct page **link = find_link(sh, hash, key);
    struct page *p = *link;
    if (p && monotonic_now() > p->expires_at) {
        drop(sh, link);
    } else if (p && (copy = malloc(p->len + 1))) {
        memcpy(copy, p->body, p->len + 1);
        *stamp = p->stamp;
        *len = p->len;
        lru_unlink(sh, p);
        lru_push(sh, p);
    }
    pthread_mutex_unlock(&sh->lock);
    return copy;
}

unsigned long long page_cache_generation(void)
{
    return atomic_load(&generation);
}

void page_cache_put(const char *patient, const char *study, enum lang lang, struct page_stamp stamp,
                    const char *body, size_t len, unsigned long long since)
{
    uint8_t key[KEY_LEN];
    if (!shards || make_key(patient, study, lang, key) < 0)
        return;
    struct page *p = malloc(sizeof(*p) + len + 1);
    if (!p)
        return;
    memcpy(p->key, key, KEY_LEN);
    p->stamp = stamp;
    uint64_t hash = key_hash(key);
    /* Pages built in one burst (a restart, an estimates refresh) would all expire in the same
     * second and be built again together: each key lives 75-100 % of the time to live. */
    p->expires_at = monotonic_now() + ttl * (0.75 + 0.25 * (double)(hash >> 48) / 65536.0);
    p->len = len;
    memcpy(p->body, body, len);
    p->body[len] = '\0';
    if (page_cost(p) > shard_budget) {
        free(p);
        return;
    }
    struct shard *sh = &shards[hash % NSHARDS];
    pthread_mutex_lock(&sh->lock);
    /* page_cache_clear bumps the generation before it takes the shard locks, so a page from
     * before a clear either sees the new generation here or is dropped by the clear after it. */
    if (atomic_load(&generation) != since) {
        pthread_mutex_unlock(&sh->lock);
        free(p);
        return;
    }
    struct page **link = find_link(sh, hash, key);
    if (*link)
        drop(sh, link);
    while (sh->oldest && sh->bytes + page_cost(p) > shard_budget) {
        struct page *old = sh->oldest;
        drop(sh, find_link(sh, key_hash(old->key), old->key));
        atomic_fetch_add(&evicted, 1);
    }
    link = find_link(sh, hash, key); /* eviction may have changed the chain */
    p->chain = NULL;
    *link = p;
    lru_push(sh, p);
    sh->bytes += page_cost(p);
    sh->pages++;
    pthread_mutex_unlock(&sh->lock);
    atomic_fetch_add(&stored, 1);
}

void page_cache_note(enum page_outcome outcome)
{
    atomic_fetch_add(&counts[outcome], 1);
}

void page_cache_stats(struct page_cache_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->hits = atomic_load(&counts[PAGE_HIT]);
    out->stale = atomic_load(&counts[PAGE_STALE]);
    out->misses = atomic_load(&counts[PAGE_MISS]);
    out->stored = atomic_load(&stored);
    out->evicted = atomic_load(&evicted);
    if (!shards)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        out->bytes += shards[i].bytes;
        out->pages += shards[i].pages;
        pthread_mutex_unlock(&shards[i].lock);
    }
}
