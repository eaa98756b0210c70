/* The web pages, served from PORTAL_STATIC_DIR in development. Only plain file names under that
 * directory are served; nginx takes this role in production (deploy/nginx). */
#include "static_files.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"

#define STATIC_MAX_BYTES (4 * 1024 * 1024)

/* The same policy nginx sends in production: our own scripts and styles only. */
#define CONTENT_SECURITY_POLICY                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".json") == 0) /* the pages' catalogues: the same in every language asked */
        return "application/json; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".ico") == 0)
        return "image/x-icon";
    return "application/octet-stream";
}

/* Letters, digits, '-', '_', '.', '/' only, and no segment starting with a dot. */
static bool safe_path(const char *p)
{
    if (p[0] != '/')
        return false;
    for (const char *c = p; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' || *c == '/';
        if (!ok || (*c == '.' && c[-1] == '/'))
            return false;
    }
    return true;
}

int static_serve(struct req *rq)
{
    const char *p = rq->path;
    if (!safe_path(p))
        return 0;
    char file[512];
    if (strcmp(p, "/") == 0)
        p = "/index.html";
    else if (strcmp(p, "/physician") == 0 || strcmp(p, "/physician/") == 0)
        p = "/physician.html";
    if (snprintf(file, sizeof(file), "%s%s", rq->cfg->static_dir, p) >= (int)sizeof(file))
        return 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_BYTES) {
        close(fd);
        return 0;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != size) {
        free(buf);
        return req_problem(rq, 500, "Cannot read that page.");
    }
    if (req_add_header(rq, "Content-Security-Policy", CONTENT_SECURITY_POLICY) < 0 ||
        req_add_header(rq, "Cache-Control", "no-cache") < 0 ||
        req_add_header(rq, "Referrer-Policy", "no-referrer") < 0 ||
        req_add_header(rq, "X-Frame-Options", "DENY") < 0) {
        free(buf);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_raw(rq, 200, content_type(p), buf, size);
}
