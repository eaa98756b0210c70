/* problem+json bodies: the one place that writes an error answer's shape. */
#include "problem.h"

#include "i18n.h"

const char *problem_title(int status)
{
    /* Marked for xgettext; problem_body translates. */
    switch (status) {
    case 400:
        return N_("Bad Request");
    case 401:
        return N_("Unauthorized");
    case 403:
        return N_("Forbidden");
    case 404:
        return N_("Not Found");
    case 405:
        return N_("Method Not Allowed");
    case 409:
        return N_("Conflict");
    case 413:
        return N_("Content Too Large");
    case 415:
        return N_("Unsupported Media Type");
    case 422:
        return N_("Unprocessable Content");
    case 429:
        return N_("Too Many Requests");
    case 500:
        return N_("Internal Server Error");
    case 503:
        return N_("Service Unavailable");
    default:
        return N_("Error");
    }
}

json_t *problem_body(int status, const char *detail, const char *request_id, enum lang lang)
{
    const char *title = i18n_text(lang, problem_title(status));
    json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", title, "status",
                          status, "detail", detail ? detail : title);
    if (p && request_id && *request_id)
        json_object_set_new(p, "request_id", json_string(request_id));
    return p;
}
