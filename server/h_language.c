/* The language of the pages and of every human text in the answers (i18n.h, docs/web.md): which
 * one a request gets, and the patient's saved choice. A saved choice reaches every later request
 * as the portal_lang cookie, set here and at sign-in, so choosing costs no query per request. */
#include <string.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "i18n.h"
#include "req_db.h"
#include "validate.h"

/* {"language", "available", "default"}: what this request was answered in, for the pages. */
int h_language(struct req *rq)
{
    json_t *available = json_array();
    for (int l = 0; available && l < LANG_COUNT; l++)
        json_array_append_new(available, json_string(i18n_code((enum lang)l)));
    return req_json(rq, 200,
                    available
                        ? json_pack("{s:s, s:o, s:s}", "language", i18n_code(rq->lang), "available",
                                    available, "default", i18n_code(rq->cfg->default_language))
                        : NULL);
}

int h_patient_language_get(struct req *rq)
{
    const char *p[1] = {rq->who.sub};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_PATIENT_LANGUAGE, 1, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such patient.");
    return req_json(rq, 200,
                    json_pack("{s:s?, s:s}", "saved", db_value(res, 0, "language"), "language",
                              i18n_code(rq->lang)));
}

/* {"language": "en"|"es"|"fr"}: saved, and answered in from this answer on. */
int h_patient_language_put(struct req *rq)
{
    static const char *const fields[] = {"language", NULL};
    static const char *const codes[] = {"en", "es", "fr", NULL};
    struct validation v = {0};
    v_only(&v, rq->in, "", fields);
    const char *code = v_choice(&v, rq->in, "", "language", true, codes);
    if (v.errors.count)
        return req_invalid(rq, &v.errors);
    const char *p[2] = {rq->who.sub, code};
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_SET_PATIENT_LANGUAGE, 2, p, &res)))
        return s;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such patient.");
    rq->lang = (enum lang)i18n_lang_of_tag(code, strlen(code));
    if (req_set_language_cookie(rq, rq->lang) < 0)
        return req_problem(rq, 500, "Out of memory.");
    return req_json(rq, 200, json_pack("{s:s, s:s}", "saved", code, "language", code));
}
