/* The FHIR R4 read API (docs/fhir.md): read and search-type over the same rows the JSON API
 * shows, through the same gate. A transport like the others: it parses the request
 * (fhir_search.c), runs one named query per resource type and role (queries.c), and maps each
 * row with the resource's mapping (fhir_*.c). Another patient's resource is simply not in the
 * rows, so reading it answers 404 exactly like a missing one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "db.h"
#include "digest.h"
#include "fhir.h"
#include "fhir_capability.h"
#include "fhir_map.h"
#include "fhir_outcome.h"
#include "fhir_scope.h"
#include "fhir_search.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"

#define BASE_URL_MAX 320

typedef json_t *(*fhir_mapper)(const PGresult *res, int row);

static const fhir_mapper mappers[FHIR_TYPE_COUNT] = {
    [FHIR_PATIENT] = fhir_map_patient,
    [FHIR_PRACTITIONER] = fhir_map_practitioner,
    [FHIR_SERVICE_REQUEST] = fhir_map_service_request,
    [FHIR_IMAGING_STUDY] = fhir_map_imaging_study,
    [FHIR_DIAGNOSTIC_REPORT] = fhir_map_diagnostic_report,
};

/* [type][0]: as the patient; [type][1]: as the physician. */
static const enum query searches[FHIR_TYPE_COUNT][2] = {
    [FHIR_PATIENT] = {Q_FHIR_PATIENTS_AS_PATIENT, Q_FHIR_PATIENTS_AS_PHYSICIAN},
    [FHIR_PRACTITIONER] = {Q_FHIR_PRACTITIONERS_AS_PATIENT, Q_FHIR_PRACTITIONERS_AS_PHYSICIAN},
    [FHIR_SERVICE_REQUEST] = {Q_FHIR_SERVICE_REQUESTS_AS_PATIENT,
                              Q_FHIR_SERVICE_REQUESTS_AS_PHYSICIAN},
    [FHIR_IMAGING_STUDY] = {Q_FHIR_IMAGING_STUDIES_AS_PATIENT, Q_FHIR_IMAGING_STUDIES_AS_PHYSICIAN},
    [FHIR_DIAGNOSTIC_REPORT] = {Q_FHIR_REPORTS_AS_PATIENT, Q_FHIR_REPORTS_AS_PHYSICIAN},
};

/* ---- the request ------------------------------------------------------------------------ */

/* The resource type the path names: /fhir/R4/{Type}[/{id}]. */
static const struct fhir_resource *resource_of(const struct req *rq)
{
    const char *seg = rq->path + strlen(FHIR_BASE_PATH "/");
    return fhir_resource_named(seg, strcspn(seg, "/"));
}

static bool names_json(const char *format)
{
    static const char *const accepted[] = {"json", "application/json", "application/fhir+json",
                                           NULL};
    size_t len = strcspn(format, ";");
    while (len && format[len - 1] == ' ')
        len--;
    for (int i = 0; accepted[i]; i++)
        if (strlen(accepted[i]) == len && strncasecmp(format, accepted[i], len) == 0)
            return true;
    return false;
}

/* JSON is the only format served: an XML or other request answers 406 (R4 3.1.0.1.10). */
static int negotiate(struct req *rq)
{
    const char *format = req_query(rq, "_format");
    if (format && !names_json(format))
        return req_problem(rq, 406, "This server answers in FHIR JSON only: use _format=json.");
    const char *accept = req_header(rq, "Accept");
    if (accept && !strstr(accept, "json") && !strstr(accept, "*/*") &&
        !strstr(accept, "application/*"))
        return req_problem(rq, 406,
                           "This server answers in FHIR JSON only: accept application/fhir+json.");
    return 0;
}

static int check_scope(struct req *rq, const struct fhir_resource *r,
                       enum fhir_interaction interaction)
{
    if (!rq->who.has_scope || (rq->who.fhir_grants & fhir_grant_bit(r->type, interaction)))
        return 0;
    return req_problem(rq, 403, "The token's scopes do not allow %s %s resources.",
                       interaction == FHIR_READ ? "reading" : "searching", r->name);
}

/* What every read and search checks first: the type the path names, the format asked for, and
 * the token's scopes. NULL with *status set to the answer when one of them says no. */
