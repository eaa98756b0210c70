/* Orthanc's REST answers, parsed and checked: a page of the change feed and a study's main DICOM
 * tags. Whatever the body holds (an error page, a proxy's answer, a truncated or hostile JSON), the
 * result is either a struct whose every value was checked or a refusal that quotes nothing. */
#include "orthanc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

/* Nesting deeper than Orthanc's answers ever go is refused by jansson's own limit; the size is
 * bounded by the caller (the follower reads at most a few MiB). */
#define PARSE_FLAGS 0

bool orthanc_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ORTHANC_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-'))
            return false;
    return true;
}

bool orthanc_time(const char *in, char out[ORTHANC_TIME_SIZE])
{
    out[0] = '\0';
    if (!in || strlen(in) != 15 || in[8] != 'T')
        return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (in[i] < '0' || in[i] > '9'))
            return false;
    snprintf(out, ORTHANC_TIME_SIZE, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", in, in + 4, in + 6, in + 9,
             in + 11, in + 13);
    if (!timefmt_is_rfc3339(out)) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* Copies s into out (cap bytes with the NUL) without the spaces DICOM pads values with; leaves ""
 * when s is absent, blank or longer than fits. */
static void copy_trimmed(const char *s, char *out, size_t cap)
{
    out[0] = '\0';
    if (!s)
        return;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0 || n >= cap)
        return;
    memcpy(out, s, n);
    out[n] = '\0';
}

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

/* One element of "Changes". */
static int parse_change(json_t *c, long long after, struct orthanc_change *out, char *err,
                        size_t errlen)
{
    json_t *seq = json_object_get(c, "Seq");
    json_t *type = json_object_get(c, "ChangeType");
    json_t *id = json_object_get(c, "ID");
    if (!json_is_object(c) || !json_is_integer(seq) || !json_is_string(type))
        return fail(err, errlen, "a change without an integer Seq and a ChangeType");
    out->seq = json_integer_value(seq);
    if (out->seq <= after)
        return fail(err, errlen, "the changes' Seq do not increase past the position asked for");
    out->type = strcmp(json_string_value(type), "StableStudy") == 0 ? ORTHANC_CHANGE_STABLE_STUDY
                                                                    : ORTHANC_CHANGE_OTHER;
    out->id[0] = '\0';
    if (out->type == ORTHANC_CHANGE_STABLE_STUDY) {
        if (!json_is_string(id) || !orthanc_id_valid(json_string_value(id)))
            return fail(err, errlen, "a StableStudy change without a well-formed study ID");
        snprintf(out->id, sizeof(out->id), "%s", json_string_value(id));
    }
    json_t *date = json_object_get(c, "Date");
    (void)orthanc_time(json_is_string(date) ? json_string_value(date) : NULL, out->date);
    return 0;
}

int orthanc_parse_changes(const char *body, size_t len, long long since,
                          struct orthanc_changes *out, char *err, size_t errlen)
{
    out->count = 0;
    out->done = false;
    out->last = since;
    json_t *root = json_loadb(body, len, PARSE_FLAGS, NULL);
    if (!root)
        return fail(err, errlen, "the answer to /changes is not JSON");
    int rc = -1;
    json_t *changes = json_object_get(root, "Changes");
    json_t *done = json_object_get(root, "Done");
    json_t *last = json_object_get(root, "Last");
    if (!json_is_object(root) || !json_is_array(changes) || !json_is_boolean(done) ||
        !json_is_integer(last)) {
        fail(err, errlen, "the answer to /changes lacks Changes, Done or Last");
        goto done;
    }
    if (json_array_size(changes) > ORTHANC_CHANGES_MAX) {
        fail(err, errlen, "the answer to /changes holds more changes than asked for");
        goto done;
    }
    long long after = since;
    for (size_t i = 0; i < json_array_size(changes); i++) {
        struct orthanc_change *c = &out->list[out->count];
        if (parse_change(json_array_get(changes, i), after, c, err, errlen) < 0)
            goto done;
        after = c->seq;
        out->count++;
    }
    out->done = json_is_true(done);
    out->last = json_integer_value(last);
    if (out->last < after) {
        fail(err, errlen, "the answer to /changes has a Last below its changes");
        goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        out->count = 0;
    json_decref(root);
    return rc;
}

int orthanc_parse_study(const char *body, size_t len, const char *id, struct orthanc_study *out,
                        char *err, size_t errlen)
{
    out->accession[0] = out->study_instance_uid[0] = out->last_update[0] = '\0';
    json_t *root = json_loadb(body, len, PARSE_FLAGS, NULL);
    if (!root)
        return fail(err, errlen, "the answer to /studies/{id} is not JSON");
    int rc = -1;
    json_t *tags = json_object_get(root, "MainDicomTags");
    json_t *got = json_object_get(root, "ID");
    if (!json_is_object(root) || !json_is_object(tags)) {
        fail(err, errlen, "the answer to /studies/{id} lacks MainDicomTags");
        goto done;
    }
    if (!json_is_string(got) || strcmp(json_string_value(got), id) != 0) {
        fail(err, errlen, "the answer to /studies/{id} is about another resource");
        goto done;
    }
    json_t *accession = json_object_get(tags, "AccessionNumber");
    json_t *uid = json_object_get(tags, "StudyInstanceUID");
    json_t *updated = json_object_get(root, "LastUpdate");
    copy_trimmed(json_is_string(accession) ? json_string_value(accession) : NULL, out->accession,
                 sizeof(out->accession));
    copy_trimmed(json_is_string(uid) ? json_string_value(uid) : NULL, out->study_instance_uid,
                 sizeof(out->study_instance_uid));
    (void)orthanc_time(json_is_string(updated) ? json_string_value(updated) : NULL,
                       out->last_update);
    rc = 0;
done:
    json_decref(root);
    return rc;
}
