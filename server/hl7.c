/* HL7 v2 parsing: the delimiters from MSH, segments by CR (or LF), and values found by position
 * and unescaped only when asked for, so a message costs one copy and one pass to parse. */
#include "hl7.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MSH, the field separator and four encoding characters (a fifth, v2.7's truncation character, is
 * tolerated). */
#define MSH_MIN_LEN 8

static bool is_terminator(char c)
{
    return c == '\r' || c == '\n';
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_delimiter(char c)
{
    unsigned char u = (unsigned char)c;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return u > 0x20 && u < 0x7f && !alnum;
}

static int read_delimiters(struct hl7_message *m, char *err, size_t errlen)
{
    const char *t = m->text;
    if (m->len < MSH_MIN_LEN || strncmp(t, "MSH", 3) != 0)
        return fail(err, errlen, "the message does not begin with an MSH segment");
    m->field_sep = t[3];
    m->component_sep = t[4];
    m->repetition_sep = t[5];
    m->escape_char = t[6];
    m->subcomponent_sep = t[7];
    const char d[5] = {m->field_sep, m->component_sep, m->repetition_sep, m->escape_char,
                       m->subcomponent_sep};
    for (int i = 0; i < 5; i++) {
        if (!is_delimiter(d[i]))
            return fail(err, errlen,
                        "MSH-1 and MSH-2 must be five distinct punctuation characters");
        for (int j = 0; j < i; j++)
            if (d[i] == d[j])
                return fail(err, errlen,
                            "MSH-1 and MSH-2 must be five distinct punctuation characters");
    }
    /* MSH-2 ends at the next field separator (or the segment's end): four characters, or five. */
    size_t end = 8;
    if (end < m->len && t[end] != m->field_sep && !is_terminator(t[end]))
        end++;
    if (end < m->len && t[end] != m->field_sep && !is_terminator(t[end]))
        return fail(err, errlen, "MSH-2 must hold four encoding characters");
    return 0;
}

static int split_segments(struct hl7_message *m, char *err, size_t errlen)
{
    size_t cap = 16;
    m->segments = malloc(cap * sizeof(*m->segments));
    if (!m->segments)
        return fail(err, errlen, "out of memory");
    for (size_t pos = 0; pos < m->len;) {
        if (is_terminator(m->text[pos])) {
            pos++;
            continue;
        }
        size_t end = pos;
        while (end < m->len && !is_terminator(m->text[end]))
            end++;
        int index = m->nsegments + 1;
        if (m->nsegments == HL7_MAX_SEGMENTS)
            return fail(err, errlen, "more than %d segments", HL7_MAX_SEGMENTS);
        const char *s = m->text + pos;
        size_t n = end - pos;
        bool named = n >= 3;
        for (size_t i = 0; named && i < 3; i++)
            named = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
        if (!named || (n > 3 && s[3] != m->field_sep))
            return fail(err, errlen, "segment %d has no three-letter name before a field separator",
                        index);
        if ((size_t)m->nsegments == cap) {
            cap *= 2;
            struct hl7_segment *grown = realloc(m->segments, cap * sizeof(*grown));
            if (!grown)
                return fail(err, errlen, "out of memory");
            m->segments = grown;
        }
        struct hl7_segment *seg = &m->segments[m->nsegments++];
        memcpy(seg->name, s, 3);
        seg->name[3] = '\0';
        seg->start = pos;
        seg->len = n;
        pos = end;
    }
    if (m->nsegments == 0 || strcmp(m->segments[0].name, "MSH") != 0)
        return fail(err, errlen, "the message does not begin with an MSH segment");
    return 0;
}

/* Whether s[0..n) is UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, at most
 * U+10FFFF). Returns the offset of the first bad byte, or n. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + need >= n)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return i;
        i += need + 1;
    }
    return n;
}

static int read_charset(struct hl7_message *m, char *err, size_t errlen)
{
    char cs[32];
    m->charset = HL7_ASCII;
    if (hl7_get(m, 0, 18, 0, 1, 1, cs, sizeof(cs)) < 0)
        return fail(err, errlen, "MSH-18 names no character set this server reads");
    if (!*cs || strcmp(cs, "ASCII") == 0)
        m->charset = HL7_ASCII;
    else if (strcmp(cs, "8859/1") == 0)
        m->charset = HL7_LATIN1;
    else if (strcmp(cs, "UNICODE UTF-8") == 0)
        m->charset = HL7_UTF8;
    else
        return fail(err, errlen,
                    "MSH-18 names a character set this server does not read (ASCII, 8859/1 "
                    "and UNICODE UTF-8 are)");
    if (m->charset == HL7_UTF8) {
        size_t ok = utf8_valid_prefix((const unsigned char *)m->text, m->len);
        if (ok != m->len)
            return fail(err, errlen, "the message is not valid UTF-8 (byte %zu)", ok + 1);
    }
    return 0;
}

int hl7_parse(const char *data, size_t len, struct hl7_message *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (len > HL7_MAX_MESSAGE)
        return fail(err, errlen, "the message is larger than %d bytes", HL7_MAX_MESSAGE);
    /* Leading line ends (a sender's stray CR LF before MSH) are not part of the message. */
    while (len > 0 && is_terminator(*data)) {
        data++;
        len--;
    }
    if (memchr(data, '\0', len))
        return fail(err, errlen, "the message holds a NUL byte");
    m->text = malloc(len + 1);
    if (!m->text)
        return fail(err, errlen, "out of memory");
    memcpy(m->text, data, len);
    m->text[len] = '\0';
    m->len = len;
    if (read_delimiters(m, err, errlen) < 0 || split_segments(m, err, errlen) < 0 ||
        read_charset(m, err, errlen) < 0) {
        hl7_free(m);
        return -1;
    }
    return 0;
}