static const struct fhir_resource *begin(struct req *rq, enum fhir_interaction interaction,
                                         int *status)
{
    const struct fhir_resource *r = resource_of(rq);
    if (!r) {
        *status = req_problem(rq, 404, "No such resource type.");
        return NULL;
    }
    if ((*status = negotiate(rq)) || (*status = check_scope(rq, r, interaction)))
        return NULL;
    return r;
}

/* The service base as the client reached it: PORTAL_PUBLIC_ORIGIN when set (behind a proxy it
 * must be), else this server's Host header, if it looks like a host. */
static void base_url(struct req *rq, char out[BASE_URL_MAX])
{
    if (rq->cfg->public_origin && *rq->cfg->public_origin) {
        snprintf(out, BASE_URL_MAX, "%s%s", rq->cfg->public_origin, FHIR_BASE_PATH);
        return;
    }
    const char *host = req_header(rq, "Host");
    if (!host || !*host || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        host = "localhost";
    snprintf(out, BASE_URL_MAX, "http://%s%s", host, FHIR_BASE_PATH);
}

/* ---- answers ---------------------------------------------------------------------------- */

/* meta.versionId: a digest of the resource as sent, so it changes exactly when the resource
 * does, whatever in the database changed. */
static int add_version(json_t *resource, char version[17])
{
    char *text = json_dumps(resource, JSON_COMPACT | JSON_SORT_KEYS);
    char hex[DIGEST_HEX_LEN + 1];
    int failed = !text || digest_sha256_hex(text, strlen(text), hex) < 0;
    free(text);
    if (failed)
        return -1;
    memcpy(version, hex, 16);
    version[16] = '\0';
    json_t *meta = json_object_get(resource, "meta");
    return meta ? json_object_set_new(meta, "versionId", json_string(version)) : -1;
}

static int invalid_search(struct req *rq, const struct fhir_search *s)
{
    const struct field_error *first = &s->errors.list[0];
    req_problem(rq, 400, "Search parameter %s %s", first->field, first->why);
    if (rq->out) {
        json_array_clear(json_object_get(rq->out, "issue"));
        fhir_outcome_add_fields(rq->out, "error", "invalid", &s->errors);
    }
    return 400;
}

/* ---- searching -------------------------------------------------------------------------- */

struct collected {
    struct fhir_kv kv[FHIR_SEARCH_MAX_PARAMS + 1];
    int n;
};

static bool collect(void *cls, const char *key, const char *value)
{
    struct collected *c = cls;
    if (c->n == FHIR_SEARCH_MAX_PARAMS + 1)
        return false;
    c->kv[c->n++] = (struct fhir_kv){key, value ? value : ""};
    return true;
}

static bool handling_strict(struct req *rq)
{
    const char *prefer = req_header(rq, "Prefer");
    return prefer && strcasestr(prefer, "handling=strict");
}

/* Runs the search of r for the token's principal; *res holds the page's rows. */
static int run_search(struct req *rq, const struct fhir_resource *r, const struct fhir_search *s,
                      PGresult **res)
{
    char ids[FHIR_SEARCH_MAX_IDS * (FHIR_ID_MAX + 1) + 3] = "{";
    for (int i = 0; i < s->nids; i++) {
        if (i)
            strcat(ids, ",");
        strcat(ids, s->ids[i]);
    }
    strcat(ids, "}");
    char statuses[160] = "{";
    for (int i = 0; i < FHIR_MAX_STATUSES && r->statuses[i]; i++)
        if (s->statuses & (1u << i)) {
            if (statuses[1])
                strcat(statuses, ",");
            strcat(statuses, r->statuses[i]);
        }
    strcat(statuses, "}");
    char bounds[4][24], limit[16], offset[24];
    const struct fhir_time_range *ranges[2] = {&s->date, &s->updated};
    const char *p[FQP_COUNT] = {0};
    for (int i = 0; i < 2; i++) {
        snprintf(bounds[2 * i], sizeof(bounds[0]), "%lld", ranges[i]->lower_us);
        snprintf(bounds[2 * i + 1], sizeof(bounds[0]), "%lld", ranges[i]->upper_us);
        p[FQP_DATE_FROM + 2 * i] = ranges[i]->has_lower ? bounds[2 * i] : NULL;
        p[FQP_DATE_BEFORE + 2 * i] = ranges[i]->has_upper ? bounds[2 * i + 1] : NULL;
    }
    snprintf(limit, sizeof(limit), "%d", s->count);
    snprintf(offset, sizeof(offset), "%ld", s->offset);
    p[FQP_WHO] = rq->who.sub;
    p[FQP_IDS] = s->has_ids ? ids : NULL;
    p[FQP_PATIENT] = s->has_patient ? s->patient : NULL;
    p[FQP_STATUSES] = s->has_status ? statuses : NULL;
    p[FQP_ASCENDING] = s->ascending ? "t" : "f";
    p[FQP_LIMIT] = limit;
    p[FQP_OFFSET] = offset;
    p[FQP_REQUEST_ID] = rq->request_id;
    p[FQP_CLIENT_ADDR] = rq->client_addr;
    enum query q = searches[r->type][rq->who.role == ROLE_PHYSICIAN];
    return req_run(rq, q, queries[q].nparams, p, res);
}

/* A growing string for the links; on out of memory it frees its text and stays NULL. */
struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, bool encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; t->s && *s; s++) {
        if (t->len + 4 > t->cap) {
            size_t grown = t->cap * 2 + 64;
            char *b = realloc(t->s, grown);
            if (!b) {
                free(t->s);
                t->s = NULL;
                return;
            }
            t->s = b;
            t->cap = grown;
        }
        unsigned char c = (unsigned char)*s;
        bool plain = !encode || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || strchr("-._~|:,", c);
        if (plain) {
            t->s[t->len++] = (char)c;
        } else {
            t->s[t->len++] = '%';
            t->s[t->len++] = hex[c >> 4];
            t->s[t->len++] = hex[c & 15];
        }
    }
    if (t->s)
        t->s[t->len] = '\0';
}

