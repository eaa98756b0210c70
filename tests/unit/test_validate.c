/* Field validation: the first failure becomes a 422 whose detail names the field by its path, and
 * later checks leave it alone; unknown members are refused without echoing odd key text. */
#include "../../server/validate.c"

#include <stdlib.h>

#include "testhelp.h"

static struct req *rq;

static void fresh(void)
{
    if (rq)
        json_decref(rq->out);
    free(rq);
    rq = calloc(1, sizeof(*rq));
    snprintf(rq->request_id, sizeof(rq->request_id), "unit");
}

static const char *detail(void)
{
    return rq->out ? json_string_value(json_object_get(rq->out, "detail")) : NULL;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    return json_loads(text, JSON_REJECT_DUPLICATES, &e);
}

static void strings(void)
{
    json_t *o = parse("{\"a\":\"x\",\"e\":\"\",\"n\":5,\"z\":null,\"long\":\"abcdef\"}");
    fresh();
    struct validation v = {rq, 0};
    CHECK_STR(v_string(&v, o, "", "a", true, 10), "x");
    CHECK(v_string(&v, o, "", "missing", false, 10) == NULL && v.status == 0);
    CHECK(v_string(&v, o, "", "z", false, 10) == NULL && v.status == 0);
    CHECK(v_string(&v, o, "", "e", false, 10) == NULL && v.status == 0);
    CHECK(v_string(&v, o, "p", "missing", true, 10) == NULL);
    CHECK(v.status == 422 && rq->status == 422);
    CHECK_STR(detail(), "p.missing: is required");
    /* Later failures do not overwrite the first. */
    CHECK(v_string(&v, o, "", "n", true, 10) == NULL);
    CHECK_STR(detail(), "p.missing: is required");

    struct {
        const char *key;
        bool required;
        size_t max;
        const char *want;
    } cases[] = {
        {"z", true, 10, "z: is required"},
        {"e", true, 10, "e: must not be empty"},
        {"n", false, 10, "n: must be a string"},
        {"long", true, 5, "long: must be at most 5 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fresh();
        struct validation w = {rq, 0};
        CHECK(v_string(&w, o, "", cases[i].key, cases[i].required, cases[i].max) == NULL);
        CHECK(w.status == 422);
        CHECK_STR(detail(), cases[i].want);
    }
    json_decref(o);

    /* A NUL inside a JSON string would cut the C string short: refused. */
    o = json_loadb("{\"s\":\"a\\u0000b\"}", 16, JSON_ALLOW_NUL, NULL);
    CHECK(o != NULL);
    fresh();
    struct validation w = {rq, 0};
    CHECK(v_string(&w, o, "x", "s", true, 10) == NULL);
    CHECK_STR(detail(), "x.s: must not contain NUL characters");
    json_decref(o);
}

static void choices_dates_objects(void)
{
    static const char *const colours[] = {"red", "green", NULL};
    json_t *o = parse("{\"c\":\"blue\",\"ok\":\"red\",\"t\":\"2026-11-20T14:05:00Z\","
                      "\"bt\":\"2026-11-20\",\"d\":\"1985-12-10\",\"bd\":\"1985-02-30\","
                      "\"obj\":{\"k\":1},\"notobj\":[1]}");
    fresh();
    struct validation v = {rq, 0};
    CHECK_STR(v_choice(&v, o, "", "ok", true, colours), "red");
    CHECK_STR(v_timestamp(&v, o, "", "t", true), "2026-11-20T14:05:00Z");
    CHECK_STR(v_date(&v, o, "", "d", true), "1985-12-10");
    CHECK(v_object(&v, o, "", "obj", true) == json_object_get(o, "obj"));
    CHECK(v.status == 0);
    CHECK(v_choice(&v, o, "study", "c", true, colours) == NULL);
    CHECK_STR(detail(), "study.c: must be one of red, green");
    fresh();
    v = (struct validation){rq, 0};
    CHECK(v_timestamp(&v, o, "", "bt", true) == NULL);
    CHECK_STR(detail(), "bt: must be an RFC 3339 timestamp such as 2026-11-20T14:05:00Z");
    fresh();
    v = (struct validation){rq, 0};
    CHECK(v_date(&v, o, "patient", "bd", true) == NULL);
    CHECK_STR(detail(), "patient.bd: must be a date such as 1985-12-10");
    fresh();
    v = (struct validation){rq, 0};
    CHECK(v_object(&v, o, "", "notobj", true) == NULL);
    CHECK_STR(detail(), "notobj: must be an object");
    /* A missing parent object: its members are simply absent, and only the parent is named. */
    fresh();
    v = (struct validation){rq, 0};
    json_t *none = v_object(&v, o, "", "patient", true);
    CHECK(none == NULL);
    CHECK(v_string(&v, none, "patient", "mrn", true, 10) == NULL);
    CHECK_STR(detail(), "patient: is required");
    json_decref(o);
}

static void unknown_members(void)
{
    static const char *const allowed[] = {"a", "b", NULL};
    json_t *o = parse("{\"a\":1,\"b\":2}");
    fresh();
    struct validation v = {rq, 0};
    v_only(&v, o, "", allowed);
    CHECK(v.status == 0);
    v_only(&v, NULL, "x", allowed);
    CHECK(v.status == 0);
    json_decref(o);

    o = parse("{\"a\":1,\"colour\":2}");
    v_only(&v, o, "study", allowed);
    CHECK(v.status == 422);
    CHECK_STR(detail(), "study.colour: is not a recognised field");
    json_decref(o);

    /* Keys that are long, hold quotes or control characters are not repeated back. */
    const char *odd[] = {
        "{\"a\\\"b\":1}", "{\"a\\nb\":1}",
        "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
        "{\"caf\\u00e9\":1}"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        o = parse(odd[i]);
        fresh();
        v = (struct validation){rq, 0};
        v_only(&v, o, "", allowed);
        CHECK_STR(detail(), "(unnamed): is not a recognised field");
        json_decref(o);
    }
}

int main(void)
{
    strings();
    choices_dates_objects();
    unknown_members();
    fresh();
    free(rq);
    return testhelp_done();
}