void hl7_free(struct hl7_message *m)
{
    free(m->text);
    free(m->segments);
    memset(m, 0, sizeof(*m));
}

int hl7_find(const struct hl7_message *m, const char *name, int nth)
{
    for (int i = 0; i < m->nsegments; i++)
        if (strcmp(m->segments[i].name, name) == 0 && nth-- == 0)
            return i;
    return -1;
}

/* The n-th (0-based) piece of [s, s+len) split on sep: its start and length; false if absent. */
static bool piece(const char *s, size_t len, char sep, int n, const char **out, size_t *outlen)
{
    size_t i = 0;
    for (; n > 0; n--) {
        const char *next = memchr(s + i, sep, len - i);
        if (!next)
            return false;
        i = (size_t)(next - s) + 1;
    }
    const char *end = memchr(s + i, sep, len - i);
    *out = s + i;
    *outlen = end ? (size_t)(end - (s + i)) : len - i;
    return true;
}

/* Field f of segment seg, repetitions and all. MSH-1 is the separator itself and MSH-2 the
 * encoding characters, which are never split further. */
static bool field_of(const struct hl7_message *m, int seg, int f, const char **out, size_t *len,
                     bool *raw)
{
    *raw = false;
    if (seg < 0 || seg >= m->nsegments || f < 1)
        return false;
    const struct hl7_segment *s = &m->segments[seg];
    const char *text = m->text + s->start;
    bool msh = seg == 0;
    if (msh && f == 1) {
        *out = text + 3;
        *len = 1;
        *raw = true;
        return true;
    }
    if (s->len <= 4)
        return false;
    int token = msh ? f - 2 : f - 1;
    if (!piece(text + 4, s->len - 4, m->field_sep, token, out, len))
        return false;
    *raw = msh && f == 2;
    return true;
}

bool hl7_field_raw(const struct hl7_message *m, int seg, int f, const char **value, size_t *len)
{
    bool raw;
    return field_of(m, seg, f, value, len, &raw);
}