/* A link of the search: the parameters that shaped it, in the order given, and the page. */
static json_t *link(const char *relation, const char *base, const struct fhir_resource *r,
                    const struct collected *c, const struct fhir_search *s, long offset)
{
    struct text url = {calloc(1, 1), 0, 1};
    text_add(&url, base, false);
    text_add(&url, "/", false);
    text_add(&url, r->name, false);
    text_add(&url, "?", false);
    for (int i = 0; i < c->n; i++) {
        if (!s->used[i])
            continue;
        text_add(&url, c->kv[i].key, true);
        text_add(&url, "=", false);
        text_add(&url, c->kv[i].value, true);
        text_add(&url, "&", false);
    }
    char cursor[FHIR_CURSOR_MAX];
    fhir_cursor_encode(offset, cursor);
    text_add(&url, "_page=", false);
    text_add(&url, cursor, false);
    json_t *l = url.s ? json_pack("{s:s, s:s}", "relation", relation, "url", url.s) : NULL;
    free(url.s);
    return l;
}

static json_t *entry(const char *base, const char *type, json_t *resource)
{
    char full_url[BASE_URL_MAX + 128];
    snprintf(full_url, sizeof(full_url), "%s/%s/%s", base, type,
             json_string_value(json_object_get(resource, "id")));
    return json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", full_url, "resource", resource, "search",
                     "mode", "match");
}

/* The warnings of a lenient search, as an entry of search mode "outcome". */
static json_t *warnings_entry(const struct fhir_search *s)
{
    json_t *outcome = json_pack("{s:s, s:[]}", "resourceType", "OperationOutcome", "issue");
    if (!outcome)
        return NULL;
    if (s->count_clamped) {
        struct field_errors fe = {0};
        field_error_add(&fe, "", "_count", "is more than 100; pages hold at most 100 entries");
        fhir_outcome_add_fields(outcome, "warning", "informational", &fe);
    }
    fhir_outcome_add_fields(outcome, "warning", "not-supported", &s->warnings);
    return json_pack("{s:o, s:{s:s}}", "resource", outcome, "search", "mode", "outcome");
}

