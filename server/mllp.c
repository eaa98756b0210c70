/* MLLP framing: a byte-at-a-time state machine over whatever the socket delivered, so a frame
 * split across reads, several frames in one read, and line ends between frames all come out the
 * same. */
#include "mllp.h"

#include <stdlib.h>
#include <string.h>

/* The buffer grows by doubling from here, up to the limit plus its terminator. */
#define INITIAL_CAPACITY 4096

void mllp_init(struct mllp_framer *f, size_t max)
{
    memset(f, 0, sizeof(*f));
    f->max = max;
}

void mllp_free(struct mllp_framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof(*f));
}

/* Appends byte c to the message, unless it is already too large. False when memory ran out. */
static bool keep(struct mllp_framer *f, unsigned char c)
{
    if (f->too_large)
        return true;
    if (f->len >= f->max) {
        f->too_large = true;
        return true;
    }
    if (f->len + 1 >= f->cap) {
        size_t cap = f->cap ? f->cap * 2 : INITIAL_CAPACITY;
        if (cap > f->max + 1)
            cap = f->max + 1;
        if (cap <= f->len + 1)
            cap = f->len + 2;
        char *grown = realloc(f->buf, cap);
        if (!grown)
            return false;
        f->buf = grown;
        f->cap = cap;
    }
    f->buf[f->len++] = (char)c;
    return true;
}

static void start_frame(struct mllp_framer *f)
{
    f->in_frame = true;
    f->saw_end = false;
    f->too_large = false;
    f->len = 0;
}

enum mllp_event mllp_feed(struct mllp_framer *f, const unsigned char *data, size_t n, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = data[i];
        if (c == MLLP_START) {
            start_frame(f);
            continue;
        }
        if (!f->in_frame) {
            f->skipped++;
            continue;
        }
        if (f->saw_end) {
            f->saw_end = false;
            if (c == MLLP_CR) {
                f->in_frame = false;
                *used = i + 1;
                if (f->too_large)
                    return MLLP_TOO_LARGE;
                if (f->buf)
                    f->buf[f->len] = '\0';
                return MLLP_MESSAGE;
            }
            /* A 0x1C not followed by CR is data (no HL7 text holds one, but it is not ours to
             * drop). */
            if (!keep(f, MLLP_END)) {
                *used = i;
                return MLLP_MORE;
            }
        }
        if (c == MLLP_END) {
            f->saw_end = true;
            continue;
        }
        if (!keep(f, c)) {
            *used = i;
            return MLLP_MORE;
        }
    }
    *used = n;
    return MLLP_MORE;
}

const char *mllp_message(const struct mllp_framer *f, size_t *len)
{
    *len = f->len;
    return f->buf ? f->buf : "";
}

char *mllp_wrap(const char *msg, size_t len, size_t *framed_len)
{
    char *out = malloc(len + 3);
    if (!out)
        return NULL;
    out[0] = MLLP_START;
    memcpy(out + 1, msg, len);
    out[len + 1] = MLLP_END;
    out[len + 2] = MLLP_CR;
    *framed_len = len + 3;
    return out;
}
