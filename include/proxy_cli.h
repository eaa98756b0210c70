/* The operator's proxy commands (`portald proxy-add`, `proxy-code`, `proxy-grant`,
 * `proxy-renew`, `proxy-end`) until staff create links in their console. */
#ifndef PORTAL_PROXY_CLI_H
#define PORTAL_PROXY_CLI_H

/* Runs the proxy command argv[1] with its arguments; prints what it did (and, for a new code,
 * what the proxy needs to sign in) on stdout. Returns the exit status. */
int proxy_cli(const char *conninfo, int argc, char **argv);

#endif
