/* MLLP framing: a frame split anywhere, several in one read, noise and line ends between frames,
 * a restart inside a frame, 0x1C without CR, the size limit, and wrapping an answer. */
#include "../../server/mllp.c"

#include "testhelp.h"

/* Feeds text in pieces of step bytes; returns the messages found, joined by '|' into out. */
static void feed_all(struct mllp_framer *f, const char *text, size_t len, size_t step, char *out,
                     size_t outlen)
{
    out[0] = '\0';
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < step ? len - pos : step;
        size_t used;
        enum mllp_event e = mllp_feed(f, (const unsigned char *)text + pos, n, &used);
        pos += used;
        if (e == MLLP_MESSAGE) {
            size_t mlen;
            const char *m = mllp_message(f, &mlen);
            strncat(out, m, outlen - strlen(out) - 2);
            strcat(out, "|");
        } else if (e == MLLP_TOO_LARGE) {
            strncat(out, "(too large)|", outlen - strlen(out) - 1);
        }
    }
}

static void frames(void)
{
    static const char stream[] = "\r\n\x0b"
                                 "MSH|one\r\x1c\r"
                                 "\n\x0b"
                                 "MSH|two\x1cX\r\x1c\r"
                                 "noise\x0bpartial\x0b"
                                 "MSH|three\r\x1c\r"
                                 "\x0b\x1c\r";
    size_t len = sizeof(stream) - 1;
    for (size_t step = 1; step <= len; step++) {
        struct mllp_framer f;
        mllp_init(&f, 1000);
        char got[256];
        feed_all(&f, stream, len, step, got, sizeof(got));
        if (strcmp(got, "MSH|one\r|MSH|two\x1cX\r|MSH|three\r||") != 0)
            printf("# step %zu: %s\n", step, got);
        CHECK(strcmp(got, "MSH|one\r|MSH|two\x1cX\r|MSH|three\r||") == 0);
        CHECK(f.skipped == 8); /* "\r\n", "\n", "noise" */
        mllp_free(&f);
    }
}

static void limit(void)
{
    struct mllp_framer f;
    mllp_init(&f, 5);
    char got[64];
    const char s[] = "\x0b"
                     "12345\x1c\r\x0b"
                     "123456\x1c\r\x0b"
                     "ok\x1c\r";
    feed_all(&f, s, sizeof(s) - 1, 3, got, sizeof(got));
    CHECK_STR(got, "12345|(too large)|ok|");
    mllp_free(&f);
}

static void wrap(void)
{
    size_t n;
    char *w = mllp_wrap("MSH|ack\r", 8, &n);
    CHECK(w && n == 11 && w[0] == 0x0b && memcmp(w + 1, "MSH|ack\r", 8) == 0 && w[9] == 0x1c &&
          w[10] == 0x0d);
    struct mllp_framer f;
    mllp_init(&f, 100);
    size_t used;
    CHECK(mllp_feed(&f, (const unsigned char *)w, n, &used) == MLLP_MESSAGE && used == n);
    size_t mlen;
    CHECK_STR(mllp_message(&f, &mlen), "MSH|ack\r");
    CHECK(mlen == 8);
    mllp_free(&f);
    free(w);
}

int main(void)
{
    frames();
    limit();
    wrap();
    return testhelp_done();
}
