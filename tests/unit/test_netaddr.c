/* Trusted proxy networks and X-Forwarded-For: CIDR matching on both families, bad entries named,
 * and a forged header honoured only from a trusted peer (the right-most untrusted entry wins). */
#include "../../server/netaddr.c"

#include "testhelp.h"

static void parsing(void)
{
    struct netaddr_list l;
    char err[200];
    CHECK(netaddr_parse_list(NULL, &l, err, sizeof(err)) == 0 && l.count == 0);
    CHECK(netaddr_parse_list("  ", &l, err, sizeof(err)) == 0 && l.count == 0);
    CHECK(netaddr_parse_list("127.0.0.1", &l, err, sizeof(err)) == 0 && l.count == 1);
    CHECK(l.nets[0].prefix == 32 && l.nets[0].family == AF_INET);
    CHECK(netaddr_parse_list("10.0.0.0/8, 192.168.1.0/24 ,::1,fd00::/8", &l, err, sizeof(err)) ==
          0);
    CHECK(l.count == 4);
    CHECK(l.nets[1].prefix == 24 && l.nets[2].prefix == 128 && l.nets[3].family == AF_INET6);
    CHECK(netaddr_parse_list("0.0.0.0/0", &l, err, sizeof(err)) == 0 && l.nets[0].prefix == 0);

    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/",   "10.0.0.0/-1", "10.0.0.0/8x",
                         "proxy.local", "10.0.0.1,",   "::1/129",     "1.2.3",
                         "10.0.0.1:80", "10.0.0.0/+8", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        CHECK(netaddr_parse_list(bad[i], &l, err, sizeof(err)) == -1);
        CHECK(strstr(err, "PORTAL_TRUSTED_PROXIES") != NULL);
    }
    CHECK(netaddr_parse_list("10.0.0.1, bogus", &l, err, sizeof(err)) == -1);
    CHECK(strstr(err, "\"bogus\"") != NULL);

    char many[NETADDR_MAX_NETS * 12 + 16] = "";
    for (int i = 0; i <= NETADDR_MAX_NETS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.0.%d", i ? "," : "", i);
    CHECK(netaddr_parse_list(many, &l, err, sizeof(err)) == -1);
}

static void matching(void)
{
    struct netaddr_list l;
    char err[200];
    CHECK(netaddr_parse_list("10.1.0.0/16, 192.168.7.128/25, 127.0.0.1, 2001:db8::/33", &l, err,
                             sizeof(err)) == 0);
    CHECK(netaddr_list_contains(&l, "10.1.0.0"));
    CHECK(netaddr_list_contains(&l, "10.1.255.255"));
    CHECK(!netaddr_list_contains(&l, "10.2.0.1"));
    CHECK(!netaddr_list_contains(&l, "10.0.255.255"));
    CHECK(netaddr_list_contains(&l, "192.168.7.128"));
    CHECK(netaddr_list_contains(&l, "192.168.7.255"));
    CHECK(!netaddr_list_contains(&l, "192.168.7.127"));
    CHECK(netaddr_list_contains(&l, "127.0.0.1"));
    CHECK(!netaddr_list_contains(&l, "127.0.0.2"));
    /* A peer seen through an IPv6 socket is the same IPv4 host. */
    CHECK(netaddr_list_contains(&l, "::ffff:10.1.2.3"));
    CHECK(!netaddr_list_contains(&l, "::ffff:10.2.2.3"));
    CHECK(netaddr_list_contains(&l, "2001:db8:7fff::1"));
    CHECK(!netaddr_list_contains(&l, "2001:db8:8000::1"));
    CHECK(!netaddr_list_contains(&l, "::1"));
    CHECK(!netaddr_list_contains(&l, "not an address"));
    CHECK(!netaddr_list_contains(&l, ""));
    CHECK(!netaddr_list_contains(&l, NULL));

    struct netaddr_list any;
    CHECK(netaddr_parse_list("0.0.0.0/0", &any, err, sizeof(err)) == 0);
    CHECK(netaddr_list_contains(&any, "203.0.113.9"));
    CHECK(!netaddr_list_contains(&any, "2001:db8::1"));

    struct netaddr_list odd;
    CHECK(netaddr_parse_list("172.16.0.0/12", &odd, err, sizeof(err)) == 0);
    CHECK(netaddr_list_contains(&odd, "172.31.255.255"));
    CHECK(!netaddr_list_contains(&odd, "172.32.0.0"));
}

static void client_address(void)
{
    struct netaddr_list l;
    char err[200], out[NETADDR_TEXT_MAX];
    CHECK(netaddr_parse_list("127.0.0.1, 10.0.0.0/8", &l, err, sizeof(err)) == 0);

    /* From an untrusted peer the header is ignored, whatever it says. */
    netaddr_client(&l, "203.0.113.5", "6.6.6.6", out, sizeof(out));
    CHECK_STR(out, "203.0.113.5");
    netaddr_client(&l, "127.0.0.3", "6.6.6.6, 127.0.0.3", out, sizeof(out));
    CHECK_STR(out, "127.0.0.3");
    /* No header, or no list: the peer. */
    netaddr_client(&l, "127.0.0.1", NULL, out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
    struct netaddr_list none;
    CHECK(netaddr_parse_list(NULL, &none, err, sizeof(err)) == 0);
    netaddr_client(&none, "127.0.0.1", "6.6.6.6", out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");

    /* From a trusted proxy: the right-most entry that is not a proxy; what the client wrote to
     * its left is ignored. */
    netaddr_client(&l, "127.0.0.1", "198.51.100.7", out, sizeof(out));
    CHECK_STR(out, "198.51.100.7");
    netaddr_client(&l, "127.0.0.1", "6.6.6.6, 198.51.100.7", out, sizeof(out));
    CHECK_STR(out, "198.51.100.7");
    netaddr_client(&l, "127.0.0.1", "6.6.6.6,198.51.100.7, 10.0.0.4 ,10.9.9.9", out, sizeof(out));
    CHECK_STR(out, "198.51.100.7");
    netaddr_client(&l, "::ffff:127.0.0.1", "2001:DB8::0:1", out, sizeof(out));
    CHECK_STR(out, "2001:db8::1");
    /* Every hop trusted: the left-most. */
    netaddr_client(&l, "127.0.0.1", "10.0.0.9, 10.0.0.4", out, sizeof(out));
    CHECK_STR(out, "10.0.0.9");
    /* Garbage stops the walk at the nearest trusted hop, never a made-up string. */
    netaddr_client(&l, "127.0.0.1", "198.51.100.7, <script>", out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
    netaddr_client(&l, "127.0.0.1", "6.6.6.6, bogus, 10.0.0.4", out, sizeof(out));
    CHECK_STR(out, "10.0.0.4");
    netaddr_client(&l, "127.0.0.1", "", out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
    netaddr_client(&l, "127.0.0.1", "198.51.100.7,", out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
    netaddr_client(&l, "127.0.0.1", " , ,", out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
    char longest[600];
    memset(longest, '1', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    netaddr_client(&l, "127.0.0.1", longest, out, sizeof(out));
    CHECK_STR(out, "127.0.0.1");
}

int main(void)
{
    parsing();
    matching();
    client_address();
    return testhelp_done();
}
