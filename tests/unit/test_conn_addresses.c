/* Connections per client address: the limit admits up to its count per address, each family and
 * address apart; a released connection makes room again; an address leaves the table with its
 * last connection; a connection of another family is neither counted nor refused. */
#include "../../server/conn_addresses.c"

#include <arpa/inet.h>

#include "testhelp.h"

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static unsigned entries(struct conn_addresses *t)
{
    unsigned n = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct conn_address *a = t->bucket[b]; a; a = a->next)
            n++;
    return n;
}

static void limit_per_address(void)
{
    struct conn_addresses *t = conn_addresses_new(3);
    struct sockaddr_in a = v4("127.0.0.1"), b = v4("127.0.0.2");
    const struct sockaddr *sa = (const struct sockaddr *)&a, *sb = (const struct sockaddr *)&b;
    struct conn_address *held[3];
    for (int i = 0; i < 3; i++) {
        CHECK(conn_addresses_admit(t, sa, sizeof(a)));
        held[i] = conn_addresses_hold(t, sa, sizeof(a));
        CHECK(held[i] != NULL);
    }
    CHECK(!conn_addresses_admit(t, sa, sizeof(a)));
    /* Another port of the same address is the same address. */
    a.sin_port = htons(50000);
    CHECK(!conn_addresses_admit(t, sa, sizeof(a)));
    CHECK(conn_addresses_admit(t, sb, sizeof(b)));
    struct conn_address *other = conn_addresses_hold(t, sb, sizeof(b));
    CHECK(other != NULL && other != held[0]);
    CHECK(entries(t) == 2);

    conn_addresses_release(t, held[1]);
    CHECK(conn_addresses_admit(t, sa, sizeof(a)));
    held[1] = conn_addresses_hold(t, sa, sizeof(a));
    CHECK(!conn_addresses_admit(t, sa, sizeof(a)));

    for (int i = 0; i < 3; i++)
        conn_addresses_release(t, held[i]);
    CHECK(entries(t) == 1);
    conn_addresses_release(t, other);
    CHECK(entries(t) == 0);
    conn_addresses_release(t, NULL);
    conn_addresses_free(t);
}

static void families(void)
{
    struct conn_addresses *t = conn_addresses_new(1);
    struct sockaddr_in a = v4("10.0.0.1");
    struct sockaddr_in6 m = v6("::ffff:10.0.0.1"), l = v6("::1");
    struct conn_address *ha = conn_addresses_hold(t, (struct sockaddr *)&a, sizeof(a));
    CHECK(!conn_addresses_admit(t, (struct sockaddr *)&a, sizeof(a)));
    /* The mapped form is another socket family, as libmicrohttpd's own count had it. */
    CHECK(conn_addresses_admit(t, (struct sockaddr *)&m, sizeof(m)));
    struct conn_address *hl = conn_addresses_hold(t, (struct sockaddr *)&l, sizeof(l));
    CHECK(hl != NULL && !conn_addresses_admit(t, (struct sockaddr *)&l, sizeof(l)));

    struct sockaddr un = {.sa_family = AF_UNIX};
    CHECK(conn_addresses_admit(t, &un, sizeof(un)));
    CHECK(conn_addresses_hold(t, &un, sizeof(un)) == NULL);
    CHECK(conn_addresses_admit(t, NULL, 0));
    /* A length too short for the family is not read past. */
    CHECK(conn_addresses_hold(t, (struct sockaddr *)&l, sizeof(struct sockaddr_in)) == NULL);

    conn_addresses_release(t, ha);
    conn_addresses_release(t, hl);
    CHECK(entries(t) == 0);
    conn_addresses_free(t);
}

static void many_addresses(void)
{
    /* More addresses than buckets: chains, and every one leaves with its connection. */
    struct conn_addresses *t = conn_addresses_new(2);
    enum { N = 10000 };
    static struct conn_address *held[N];
    for (int i = 0; i < N; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u + i)};
        held[i] = conn_addresses_hold(t, (struct sockaddr *)&a, sizeof(a));
    }
    CHECK(entries(t) == N);
    int refused = 0;
    for (int i = 0; i < N; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u + i)};
        refused += !conn_addresses_admit(t, (struct sockaddr *)&a, sizeof(a));
    }
    CHECK(refused == 0);
    for (int i = N - 1; i >= 0; i -= 2)
        conn_addresses_release(t, held[i]);
    CHECK(entries(t) == N / 2);
    for (int i = 0; i < N; i += 2)
        conn_addresses_release(t, held[i]);
    CHECK(entries(t) == 0);
    conn_addresses_free(t);
}

int main(void)
{
    limit_per_address();
    families();
    many_addresses();
    return testhelp_done();
}
