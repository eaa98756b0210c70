/* Patient sign-in with access code and birth date, and sign-out. A wrong code and a wrong birth
 * date answer alike, cost alike (an argon2id verification either way), and count against the
 * code and the client address in the database, so the limit holds across restarts and
 * instances. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "access_code.h"
#include "auth.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"
#include "revocation.h"
#include "session.h"
#include "validate.h"

#define FAILURES_PER_CODE    5
#define FAILURES_PER_ADDRESS 20

int h_session_create(struct req *rq)
{
    static const char *const fields[] = {"access_code", "birth_date", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *typed = v_string(&v, rq->in, "", "access_code", true, 64);
    const char *birth = v_date(&v, rq->in, "", "birth_date", true);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);

    char selector[ACCESS_SELECTOR_LEN + 1] = "", verifier[ACCESS_VERIFIER_LEN + 1] = "";
    bool well_formed = access_code_parse(typed, selector, verifier);
    char code_key[32], addr_key[80];
    snprintf(code_key, sizeof(code_key), "code:%s", selector);
    snprintf(addr_key, sizeof(addr_key), "addr:%s", rq->client_addr);

    /* A malformed code names no patient, so it counts against the address alone. */
    char keys[200], limits[32];
    if (well_formed) {
        snprintf(keys, sizeof(keys), "{\"%s\",\"%s\"}", code_key, addr_key);
        snprintf(limits, sizeof(limits), "{%d,%d}", FAILURES_PER_CODE, FAILURES_PER_ADDRESS);
    } else {
        snprintf(keys, sizeof(keys), "{\"%s\"}", addr_key);
        snprintf(limits, sizeof(limits), "{%d}", FAILURES_PER_ADDRESS);
    }
    int s;
    if ((s = session_throttle_check(rq, keys)))
        return s;

    const char *patient_id = NULL, *hash = NULL, *stored_birth = NULL, *language = NULL;
    if (well_formed) {
        const char *p[1] = {selector};
        PGresult *r;
        if ((s = req_run(rq, Q_LOGIN_LOOKUP, 1, p, &r)))
            return s;
        if (PQntuples(r) == 1) {
            patient_id = db_value(r, 0, "id");
            hash = db_value(r, 0, "access_hash");
            stored_birth = db_value(r, 0, "birth_date");
            language = db_value(r, 0, "language");
        }
    }
    bool code_ok = access_code_verify(hash, well_formed ? verifier : "--------");
    bool birth_ok = stored_birth && strlen(stored_birth) == 10 && strlen(birth) == 10;
    unsigned diff = 0;
    for (int i = 0; birth_ok && i < 10; i++)
        diff |= (unsigned)(stored_birth[i] ^ birth[i]);
    if (!code_ok || !birth_ok || diff)
        return session_refuse(rq, ROLE_PATIENT, patient_id, keys, limits,
                              "The access code and birth date do not match our records.");
    /* The saved language follows the patient to every browser they sign in on. */
    if (language) {
        rq->lang = (enum lang)i18n_lang_of_tag(language, strlen(language));
        if (req_set_language_cookie(rq, rq->lang) < 0)
            return req_problem(rq, 500, "Out of memory.");
    }
    return session_issue(rq, ROLE_PATIENT, patient_id, code_key);
}

/* Signs out: every token of the person whose token came with the request ends now, on every
 * instance (revocation.c), and the cookie is cleared. Without a valid token there is no one to
 * sign out, and only the cookie is cleared. */
int h_session_delete(struct req *rq)
{
    const char *authz = req_header(rq, "Authorization");
    const char *token =
        authz && strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7 : req_cookie(rq, AUTH_COOKIE);
    struct principal who;
    if (token && auth_verify(token, time(NULL), &who) == AUTH_OK &&
        revocation_check(&who, rq->request_id) == REVOCATION_VALID) {
        struct outcome o = {0};
        if (revocation_revoke(who.role, who.sub, rq->request_id, &o))
            return req_fail(rq, &o);
    }
    if (session_set_cookie(rq, "", 0) < 0)
        return req_problem(rq, 500, "Out of memory.");
    return req_json(rq, 200, json_pack("{s:s}", "status", "signed_out"));
}
