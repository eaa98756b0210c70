/* The operator's proxy commands: thin translators from arguments into the domain calls of
 * proxy.c, each printing what it did, or the outcome's detail on stderr. */
#include "proxy_cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli_db.h"
#include "db.h"
#include "origin.h"
#include "proxy.h"

#define CLI_CONTEXT "proxy-cli"

static int usage(void)
{
    fprintf(stderr, "usage: portald proxy-add NAME BIRTH_DATE [EMAIL] [--patient MRN]\n"
                    "                         [--authority AUTHORITY]\n"
                    "       portald proxy-patient PROXY_ID MRN|--none [--authority AUTHORITY]\n"
                    "       portald proxy-code PROXY_ID\n"
                    "       portald proxy-grant PROXY_ID MRN guardian|caregiver [--until TIME]\n"
                    "                           [--authority AUTHORITY] [--by NAME]\n"
                    "       portald proxy-renew LINK_ID UNTIL\n"
                    "       portald proxy-end LINK_ID\n");
    return 2;
}

static int failed(const struct outcome *o)
{
    fprintf(stderr, "portald: %s\n", o->detail);
    return 1;
}

/* What the proxy is given: their id for the operator's records, and the code, which is shown
 * this once. */
static void print_code(const struct proxy_code *c)
{
    printf("proxy_id\t%s\naccess_code\t%s\n", c->proxy_id, c->code);
    printf("The proxy signs in on the proxy page (/proxy.html) with this code and their own "
           "birth date.\n");
}

static int run(int argc, char **argv, const struct origin *from)
{
    const char *cmd = argv[1];
    struct outcome o = {0};
    struct proxy_code code;
    if (strcmp(cmd, "proxy-add") == 0 && argc >= 4) {
        struct proxy_person p = {argv[2], argv[3], NULL, NULL, NULL};
        int i = 4;
        if (i < argc && strncmp(argv[i], "--", 2) != 0)
            p.email = argv[i++];
        for (; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--patient") == 0)
                p.patient_mrn = argv[i + 1];
            else if (strcmp(argv[i], "--authority") == 0)
                p.patient_authority = argv[i + 1];
            else
                return usage();
        }
        if (i != argc || (p.patient_authority && !p.patient_mrn))
            return usage();
        if (proxy_create(&p, from, &code, &o))
            return failed(&o);
        print_code(&code);
        if (p.patient_mrn)
            printf("The proxy is also patient %s: one sign-in switches between their own record "
                   "and the people they follow.\n",
                   p.patient_mrn);
        return 0;
    }
    if (strcmp(cmd, "proxy-patient") == 0 && (argc == 4 || argc == 6)) {
        bool none = strcmp(argv[3], "--none") == 0;
        const char *authority = NULL;
        if (argc == 6) {
            if (none || strcmp(argv[4], "--authority") != 0)
                return usage();
            authority = argv[5];
        }
        if (proxy_set_patient(argv[2], NULL, none ? NULL : argv[3], authority, from, &o))
            return failed(&o);
        printf("proxy_patient\t%s\t%s\n", argv[2], none ? "-" : argv[3]);
        return 0;
    }
    if (strcmp(cmd, "proxy-code") == 0 && argc == 3) {
        if (proxy_new_code(argv[2], from, &code, &o))
            return failed(&o);
        print_code(&code);
        return 0;
    }
    if (strcmp(cmd, "proxy-grant") == 0 && argc >= 5) {
        struct proxy_grant g = {.proxy_id = argv[2], .mrn = argv[3], .kind = argv[4]};
        struct origin by = *from;
        for (int i = 5; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--until") == 0)
                g.ends_at = argv[i + 1];
            else if (strcmp(argv[i], "--authority") == 0)
                g.assigning_authority = argv[i + 1];
            else if (strcmp(argv[i], "--by") == 0)
                by.actor_id = argv[i + 1];
            else
                return usage();
        }
        if ((argc - 5) % 2)
            return usage();
        char link[PROXY_ID_LEN + 1];
        if (proxy_link_grant(&g, &by, link, &o))
            return failed(&o);
        printf("link_id\t%s\n", link);
        return 0;
    }
    if (strcmp(cmd, "proxy-renew") == 0 && argc == 4) {
        if (proxy_link_renew(argv[2], argv[3], from, &o))
            return failed(&o);
        printf("renewed\t%s\t%s\n", argv[2], argv[3]);
        return 0;
    }
    if (strcmp(cmd, "proxy-end") == 0 && argc == 3) {
        if (proxy_link_end(argv[2], NULL, from, &o))
            return failed(&o);
        printf("ended\t%s\n", argv[2]);
        return 0;
    }
    return usage();
}

int proxy_cli(const char *conninfo, int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct origin from = {.transport = "cli",
                          .request_id = CLI_CONTEXT,
                          .actor_role = "operator",
                          .actor_id = "operator"};
    if (cli_db_open(conninfo) < 0)
        return 1;
    int rc = run(argc, argv, &from);
    db_close();
    return rc;
}
