/* libFuzzer harness for the MLLP framer: any byte stream, cut into reads of any size, yields
 * messages within the limit that hold no start byte; and any message without the framing bytes,
 * wrapped, comes back whole whatever the reads. */
#include "../../server/mllp.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so frames over the limit are common. */
#define FUZZ_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    data++;
    size--;

    struct mllp_framer f;
    mllp_init(&f, FUZZ_MAX);
    for (size_t pos = 0; pos < size;) {
        size_t n = size - pos < step ? size - pos : step, used = 0;
        enum mllp_event e = mllp_feed(&f, data + pos, n, &used);
        if (used == 0 || used > n)
            __builtin_trap();
        pos += used;
        if (e == MLLP_MESSAGE) {
            size_t len;
            const char *m = mllp_message(&f, &len);
            if (len > FUZZ_MAX || m[len] != '\0' || memchr(m, MLLP_START, len))
                __builtin_trap();
        }
    }
    mllp_free(&f);

    /* Round trip: the input as a message, when it holds no framing byte. */
    if (size <= FUZZ_MAX && !memchr(data, MLLP_START, size) && !memchr(data, MLLP_END, size)) {
        size_t framed_len;
        char *framed = mllp_wrap((const char *)data, size, &framed_len);
        if (!framed)
            return 0;
        mllp_init(&f, FUZZ_MAX);
        int messages = 0;
        for (size_t pos = 0; pos < framed_len;) {
            size_t n = framed_len - pos < step ? framed_len - pos : step, used = 0;
            enum mllp_event e = mllp_feed(&f, (const unsigned char *)framed + pos, n, &used);
            pos += used;
            if (e == MLLP_MESSAGE) {
                size_t len;
                const char *m = mllp_message(&f, &len);
                if (len != size || memcmp(m, data, size) != 0)
                    __builtin_trap();
                messages++;
            }
        }
        if (messages != 1)
            __builtin_trap();
        mllp_free(&f);
        free(framed);
    }
    return 0;
}
