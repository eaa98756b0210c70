/* Acknowledgements in the original message's own delimiters and version, so a sender's parser
 * reads them as it reads its own. */
#include "hl7_ack.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ACK's size: MSH (with the other side's names, each at most a field of the original), MSA
 * and ERR with a sentence. */
#define ACK_TEXT_MAX 512

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void put_bytes(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *grown = realloc(o->buf, cap);
        if (!grown) {
            o->failed = true;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
    put_bytes(o, s, strlen(s));
}

/* Text of our own, escaped for the message's delimiters (our sentences hold none of them, but an
 * escape here costs nothing and a future sentence cannot break the ACK). */
static void put_text(struct out *o, const struct hl7_message *m, const char *s)
{
    char esc = m ? m->escape_char : '\\';
    const char seps[5] = {m ? m->field_sep : '|', m ? m->component_sep : '^',
                          m ? m->repetition_sep : '~', esc, m ? m->subcomponent_sep : '&'};
    static const char names[5] = {'F', 'S', 'R', 'E', 'T'};
    for (size_t i = 0; s[i] && i < ACK_TEXT_MAX; i++) {
        const char *hit = memchr(seps, s[i], sizeof(seps));
        if (hit) {
            char e[3] = {esc, names[hit - seps], esc};
            put_bytes(o, e, 3);
        } else if (s[i] == '\r' || s[i] == '\n') {
            put_bytes(o, " ", 1);
        } else {
            put_bytes(o, s + i, 1);
        }
    }
}

static void put_raw_field(struct out *o, const struct hl7_message *m, int f)
{
    const char *v;
    size_t n;
    if (m && hl7_field_raw(m, 0, f, &v, &n))
        put_bytes(o, v, n);
}

/* Whether the version in MSH-12 is 2.5 or later (ERR-2 onwards) rather than 2.3 or 2.4 (ERR-1). */
static bool err_v25(const struct hl7_message *m)
{
    char v[16];
    if (!m || hl7_get(m, 0, 12, 0, 1, 1, v, sizeof(v)) <= 0)
        return true;
    int major = 0, minor = 0;
    if (sscanf(v, "%d.%d", &major, &minor) != 2)
        return true;
    return major > 2 || (major == 2 && minor >= 5);
}

char *hl7_ack(const struct hl7_message *m, enum hl7_ack_code code, const struct hl7_ack_error *err,
              const char *control_id, const char *timestamp, size_t *len)
{
    struct out o = {0};
    char fs[2] = {m ? m->field_sep : '|', '\0'};
    char cs[2] = {m ? m->component_sep : '^', '\0'};
    char ss[2] = {m ? m->subcomponent_sep : '&', '\0'};
    char enc[5] = {m ? m->component_sep : '^', m ? m->repetition_sep : '~',
                   m ? m->escape_char : '\\', m ? m->subcomponent_sep : '&', '\0'};
    /* MSH: we are the receiver the sender named, and it is ours. */
    put_str(&o, "MSH");
    put_str(&o, fs);
    put_str(&o, enc);
    put_str(&o, fs);
    put_raw_field(&o, m, 5);
    put_str(&o, fs);
    put_raw_field(&o, m, 6);
    put_str(&o, fs);
    put_raw_field(&o, m, 3);
    put_str(&o, fs);
    put_raw_field(&o, m, 4);
    put_str(&o, fs);
    put_text(&o, m, timestamp);
    put_str(&o, fs);
    put_str(&o, fs);
    put_str(&o, "ACK");
    char trigger[16];
    if (m && hl7_get(m, 0, 9, 0, 2, 1, trigger, sizeof(trigger)) > 0) {
        put_str(&o, cs);
        put_text(&o, m, trigger);
        put_str(&o, cs);
        put_str(&o, "ACK");
    }
    put_str(&o, fs);
    put_text(&o, m, control_id);
    put_str(&o, fs);
    put_str(&o, "P");
    put_str(&o, fs);
    if (m)
        put_raw_field(&o, m, 12);
    else
        put_str(&o, "2.5.1");
    put_str(&o, "\r");

    static const char *const codes[] = {"AA", "AE", "AR"};
    put_str(&o, "MSA");
    put_str(&o, fs);
    put_str(&o, codes[code]);
    put_str(&o, fs);
    put_raw_field(&o, m, 10);
    put_str(&o, "\r");

    if (err && code != HL7_AA) {
        char where[64] = "";
        if (err->segment)
            snprintf(where, sizeof(where), "%s%s%d%s%d", err->segment, cs, err->sequence, cs,
                     err->field);
        put_str(&o, "ERR");
        put_str(&o, fs);
        if (!err_v25(m)) {
            /* ERR-1, ELD: segment^sequence^field^code&text. */
            put_str(&o, where);
            put_str(&o, cs);
            put_str(&o, err->code);
            put_str(&o, ss);
            put_text(&o, m, err->text);
        } else {
            /* ERR-2 where, ERR-3 the code (table 0357), ERR-4 severity, ERR-8 the sentence. */
            put_str(&o, fs);
            put_str(&o, where);
            put_str(&o, fs);
            put_str(&o, err->code);
            put_str(&o, cs);
            put_str(&o, cs);
            put_str(&o, "HL70357");
            put_str(&o, fs);
            put_str(&o, "E");
            put_str(&o, fs);
            put_str(&o, fs);
            put_str(&o, fs);
            put_str(&o, fs);
            put_text(&o, m, err->text);
        }
        put_str(&o, "\r");
    }
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
