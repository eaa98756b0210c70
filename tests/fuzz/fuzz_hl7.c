/* libFuzzer harness for the HL7 v2 parser and its acknowledgements: any bytes either parse or are
 * refused with a reason; every value read from a parsed message is NUL-terminated UTF-8 of the
 * length returned; and the ACK of any parsed message parses, echoing its control id. */
#include "../../server/hl7.c"
#include "../../server/hl7_ack.c"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hl7_message m;
    char err[256];
    if (hl7_parse((const char *)data, size, &m, err, sizeof(err)) == 0) {
        read_everything(&m);
        acknowledge(&m);
        hl7_free(&m);
    } else if (!err[0] || m.text || m.segments) {
        __builtin_trap();
    }
    return 0;
}
