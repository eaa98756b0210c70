/* Connections per client address: a chained hash of the addresses that hold a connection now,
 * each with its count, under one lock. An address leaves the table with its last connection, so
 * the table is as large as the set of connected addresses, never the history of them. */
#include "conn_addresses.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* a power of two */

struct conn_address {
    struct conn_address *next;
    unsigned char key[17]; /* the family's byte, then the address (IPv4 in the first four) */
    unsigned count;
};

struct conn_addresses {
    pthread_mutex_t lock;
    unsigned limit;
    struct conn_address *bucket[BUCKETS];
};

static bool address_key(const struct sockaddr *addr, socklen_t len, unsigned char key[17])
{
    memset(key, 0, 17);
    if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        return true;
    }
    if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        key[0] = 6;
        memcpy(key + 1, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
        return true;
    }
    return false;
}

static unsigned bucket_of(const unsigned char key[17])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 16777619u;
    return h & (BUCKETS - 1);
}

static struct conn_address *find(struct conn_addresses *t, const unsigned char key[17], unsigned b)
{
    for (struct conn_address *a = t->bucket[b]; a; a = a->next)
        if (memcmp(a->key, key, 17) == 0)
            return a;
    return NULL;
}

struct conn_addresses *conn_addresses_new(unsigned limit)
{
    struct conn_addresses *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->limit = limit;
    return t;
}

void conn_addresses_free(struct conn_addresses *t)
{
    if (!t)
        return;
    for (unsigned b = 0; b < BUCKETS; b++)
        while (t->bucket[b]) {
            struct conn_address *a = t->bucket[b];
            t->bucket[b] = a->next;
            free(a);
        }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

bool conn_addresses_admit(struct conn_addresses *t, const struct sockaddr *addr, socklen_t len)
{
    unsigned char key[17];
    if (!address_key(addr, len, key))
        return true;
    unsigned b = bucket_of(key);
    pthread_mutex_lock(&t->lock);
    const struct conn_address *a = find(t, key, b);
    bool admit = !a || a->count < t->limit;
    pthread_mutex_unlock(&t->lock);
    return admit;
}

struct conn_address *conn_addresses_hold(struct conn_addresses *t, const struct sockaddr *addr,
                                         socklen_t len)
{
    unsigned char key[17];
    if (!address_key(addr, len, key))
        return NULL;
    unsigned b = bucket_of(key);
    pthread_mutex_lock(&t->lock);
    struct conn_address *a = find(t, key, b);
    if (!a && (a = calloc(1, sizeof(*a)))) {
        memcpy(a->key, key, 17);
        a->next = t->bucket[b];
        t->bucket[b] = a;
    }
    if (a)
        a->count++;
    pthread_mutex_unlock(&t->lock);
    return a;
}

void conn_addresses_release(struct conn_addresses *t, struct conn_address *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&t->lock);
    if (--a->count == 0) {
        struct conn_address **p = &t->bucket[bucket_of(a->key)];
        while (*p != a)
            p = &(*p)->next;
        *p = a->next;
        free(a);
    }
    pthread_mutex_unlock(&t->lock);
}
