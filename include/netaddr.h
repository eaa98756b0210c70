/* Client addresses behind a reverse proxy: lists of trusted networks (PORTAL_TRUSTED_PROXIES) and
 * the choice of the client address from X-Forwarded-For. */
#ifndef PORTAL_NETADDR_H
#define PORTAL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#define NETADDR_MAX_NETS 32
#define NETADDR_TEXT_MAX 64 /* fits any address inet_ntop writes */

struct netaddr_net {
    int family; /* AF_INET or AF_INET6; IPv4-mapped IPv6 addresses are stored as IPv4 */
    unsigned char addr[16];
    int prefix; /* bits that must match */
};

struct netaddr_list {
    int count;
    struct netaddr_net nets[NETADDR_MAX_NETS];
};

/* Parses "ip[/bits], ip[/bits], ..." (IPv4 or IPv6, spaces allowed around commas). An empty or
 * NULL text gives an empty list. On error returns -1 and writes one line naming the bad entry. */
__attribute__((warn_unused_result)) int
netaddr_parse_list(const char *text, struct netaddr_list *out, char *err, size_t errlen);

/* Whether the address (text form) lies in one of the list's networks; false when it is not an
 * address. */
bool netaddr_list_contains(const struct netaddr_list *l, const char *addr);

/* The client's address for a request whose TCP peer is `peer`: when the peer is a trusted proxy,
 * the right-most X-Forwarded-For entry that is not itself a trusted proxy (the left-most entry
 * when every one is trusted; the nearest trusted hop when an entry is not an address); else the
 * peer, whatever the header says. Writes the canonical text form into out. */
void netaddr_client(const struct netaddr_list *trusted, const char *peer, const char *xff,
                    char *out, size_t outlen);

#endif
