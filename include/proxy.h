/* Proxy access (issue 16), the domain calls every transport shares: a proxy's own sign-in code,
 * and the links that let them act for a patient (granted, renewed, ended). The operator commands
 * (proxy_cli.c) and the staff console (h_staff_proxies.c) call them; the rules and the audit, under
 * the origin's actor and request id, are the database's (sql/definitions/65_proxies.sql). */
#ifndef PORTAL_PROXY_H
#define PORTAL_PROXY_H

#include "access_code.h"
#include "outcome.h"

struct origin;

#define PROXY_ID_LEN 36

/* A proxy and the code they sign in with, shown once: only its hash is kept. */
struct proxy_code {
    char proxy_id[PROXY_ID_LEN + 1];
    char code[ACCESS_CODE_LEN + 1];
};

struct proxy_person {
    const char *name;
    const char *birth_date; /* YYYY-MM-DD: their own, asked at sign-in with the code */
    const char *email;      /* NULL: none */
    /* The proxy is also this patient of the site (their own record), by MRN and, when the MRN is
     * used by more than one, assigning authority; NULL: not a patient here. */
    const char *patient_mrn;
    const char *patient_authority;
};

struct proxy_grant {
    const char *proxy_id;
    const char *patient_id; /* the patient by id (the console), or NULL: by mrn (the command) */
    const char *mrn;
    const char *assigning_authority; /* NULL: the MRN alone, which must then name one patient */
    const char *kind;                /* "guardian" or "caregiver" */
    const char *starts_at;           /* RFC 3339, or NULL: now */
    const char *ends_at;             /* RFC 3339, or NULL (a guardian: the age of majority) */
};

/* A new proxy person and their first code. Returns 0, or a status with o filled (422 naming the
 * field). from->actor_id is who did it, for the audit log. */
__attribute__((warn_unused_result)) int proxy_create(const struct proxy_person *p,
                                                     const struct origin *from,
                                                     struct proxy_code *out, struct outcome *o);
/* A new proxy person, their first code and their link to g->patient_id (g->proxy_id unused), in
 * one statement: nothing is kept when the link is refused. 404 when there is no such patient. */
__attribute__((warn_unused_result)) int
proxy_create_linked(const struct proxy_person *p, const struct proxy_grant *g,
                    const struct origin *from, struct proxy_code *out,
                    char link_id[PROXY_ID_LEN + 1], struct outcome *o);
/* A new code for an existing proxy; the old code and its sessions stop working. 404 when there
 * is no such proxy. */
__attribute__((warn_unused_result)) int proxy_new_code(const char *proxy_id,
                                                       const struct origin *from,
                                                       struct proxy_code *out, struct outcome *o);
/* Records that proxy_id is the same person as a patient (by patient_id, else by mrn and
 * authority; all NULL: no patient of the site), so that one sign-in switches between their own
 * record and the people they follow (h_session_switch.c). 404 for no such proxy or patient id, 422
 * naming the field when the MRN names no one or more than one, or the birth dates differ; 409 when
 * the patient is recorded as another proxy. Audited as from->actor. */
__attribute__((warn_unused_result)) int
proxy_set_patient(const char *proxy_id, const char *patient_id, const char *mrn,
                  const char *authority, const struct origin *from, struct outcome *o);
/* Links a proxy to a patient; link_id receives the new link's id. */
__attribute__((warn_unused_result)) int proxy_link_grant(const struct proxy_grant *g,
                                                         const struct origin *from,
                                                         char link_id[PROXY_ID_LEN + 1],
                                                         struct outcome *o);
/* A new end for a link in force (an adult proxy's renewal); 404 when there is no such link or it
 * was ended. */
__attribute__((warn_unused_result)) int proxy_link_renew(const char *link_id, const char *ends_at,
                                                         const struct origin *from,
                                                         struct outcome *o);
/* Ends a link now. patient_id, when not NULL, must be the link's patient (the patient ending
 * their proxy's access); from->actor_role and actor_id say who. 404 when nothing was ended. */
__attribute__((warn_unused_result)) int proxy_link_end(const char *link_id, const char *patient_id,
                                                       const struct origin *from,
                                                       struct outcome *o);

#endif
