/* problem+json bodies (RFC 9457), written in one place. */
#ifndef PORTAL_PROBLEM_H
#define PORTAL_PROBLEM_H

#include <jansson.h>

#include "i18n.h"

/* Returns a new reference: {"type","title","status","detail","request_id"}, the title in lang
 * (detail is the caller's, already in lang). */
json_t *problem_body(int status, const char *detail, const char *request_id, enum lang lang);
/* The English title (a msgid). */
const char *problem_title(int status);

#endif
