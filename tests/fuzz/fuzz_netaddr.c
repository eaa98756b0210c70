/* libFuzzer harness for the client-address parsers (server/netaddr.c): PORTAL_TRUSTED_PROXIES as
 * any text, and any X-Forwarded-For header behind any peer. A list is refused with a message or
 * parsed; the client address given back is always a well-formed address, and differs from the
 * peer only when the peer is trusted (a header from anyone else changes nothing). The first byte
 * splits the list from the header, the second chooses the peer. */
#include "../../server/netaddr.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const peers[] = {"127.0.0.1", "10.0.0.7", "::1", "2001:db8::5", "192.0.2.1"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    size_t split = (size_t)data[0] % (size - 1);
    const char *peer = peers[data[1] % (sizeof(peers) / sizeof(peers[0]))];
    char *list_text = malloc(split + 1), *xff = malloc(size - 2 - split + 1);
    memcpy(list_text, data + 2, split);
    list_text[split] = '\0';
    memcpy(xff, data + 2 + split, size - 2 - split);
    xff[size - 2 - split] = '\0';

    struct netaddr_list list;
    char err[256] = "";
    if (netaddr_parse_list(list_text, &list, err, sizeof(err)) != 0) {
        if (!err[0])
            __builtin_trap();
        if (netaddr_parse_list("127.0.0.1, 10.0.0.0/8", &list, err, sizeof(err)) != 0)
            __builtin_trap();
    }
    char client[64];
    netaddr_client(&list, peer, xff, client, sizeof(client));
    if (strlen(client) >= sizeof(client))
        __builtin_trap();
    struct addr a;
    if (parse_addr(client, strlen(client), &a) != 0)
        __builtin_trap();
    if (strcmp(client, peer) != 0 && !netaddr_list_contains(&list, peer))
        __builtin_trap(); /* only a trusted peer may hand the address over to the header */
    free(list_text);
    free(xff);
    return 0;
}
