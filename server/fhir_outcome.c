/* OperationOutcome bodies (fhir_outcome.h): the FHIR API's counterpart of problem.c. */
#include "fhir_outcome.h"

#include <stdio.h>

/* The IssueType (http://hl7.org/fhir/issue-type) that fits an HTTP status. */
static const char *issue_code(int status)
{
    switch (status) {
    case 400:
    case 422:
        return "invalid";
    case 401:
        return "login";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 405:
    case 406:
    case 415:
        return "not-supported";
    case 409:
        return "conflict";
    case 413:
    case 414:
    case 431:
        return "too-long";
    case 429:
        return "throttled";
    case 503:
        return "transient";
    default:
        return "exception";
    }
}

json_t *fhir_outcome_body(int status, const char *detail, const char *request_id)
{
    char diagnostics[96];
    snprintf(diagnostics, sizeof(diagnostics), "request id %s",
             request_id && *request_id ? request_id : "-");
    return json_pack("{s:s, s:[{s:s, s:s, s:{s:s}, s:s}]}", "resourceType", "OperationOutcome",
                     "issue", "severity", status >= 400 ? "error" : "information", "code",
                     issue_code(status), "details", "text", detail ? detail : "Error",
                     "diagnostics", diagnostics);
}

int fhir_outcome_add_fields(json_t *outcome, const char *severity, const char *code,
                            const struct field_errors *fe)
{
    json_t *issues = json_object_get(outcome, "issue");
    if (!json_is_array(issues))
        return -1;
    for (int i = 0; i < fe->count; i++) {
        char text[300];
        snprintf(text, sizeof(text), "%s %s", fe->list[i].field, fe->list[i].why);
        if (json_array_append_new(issues, json_pack("{s:s, s:s, s:{s:s}, s:[s]}", "severity",
                                                    severity, "code", code, "details", "text", text,
                                                    "expression", fe->list[i].field)) < 0)
            return -1;
    }
    return 0;
}
