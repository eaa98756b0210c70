/* HL7 v2 messages (v2.3 to v2.5.1): parsed into segments and fields over one owned copy of the
 * text, with the delimiters the message declares in MSH-1 and MSH-2, segments ended by CR (LF and
 * CR LF tolerated), and values read out unescaped, in UTF-8, on request. Knows nothing of MLLP,
 * of message types or of the portal: the HL7 transport maps fields to the core's structs. */
#ifndef PORTAL_HL7_H
#define PORTAL_HL7_H

#include <stdbool.h>
#include <stddef.h>

/* The largest message accepted, and the most segments in one: a radiology report is a few
 * hundred OBX lines at most. */
#define HL7_MAX_MESSAGE  (1024 * 1024)
#define HL7_MAX_SEGMENTS 4096

enum hl7_charset {
    HL7_ASCII,  /* MSH-18 empty or ASCII: bytes above 0x7F are read as ISO 8859-1, as real
                   feeds that never declare a character set mean them */
    HL7_LATIN1, /* 8859/1 */
    HL7_UTF8,   /* UNICODE UTF-8 */
};

struct hl7_segment {
    char name[4];
    size_t start; /* offset of the segment's text (its name) in the message */
    size_t len;   /* up to, not including, its terminator */
};

struct hl7_message {
    char *text; /* owned, NUL-terminated */
    size_t len;
    char field_sep, component_sep, repetition_sep, escape_char, subcomponent_sep;
    enum hl7_charset charset;
    struct hl7_segment *segments; /* owned */
    int nsegments;
};

/* Parses len bytes. Returns 0, or -1 with a one-line reason in err that quotes no content of the
 * message (only positions, segment names and what was expected). */
__attribute__((warn_unused_result)) int hl7_parse(const char *data, size_t len,
                                                  struct hl7_message *m, char *err, size_t errlen);
void hl7_free(struct hl7_message *m);

/* The index of the nth (0-based) segment named name, or -1. */
int hl7_find(const struct hl7_message *m, const char *name, int nth);

/* How many repetitions field f of segment seg holds (0 when empty or absent). Fields are numbered
 * as HL7 numbers them: in MSH, MSH-1 is the field separator itself and MSH-2 the encoding
 * characters. */
int hl7_repetitions(const struct hl7_message *m, int seg, int field);

/* Field f of segment seg as it stands in the message, escapes and all (to copy it into another
 * message with the same delimiters). False when absent. */
bool hl7_field_raw(const struct hl7_message *m, int seg, int f, const char **value, size_t *len);

/* Copies the value at segment seg, field (1-based), repetition rep (0-based), component comp and
 * subcomponent sub (1-based), with its escape sequences resolved (\F\ \S\ \T\ \R\ \E\, \Xhh..\,
 * \.br\ and \.sp\ as a line break; formatting and highlighting sequences dropped), as UTF-8, into
 * out. Returns the value's length (0 for an empty or absent value), or -1 when it does not fit, is
 * not valid text in the message's character set, or holds a NUL. */
int hl7_get(const struct hl7_message *m, int seg, int field, int rep, int comp, int sub, char *out,
            size_t outlen);

#endif
