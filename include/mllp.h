/* MLLP, the Minimal Lower Layer Protocol HL7 v2 travels in over TCP: each message framed as
 * 0x0B message 0x1C 0x0D. An incremental framer (bytes in as they arrive, one whole message out
 * at a time) and the wrapping of an answer; no sockets here, so the listener's threads and the
 * fuzzer drive the same code. */
#ifndef PORTAL_MLLP_H
#define PORTAL_MLLP_H

#include <stdbool.h>
#include <stddef.h>

#define MLLP_START 0x0B
#define MLLP_END   0x1C
#define MLLP_CR    0x0D

enum mllp_event {
    MLLP_MORE,      /* every byte given was taken; no message is complete yet */
    MLLP_MESSAGE,   /* a message is complete: mllp_message() gives it */
    MLLP_TOO_LARGE, /* a frame ended that held more than the limit; its bytes were dropped */
};

struct mllp_framer {
    size_t max; /* the largest message accepted, in bytes */
    char *buf;  /* owned */
    size_t len; /* bytes of the message being read (or read) */
    size_t cap;
    bool in_frame; /* a start byte was seen and the end not yet */
    bool saw_end;  /* the last byte was 0x1C: a CR now ends the frame */
    bool too_large;
    size_t skipped; /* bytes outside any frame, dropped (line ends between frames, noise) */
};

void mllp_init(struct mllp_framer *f, size_t max);
void mllp_free(struct mllp_framer *f);

/* Takes bytes from data[0..n) until a frame ends or they run out; *used says how many. Returns
 * MLLP_MORE when all were taken without a frame ending, or the event that ended one (the rest of
 * data is for the next call). A start byte inside a frame begins a new one (the sender gave up
 * the first). Returns MLLP_MORE with *used < n only when memory ran out (the caller closes). */
enum mllp_event mllp_feed(struct mllp_framer *f, const unsigned char *data, size_t n, size_t *used);

/* The message the last MLLP_MESSAGE completed (valid until the next mllp_feed), NUL-terminated. */
const char *mllp_message(const struct mllp_framer *f, size_t *len);

/* A malloc'd frame around msg[0..len): 0x0B msg 0x1C 0x0D. NULL when out of memory. */
char *mllp_wrap(const char *msg, size_t len, size_t *framed_len);

#endif
