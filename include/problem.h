/* problem+json bodies (RFC 9457), written in one place. */
#ifndef PORTAL_PROBLEM_H
#define PORTAL_PROBLEM_H

#include <jansson.h>

/* Returns a new reference: {"type","title","status","detail","request_id"}. */
json_t *problem_body(int status, const char *detail, const char *request_id);
const char *problem_title(int status);

#endif
