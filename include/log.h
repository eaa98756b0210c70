/* Structured logging: one JSON object per line on stderr, for operators (never report text,
 * tokens or access codes). */
#ifndef PORTAL_LOG_H
#define PORTAL_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

/* Appends s to buf as a JSON string body (no quotes), escaping as needed; returns the new length,
 * never writing past cap (output truncated instead). */
size_t log_escape(char *buf, size_t len, size_t cap, const char *s);

/* Writes one already formatted line (adds the newline) with a single write(2). */
void log_line(const char *line, size_t len);

#endif
