/* The release core's field rules: a note and a hold's reason are bounded, a reason code is one of
 * the grounds, an end is a timestamp; a refused request never reaches the database. */
#include "../../server/release.c"

#include <stdlib.h>

#include "testhelp.h"

static void releases(void)
{
    struct release_request r = {.study_id = "s", .physician_id = "p"};
    struct field_errors fe = {0};
    CHECK(release_request_check(&r, &fe) == 0);
    char *note = malloc(RELEASE_NOTE_MAX + 2);
    memset(note, 'n', RELEASE_NOTE_MAX + 1);
    note[RELEASE_NOTE_MAX + 1] = '\0';
    r.note = note;
    CHECK(release_request_check(&r, &fe) == 1);
    CHECK_STR(fe.list[0].field, "note");
    CHECK_STR(fe.list[0].why, "must be at most 4000 bytes");
    note[RELEASE_NOTE_MAX] = '\0';
    fe = (struct field_errors){0};
    CHECK(release_request_check(&r, &fe) == 0);
    free(note);
}

static void holds(void)
{
    struct hold_request h = {.study_id = "s", .physician_id = "p", .reason = "Talk first."};
    struct field_errors fe = {0};
    CHECK(hold_request_check(&h, &fe) == 0);
    h.reason = NULL;
    h.reason_code = "bored";
    h.until = "next week";
    CHECK(hold_request_check(&h, &fe) == 3);
    CHECK_STR(fe.list[0].field, "reason");
    CHECK_STR(fe.list[0].why, "is required");
    CHECK_STR(fe.list[1].why,
              "must be one of harm_risk, patient_request, data_believed_wrong, other");
    CHECK_STR(fe.list[2].field, "until");

    struct origin from = {.transport = "unit", .request_id = "unit-1"};
    struct hold_result result;
    struct outcome o = {0};
    CHECK(hold_apply(&h, &from, &result, &o) == 422);
    CHECK(o.kind == FAIL_INVALID && result.row == NULL);
    CHECK_STR(o.detail, "reason: is required");
}

int main(void)
{
    releases();
    holds();
    return testhelp_done();
}