int hl7_repetitions(const struct hl7_message *m, int seg, int field)
{
    const char *f;
    size_t len;
    bool raw;
    if (!field_of(m, seg, field, &f, &len, &raw) || len == 0)
        return 0;
    if (raw)
        return 1;
    int n = 1;
    for (size_t i = 0; i < len; i++)
        n += f[i] == m->repetition_sep;
    return n;
}

/* Appends byte b, read in the message's character set, to out as UTF-8. */
static bool put(const struct hl7_message *m, unsigned char b, char *out, size_t outlen, size_t *o)
{
    if (b == 0)
        return false;
    if (b < 0x80 || m->charset == HL7_UTF8) {
        if (*o + 1 >= outlen)
            return false;
        out[(*o)++] = (char)b;
        return true;
    }
    if (*o + 2 >= outlen)
        return false;
    out[(*o)++] = (char)(0xc0 | (b >> 6));
    out[(*o)++] = (char)(0x80 | (b & 0x3f));
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Resolves one escape sequence's content e[0..n) into out. */
static bool unescape_one(const struct hl7_message *m, const char *e, size_t n, char *out,
                         size_t outlen, size_t *o)
{
    if (n == 1) {
        char c = e[0] == 'F'   ? m->field_sep
                 : e[0] == 'S' ? m->component_sep
                 : e[0] == 'T' ? m->subcomponent_sep
                 : e[0] == 'R' ? m->repetition_sep
                 : e[0] == 'E' ? m->escape_char
                               : 0;
        return c ? put(m, (unsigned char)c, out, outlen, o) : true; /* \H\, \N\: highlighting */
    }
    if (e[0] == 'X') {
        if ((n - 1) % 2 != 0)
            return false;
        for (size_t i = 1; i + 1 < n; i += 2) {
            int hi = hex_digit(e[i]), lo = hex_digit(e[i + 1]);
            if (hi < 0 || lo < 0 || !put(m, (unsigned char)(hi * 16 + lo), out, outlen, o))
                return false;
        }
        return true;
    }
    if ((n == 3 && strncmp(e, ".br", 3) == 0) || (n >= 3 && strncmp(e, ".sp", 3) == 0))
        return put(m, '\n', out, outlen, o);
    return true; /* formatting (.in, .ti, .fi, .nf, .ce, .sk) and character-set switches */
}

int hl7_get(const struct hl7_message *m, int seg, int field, int rep, int comp, int sub, char *out,
            size_t outlen)
{
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    const char *v;
    size_t len;
    bool raw;
    if (rep < 0 || comp < 1 || sub < 1 || !field_of(m, seg, field, &v, &len, &raw))
        return 0;
    if (raw) {
        if (rep != 0 || comp != 1 || sub != 1)
            return 0;
        if (len + 1 > outlen)
            return -1;
        memcpy(out, v, len);
        out[len] = '\0';
        return (int)len;
    }
    if (!piece(v, len, m->repetition_sep, rep, &v, &len) ||
        !piece(v, len, m->component_sep, comp - 1, &v, &len) ||
        !piece(v, len, m->subcomponent_sep, sub - 1, &v, &len))
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] == m->escape_char) {
            const char *end = memchr(v + i + 1, m->escape_char, len - i - 1);
            /* An escape character with no closing one is a literal: senders do write "\" alone. */
            if (end && end > v + i + 1) {
                if (!unescape_one(m, v + i + 1, (size_t)(end - (v + i + 1)), out, outlen, &o))
                    goto bad;
                i = (size_t)(end - v);
                continue;
            }
        }
        if (!put(m, (unsigned char)v[i], out, outlen, &o))
            goto bad;
    }
    out[o] = '\0';
    if (m->charset == HL7_UTF8 && utf8_valid_prefix((const unsigned char *)out, o) != o)
        goto bad;
    return (int)o;
bad:
    out[0] = '\0';
    return -1;
}
