/* The web pages under PORTAL_STATIC_DIR, served by portald in development (nginx serves them in
 * production). */
#ifndef PORTAL_STATIC_FILES_H
#define PORTAL_STATIC_FILES_H

struct req;

/* Answers a GET for a file under the static directory. Returns the status, or 0 when no such file
 * exists (the caller answers 404). */
int static_serve(struct req *rq);

#endif
