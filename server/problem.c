/* problem+json bodies: the one place that writes an error answer's shape. */
#include "problem.h"

const char *problem_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

json_t *problem_body(int status, const char *detail, const char *request_id)
{
    json_t *p =
        json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", problem_title(status),
                  "status", status, "detail", detail ? detail : problem_title(status));
    if (p && request_id && *request_id)
        json_object_set_new(p, "request_id", json_string(request_id));
    return p;
}
