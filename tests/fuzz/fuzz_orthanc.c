/* libFuzzer harness for the parsers of Orthanc's answers (server/orthanc.c): any bytes, read as a
 * page of /changes and as a study, are refused with a reason or give structs whose every value
 * keeps the promises the PACS follower relies on: changes in increasing order past the position
 * asked for and not past Last, a study id fit for a URL path, times in RFC 3339, an accession and
 * a UID that fit and carry no padding. The first byte chooses the position asked for. */
#include "../../server/orthanc.c"
#include "../../server/timefmt.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct orthanc_changes page;

static void check_time(const char *t)
{
    if (t[0] && (strlen(t) != ORTHANC_TIME_SIZE - 1 || !timefmt_is_rfc3339(t)))
        __builtin_trap();
}

static void check_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max || (n && (s[0] == ' ' || s[n - 1] == ' ')))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    long long since = data[0] % 8;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char err[160];

    err[0] = '\0';
    if (orthanc_parse_changes(body, len, since, &page, err, sizeof(err)) == 0) {
        long long after = since;
        if (page.count < 0 || page.count > ORTHANC_CHANGES_MAX)
            __builtin_trap();
        for (int i = 0; i < page.count; i++) {
            const struct orthanc_change *c = &page.list[i];
            if (c->seq <= after)
                __builtin_trap();
            after = c->seq;
            if (c->type == ORTHANC_CHANGE_STABLE_STUDY ? !orthanc_id_valid(c->id)
                                                       : c->id[0] != '\0')
                __builtin_trap();
            check_time(c->date);
        }
        if (page.last < after)
            __builtin_trap();
    } else if (!err[0] || page.count != 0) {
        __builtin_trap();
    }

    struct orthanc_study st;
    err[0] = '\0';
    if (orthanc_parse_study(body, len, "ab-01", &st, err, sizeof(err)) == 0) {
        check_text(st.accession, ORTHANC_ACCESSION_MAX);
        check_text(st.study_instance_uid, ORTHANC_UID_MAX);
        check_time(st.last_update);
    } else if (!err[0] || st.accession[0] || st.study_instance_uid[0]) {
        __builtin_trap();
    }
    return 0;
}
