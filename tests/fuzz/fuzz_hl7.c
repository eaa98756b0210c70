/* libFuzzer harness for the HL7 v2 parser, its acknowledgements and the translation into the
 * core's structs: any bytes either parse or are refused with a reason; every value read from a
 * parsed message is NUL-terminated UTF-8 of the length returned; the ACK of any parsed message
 * parses, echoing its control id; and the translation of any parsed message either fails with an
 * ERR that names a segment we know, or gives calls whose every string is text inside the
 * translation's arena (or a literal) and whose event ids fit the core's limit. */
#include "../../server/hl7.c"
#include "../../server/hl7_ack.c"
#include "../../server/hl7_map.c"
#include "../../server/timefmt.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_everything(const struct hl7_message *m)
{
    char small[8], big[4096];
    for (int seg = -1; seg <= m->nsegments && seg < 64; seg++) {
        for (int f = 0; f <= 30; f++) {
            int reps = hl7_repetitions(m, seg, f);
            if (reps < 0)
                __builtin_trap();
            for (int r = 0; r <= reps && r < 4; r++) {
                for (int c = 1; c <= 5; c++) {
                    for (int s = 1; s <= 3; s++) {
                        int n = hl7_get(m, seg, f, r, c, s, big, sizeof(big));
                        if (n >= 0 && ((size_t)n != strlen(big) ||
                                       (m->charset == HL7_UTF8 &&
                                        utf8_valid_prefix((const unsigned char *)big, (size_t)n) !=
                                            (size_t)n)))
                            __builtin_trap();
                        n = hl7_get(m, seg, f, r, c, s, small, sizeof(small));
                        if (n >= (int)sizeof(small))
                            __builtin_trap();
                    }
                }
            }
        }
    }
}

static void acknowledge(const struct hl7_message *m)
{
    struct hl7_ack_error e = {"PID", 1, 3, "101", "PID-3 is required"};
    size_t len;
    char *ack = hl7_ack(m, HL7_AE, &e, "ACK1", "20261120140500", &len);
    if (!ack)
        return;
    struct hl7_message a;
    char err[256];
    if (hl7_parse(ack, len, &a, err, sizeof(err)) != 0)
        __builtin_trap();
    const char *sent = "", *echoed = "";
    size_t sent_len = 0, echoed_len = 0;
    int msa = hl7_find(&a, "MSA", 0);
    (void)hl7_field_raw(m, 0, 10, &sent, &sent_len);
    (void)hl7_field_raw(&a, msa, 2, &echoed, &echoed_len);
    if (msa < 0 || sent_len != echoed_len || memcmp(sent, echoed, sent_len) != 0)
        __builtin_trap();
    hl7_free(&a);
    free(ack);
}

static void string_ok(const struct hl7_mapped *out, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    bool in_arena = s >= out->arena && s + n < out->arena + out->arena_cap;
    if (s >= out->arena && s < out->arena + out->arena_cap && !in_arena)
        __builtin_trap();
}

static void translate(const struct hl7_message *m)
{
    static struct hl7_obx_map obx;
    static bool ready;
    char why[160];
    if (!ready && hl7_obx_map_parse(HL7_OBX_MAP_DEFAULT, &obx, why, sizeof(why)) == 0)
        ready = true;
    struct hl7_mapped out;
    struct hl7_ack_error err = {0};
    int code = hl7_map(m, &obx, &out, &err);
    if (code != HL7_AA && (!err.code || !err.text))
        __builtin_trap();
    if (code == HL7_AA) {
        if (out.ncalls < 1 || out.ncalls > HL7_MAP_MAX_CALLS)
            __builtin_trap();
        for (int i = 0; i < out.ncalls; i++) {
            const struct hl7_call *c = &out.calls[i];
            const struct ingest_event *e = &c->u.event;
            const struct ingest_report *r = &c->u.report;
            const char *id = c->kind == HL7_CALL_REPORT ? r->event_id : e->event_id;
            if (id && strlen(id) > INGEST_EVENT_ID_MAX)
                __builtin_trap();
            if (c->kind == HL7_CALL_EVENT) {
                const char *all[] = {e->type,
                                     e->occurred_at,
                                     e->scheduled_for,
                                     e->patient.mrn,
                                     e->patient.name,
                                     e->patient.birth_date,
                                     e->study.accession,
                                     e->study.modality,
                                     e->study.description,
                                     e->physician.id,
                                     e->physician.name};
                for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
                    string_ok(&out, all[k]);
            } else if (c->kind == HL7_CALL_REPORT) {
                string_ok(&out, r->findings);
                string_ok(&out, r->impression);
                string_ok(&out, r->radiologist);
                string_ok(&out, r->signed_at);
            }
        }
    }
    struct hl7_ack_error where = {0};
    (void)hl7_mapped_locate(&out, "patient.mrn", &where);
    hl7_mapped_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hl7_message m;
    char err[256];
    if (hl7_parse((const char *)data, size, &m, err, sizeof(err)) == 0) {
        read_everything(&m);
        acknowledge(&m);
        translate(&m);
        hl7_free(&m);
    } else if (!err[0] || m.text || m.segments) {
        __builtin_trap();
    }
    return 0;
}
