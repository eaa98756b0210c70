/* Field validation: every failure is recorded by the field's path, the first stays first (the one a
 * client reads in detail); unknown members are refused without echoing odd key text. */
#include "../../server/validate.c"

#include <stdlib.h>

#include "testhelp.h"

/* The first failure as a client reads it: "path: why". */
static const char *detail(const struct validation *v)
{
    static char text[sizeof(v->errors.list[0].field) + sizeof(v->errors.list[0].why) + 2];
    if (!v->errors.count)
        return NULL;
    snprintf(text, sizeof(text), "%s: %s", v->errors.list[0].field, v->errors.list[0].why);
    return text;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    return json_loads(text, JSON_REJECT_DUPLICATES, &e);
}

static void strings(void)
{
    json_t *o = parse("{\"a\":\"x\",\"e\":\"\",\"n\":5,\"z\":null,\"long\":\"abcdef\"}");
    struct validation v = {0};
    CHECK_STR(v_string(&v, o, "", "a", true, 10), "x");
    CHECK(v_string(&v, o, "", "missing", false, 10) == NULL && v.errors.count == 0);
    CHECK(v_string(&v, o, "", "z", false, 10) == NULL && v.errors.count == 0);
    CHECK(v_string(&v, o, "", "e", false, 10) == NULL && v.errors.count == 0);
    CHECK(v_string(&v, o, "p", "missing", true, 10) == NULL);
    CHECK(v.errors.count == 1);
    CHECK_STR(detail(&v), "p.missing: is required");
    /* Later failures are kept after the first. */
    CHECK(v_string(&v, o, "", "n", true, 10) == NULL);
    CHECK_STR(detail(&v), "p.missing: is required");
    CHECK(v.errors.count == 2);
    CHECK_STR(v.errors.list[1].field, "n");
    CHECK_STR(v.errors.list[1].why, "must be a string");

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
        struct validation w = {0};
        CHECK(v_string(&w, o, "", cases[i].key, cases[i].required, cases[i].max) == NULL);
        CHECK(w.errors.count > 0);
        CHECK_STR(detail(&w), cases[i].want);
    }
    json_decref(o);

    /* A NUL inside a JSON string would cut the C string short: refused. */
    o = json_loadb("{\"s\":\"a\\u0000b\"}", 16, JSON_ALLOW_NUL, NULL);
    CHECK(o != NULL);
    struct validation w = {0};
    CHECK(v_string(&w, o, "x", "s", true, 10) == NULL);
    CHECK_STR(detail(&w), "x.s: must not contain NUL characters");
    json_decref(o);
}

static void choices_dates_objects(void)
{
    static const char *const colours[] = {"red", "green", NULL};
    json_t *o = parse("{\"c\":\"blue\",\"ok\":\"red\",\"t\":\"2026-11-20T14:05:00Z\","
                      "\"bt\":\"2026-11-20\",\"d\":\"1985-12-10\",\"bd\":\"1985-02-30\","
                      "\"obj\":{\"k\":1},\"notobj\":[1]}");
    struct validation v = {0};
    CHECK_STR(v_choice(&v, o, "", "ok", true, colours), "red");
    CHECK_STR(v_timestamp(&v, o, "", "t", true), "2026-11-20T14:05:00Z");
    CHECK_STR(v_date(&v, o, "", "d", true), "1985-12-10");
    CHECK(v_object(&v, o, "", "obj", true) == json_object_get(o, "obj"));
    CHECK(v.errors.count == 0);
    CHECK(v_choice(&v, o, "study", "c", true, colours) == NULL);
    CHECK_STR(detail(&v), "study.c: must be one of red, green");
    v = (struct validation){0};
    CHECK(v_timestamp(&v, o, "", "bt", true) == NULL);
    CHECK_STR(detail(&v), "bt: must be an RFC 3339 timestamp such as 2026-11-20T14:05:00Z");
    v = (struct validation){0};
    CHECK(v_date(&v, o, "patient", "bd", true) == NULL);
    CHECK_STR(detail(&v), "patient.bd: must be a date such as 1985-12-10");
    v = (struct validation){0};
    CHECK(v_object(&v, o, "", "notobj", true) == NULL);
    CHECK_STR(detail(&v), "notobj: must be an object");
    /* A missing parent object: its members are simply absent, and only the parent is named. */
    v = (struct validation){0};
    json_t *none = v_object(&v, o, "", "patient", true);
    CHECK(none == NULL);
    CHECK(v_string(&v, none, "patient", "mrn", true, 10) == NULL);
    CHECK_STR(detail(&v), "patient: is required");
    json_decref(o);
}

static void unknown_members(void)
{
    static const char *const allowed[] = {"a", "b", NULL};
    json_t *o = parse("{\"a\":1,\"b\":2}");
    struct validation v = {0};
    v_only(&v, o, "", allowed);
    CHECK(v.errors.count == 0);
    v_only(&v, NULL, "x", allowed);
    CHECK(v.errors.count == 0);
    json_decref(o);

    o = parse("{\"a\":1,\"colour\":2}");
    v_only(&v, o, "study", allowed);
    CHECK(v.errors.count > 0);
    CHECK_STR(detail(&v), "study.colour: is not a recognised field");
    json_decref(o);

    /* Keys that are long, hold quotes or control characters are not repeated back. */
    const char *odd[] = {
        "{\"a\\\"b\":1}", "{\"a\\nb\":1}",
        "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
        "{\"caf\\u00e9\":1}"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        o = parse(odd[i]);
        v = (struct validation){0};
        v_only(&v, o, "", allowed);
        CHECK_STR(detail(&v), "(unnamed): is not a recognised field");
        json_decref(o);
    }
}

/* More failures than a list holds: the first ones are kept, the rest counted. */
static void too_many(void)
{
    json_t *o = parse("{}");
    struct validation v = {0};
    char key[8];
    for (int i = 0; i < FIELD_ERRORS_MAX + 3; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK(v_string(&v, o, "", key, true, 10) == NULL);
    }
    CHECK(v.errors.count == FIELD_ERRORS_MAX);
    CHECK(v.errors.dropped == 3);
    CHECK_STR(detail(&v), "k0: is required");
    json_decref(o);
}

int main(void)
{
    strings();
    choices_dates_objects();
    unknown_members();
    too_many();
    return testhelp_done();
}