int h_fhir_search(struct req *rq)
{
    int st;
    const struct fhir_resource *r = begin(rq, FHIR_SEARCH, &st);
    if (!r)
        return st;
    struct collected c = {0};
    req_query_each(rq, collect, &c);
    struct fhir_search s;
    if (fhir_search_parse(r, c.kv, c.n, handling_strict(rq), &s) < 0)
        return invalid_search(rq, &s);

    PGresult *res = NULL;
    if (!s.matches_nothing && s.count > 0 && (st = run_search(rq, r, &s, &res)))
        return st;
    int rows = res ? PQntuples(res) : 0;
    long total = rows ? atol(db_value(res, 0, "total")) : (s.offset == 0 && s.count > 0 ? 0 : -1);

    char base[BASE_URL_MAX];
    base_url(rq, base);
    json_t *entries = json_array();
    json_t *links = json_array();
    json_t *bundle = json_pack("{s:s, s:s}", "resourceType", "Bundle", "type", "searchset");
    bool failed = !entries || !links || !bundle;
    for (int i = 0; !failed && i < rows; i++) {
        json_t *resource = mappers[r->type](res, i);
        char version[17];
        failed = !resource || add_version(resource, version) < 0 ||
                 json_array_append_new(entries, entry(base, r->name, resource)) < 0;
        if (failed && resource && !json_object_get(resource, "meta"))
            json_decref(resource);
    }
    if (!failed && (s.warnings.count || s.count_clamped))
        failed = json_array_append_new(entries, warnings_entry(&s)) < 0;
    if (!failed)
        failed = json_array_append_new(links, link("self", base, r, &c, &s, s.offset)) < 0;
    if (!failed && total >= 0 && s.offset + s.count < total)
        failed =
            json_array_append_new(links, link("next", base, r, &c, &s, s.offset + s.count)) < 0;
    if (!failed && total >= 0)
        failed = json_object_set_new(bundle, "total", json_integer(total)) < 0;
    if (!failed)
        failed = json_object_set(bundle, "link", links) < 0 ||
                 json_object_set(bundle, "entry", entries) < 0;
    json_decref(entries);
    json_decref(links);
    if (failed) {
        json_decref(bundle);
        return req_problem(rq, 500, "Out of memory.");
    }
    return req_json(rq, 200, bundle);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Whether If-None-Match names the version (a list of entity tags, weak or strong, or *). */
static bool not_modified(struct req *rq, const char *etag)
{
    const char *given = req_header(rq, "If-None-Match");
    if (!given)
        return false;
    if (strcmp(given, "*") == 0)
        return true;
    const char *strong = etag + 2; /* W/"..." compared weakly (RFC 9110 13.1.2) */
    const char *p = given;
    while (*p) {
        p += strspn(p, " ,");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, " ,");
        if (len == strlen(strong) && strncmp(p, strong, len) == 0)
            return true;
        p += len;
    }
    return false;
}

int h_fhir_read(struct req *rq)
{
    int st;
    const struct fhir_resource *r = begin(rq, FHIR_READ, &st);
    if (!r)
        return st;
    struct fhir_search s = {.resource = r, .nids = 1, .has_ids = true, .count = 1};
    /* The router let through a FHIR id only, so it fits. */
    size_t id_len = strnlen(rq->id, FHIR_ID_MAX);
    memcpy(s.ids[0], rq->id, id_len);
    s.ids[0][id_len] = '\0';
    PGresult *res;
    if ((st = run_search(rq, r, &s, &res)))
        return st;
    if (PQntuples(res) != 1)
        return req_problem(rq, 404, "No such %s.", r->name);
    json_t *resource = mappers[r->type](res, 0);
    char version[17], etag[24];
    if (!resource || add_version(resource, version) < 0) {
        json_decref(resource);
        return req_problem(rq, 500, "Out of memory.");
    }
    snprintf(etag, sizeof(etag), "W/\"%s\"", version);
    if (req_add_header(rq, "ETag", etag) < 0) {
        json_decref(resource);
        return req_problem(rq, 500, "Out of memory.");
    }
    if (not_modified(rq, etag)) {
        json_decref(resource);
        return req_raw(rq, 304, FHIR_CONTENT_TYPE, calloc(1, 1), 0);
    }
    return req_json(rq, 200, resource);
}

/* ---- discovery -------------------------------------------------------------------------- */

int h_fhir_metadata(struct req *rq)
{
    int st = negotiate(rq);
    if (st)
        return st;
    char base[BASE_URL_MAX];
    base_url(rq, base);
    return req_json(rq, 200, fhir_capability_statement(rq->cfg, base));
}

int h_fhir_smart_configuration(struct req *rq)
{
    const struct config *cfg = rq->cfg;
    if (!cfg->smart_authorize_url || !cfg->smart_token_url)
        return req_problem(rq, 404,
                           "This site has not configured an identity provider for SMART apps "
                           "(PORTAL_SMART_AUTHORIZE_URL and PORTAL_SMART_TOKEN_URL).");
    json_t *body = fhir_smart_configuration(cfg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return req_problem(rq, 500, "Out of memory.");
    /* A SMART discovery document is plain JSON, also under the FHIR base. */
    return req_raw(rq, 200, "application/json", text, strlen(text));
}
