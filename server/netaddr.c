/* Trusted proxy networks and the client address behind them: only a proxy we trust may tell us
 * who the client is, so a forged X-Forwarded-For from anyone else changes nothing (login
 * throttle, audit log). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct addr {
    int family;
    unsigned char bytes[16];
};

static int parse_addr(const char *text, size_t len, struct addr *a);
static bool net_contains(const struct netaddr_net *n, const struct addr *a);

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Parses one address of exactly len bytes; an IPv4-mapped IPv6 address becomes IPv4, so a peer
 * seen through an IPv6 socket matches an IPv4 network. */
static int parse_addr(const char *text, size_t len, struct addr *a)
{
    char buf[NETADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, buf, a->bytes) == 1) {
        a->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
        a->family = AF_INET6;
        if (memcmp(a->bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
            memmove(a->bytes, a->bytes + 12, 4);
            memset(a->bytes + 4, 0, 12);
            a->family = AF_INET;
        }
        return 0;
    }
    return -1;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

int netaddr_parse_list(const char *text, struct netaddr_list *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &len);
        if (len == 0 && !comma && out->count == 0)
            return 0; /* the whole text is blank */
        const char *slash = memchr(item, '/', len);
        size_t addr_len = slash ? (size_t)(slash - item) : len;
        struct addr a;
        int prefix = -1;
        if (parse_addr(item, addr_len, &a) == 0) {
            int max = a.family == AF_INET ? 32 : 128;
            prefix = max;
            if (slash) {
                char bits[8];
                size_t nb = len - addr_len - 1;
                char *end;
                if (nb == 0 || nb >= sizeof(bits))
                    prefix = -1;
                else {
                    memcpy(bits, slash + 1, nb);
                    bits[nb] = '\0';
                    long v = strtol(bits, &end, 10);
                    prefix = (*end || bits[0] < '0' || bits[0] > '9' || v > max) ? -1 : (int)v;
                }
            }
        }
        if (prefix < 0) {
            snprintf(err, errlen,
                     "PORTAL_TRUSTED_PROXIES entry \"%.*s\" is not an IP address or CIDR network",
                     (int)(len > 60 ? 60 : len), item);
            return -1;
        }
        if (out->count == NETADDR_MAX_NETS) {
            snprintf(err, errlen, "PORTAL_TRUSTED_PROXIES may list at most %d networks",
                     NETADDR_MAX_NETS);
            return -1;
        }
        struct netaddr_net *n = &out->nets[out->count++];
        n->family = a.family;
        memcpy(n->addr, a.bytes, sizeof(n->addr));
        n->prefix = prefix;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static bool net_contains(const struct netaddr_net *n, const struct addr *a)
{
    if (n->family != a->family)
        return false;
    int full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(n->addr, a->bytes, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (a->bytes[full] & mask);
}

static bool list_contains(const struct netaddr_list *l, const struct addr *a)
{
    for (int i = 0; i < l->count; i++)
        if (net_contains(&l->nets[i], a))
            return true;
    return false;
}

bool netaddr_list_contains(const struct netaddr_list *l, const char *addr)
{
    struct addr a;
    return addr && parse_addr(addr, strlen(addr), &a) == 0 && list_contains(l, &a);
}

static void put(const struct addr *a, char *out, size_t outlen)
{
    if (!inet_ntop(a->family, a->bytes, out, (socklen_t)outlen) && outlen)
        out[0] = '\0';
}

void netaddr_client(const struct netaddr_list *trusted, const char *peer, const char *xff,
                    char *out, size_t outlen)
{
    struct addr current;
    if (!peer || parse_addr(peer, strlen(peer), &current) < 0) {
        snprintf(out, outlen, "%s", peer ? peer : "");
        return;
    }
    if (xff && list_contains(trusted, &current)) {
        /* Walk from the right: each hop we trust vouches for the one to its left. */
        size_t end = strlen(xff);
        for (;;) {
            size_t start = end;
            while (start > 0 && xff[start - 1] != ',')
                start--;
            const char *item = xff + start;
            size_t len = end - start;
            trim(&item, &len);
            struct addr hop;
            if (parse_addr(item, len, &hop) < 0)
                break;
            current = hop;
            if (!list_contains(trusted, &hop) || start == 0)
                break;
            end = start - 1;
        }
    }
    put(&current, out, outlen);
}
