/* Structured logging: JSON lines on stderr, each written with one write(2) so lines from several
 * threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static enum log_level min_level = LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level min)
{
    min_level = min;
}

size_t log_escape(char *buf, size_t len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[7];
        size_t n;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        } else {
            esc[0] = (char)ch;
            n = 1;
        }
        if (len + n >= cap)
            break;
        memcpy(buf + len, esc, n);
        len += n;
    }
    if (len < cap)
        buf[len] = '\0';
    return len;
}

void log_line(const char *line, size_t len)
{
    char buf[LOG_LINE_MAX + 1];
    if (len > LOG_LINE_MAX)
        len = LOG_LINE_MAX;
    memcpy(buf, line, len);
    buf[len] = '\n';
    ssize_t unused = write(STDERR_FILENO, buf, len + 1);
    (void)unused; /* nowhere left to report a failing stderr */
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[LOG_LINE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[LOG_LINE_MAX];
    size_t len =
        (size_t)snprintf(line, sizeof(line),
                         "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
                         "\"msg\":\"",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
    len = log_escape(line, len, sizeof(line) - 3, msg);
    memcpy(line + len, "\"}", 2);
    log_line(line, len + 2);
}
