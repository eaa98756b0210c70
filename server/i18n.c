/* Message catalogues and the choice of language. The catalogues are GNU .mo files (msgfmt's
 * output, linked into the binary by the build: build/gen/catalogues.c), read here rather than
 * through glibc's gettext: gettext picks the language from the process's locale (setlocale,
 * LANGUAGE), which every thread shares, and uselocale() per thread would need the es and fr
 * locales generated on every machine (locale-gen as root). A .mo is a sorted table of offsets,
 * so a lookup is a binary search over data that never changes after start-up. */
#include "i18n.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From build/gen/catalogues.c: the .mo of each language but English. */
extern const unsigned char i18n_mo_es[], i18n_mo_fr[];
extern const size_t i18n_mo_es_size, i18n_mo_fr_size;

#define MO_MAGIC         0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u
#define MO_HEADER_BYTES  28

struct mo {
    const unsigned char *data;
    size_t size;
    bool swapped;
    uint32_t count;
    uint32_t originals, translations; /* offsets of the two tables of (length, offset) */
};

static struct mo catalogues[LANG_COUNT];
static const char *const codes[LANG_COUNT] = {"en", "es", "fr"};

static uint32_t mo_word(const struct mo *m, size_t at)
{
    uint32_t w;
    memcpy(&w, m->data + at, 4);
    return m->swapped ? __builtin_bswap32(w) : w;
}

/* Entry i of the table at table: its string, or NULL when its bounds or terminator are wrong. */
static const char *mo_string(const struct mo *m, uint32_t table, uint32_t i)
{
    size_t at = (size_t)table + (size_t)i * 8;
    uint32_t len = mo_word(m, at), off = mo_word(m, at + 4);
    if ((size_t)off >= m->size || (size_t)len >= m->size - off || m->data[off + len] != '\0')
        return NULL;
    return (const char *)m->data + off;
}

/* Checks the header, both tables and every string, and that the msgids are sorted (the lookup's
 * binary search relies on it; msgfmt writes them so). Returns 0 or -1 with err. */
static int mo_open(struct mo *m, const unsigned char *data, size_t size, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->data = data;
    m->size = size;
    if (size < MO_HEADER_BYTES) {
        snprintf(err, errlen, "shorter than a .mo header");
        return -1;
    }
    uint32_t magic;
    memcpy(&magic, data, 4);
    if (magic != MO_MAGIC && magic != MO_MAGIC_SWAPPED) {
        snprintf(err, errlen, "not a .mo file");
        return -1;
    }
    m->swapped = magic == MO_MAGIC_SWAPPED;
    if (mo_word(m, 4) >> 16 != 0) {
        snprintf(err, errlen, "unknown .mo revision");
        return -1;
    }
    m->count = mo_word(m, 8);
    m->originals = mo_word(m, 12);
    m->translations = mo_word(m, 16);
    size_t table_bytes = (size_t)m->count * 8;
    if (m->count > size / 16 || m->originals > size || m->translations > size ||
        table_bytes > size - m->originals || table_bytes > size - m->translations) {
        snprintf(err, errlen, "tables outside the file");
        return -1;
    }
    const char *previous = NULL;
    for (uint32_t i = 0; i < m->count; i++) {
        const char *id = mo_string(m, m->originals, i);
        if (!id || !mo_string(m, m->translations, i)) {
            snprintf(err, errlen, "message %u outside the file", i);
            return -1;
        }
        if (previous && strcmp(previous, id) >= 0) {
            snprintf(err, errlen, "messages not sorted at %u", i);
            return -1;
        }
        previous = id;
    }
    return 0;
}

static const char *mo_find(const struct mo *m, const char *msgid)
{
    uint32_t lo = 0, hi = m->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(msgid, mo_string(m, m->originals, mid));
        if (c == 0) {
            const char *s = mo_string(m, m->translations, mid);
            return *s ? s : NULL;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int i18n_init(char *err, size_t errlen)
{
    static const struct {
        enum lang lang;
        const unsigned char *data;
        const size_t *size;
    } linked[] = {{LANG_ES, i18n_mo_es, &i18n_mo_es_size}, {LANG_FR, i18n_mo_fr, &i18n_mo_fr_size}};
    for (size_t i = 0; i < sizeof(linked) / sizeof(linked[0]); i++) {
        char why[96];
        if (mo_open(&catalogues[linked[i].lang], linked[i].data, *linked[i].size, why,
                    sizeof(why)) < 0) {
            snprintf(err, errlen, "the %s message catalogue is unreadable: %s",
                     codes[linked[i].lang], why);
            memset(&catalogues[linked[i].lang], 0, sizeof(catalogues[0]));
            return -1;
        }
    }
    return 0;
}

const char *i18n_text(enum lang lang, const char *msgid)
{
    if ((unsigned)lang >= LANG_COUNT || !catalogues[lang].count || !msgid || !*msgid)
        return msgid;
    const char *s = mo_find(&catalogues[lang], msgid);
    return s ? s : msgid;
}

const char *i18n_code(enum lang lang)
{
    return (unsigned)lang < LANG_COUNT ? codes[lang] : codes[LANG_EN];
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int i18n_lang_of_tag(const char *tag, size_t len)
{
    if (len < 2 || (len > 2 && tag[2] != '-'))
        return -1;
    for (int i = 0; i < LANG_COUNT; i++)
        if (lower(tag[0]) == codes[i][0] && lower(tag[1]) == codes[i][1])
            return i;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* A qvalue (RFC 9110 12.4.2): "0", "1", "0.ddd", "1.000"; -1 when malformed. Thousandths. */
static int parse_q(const char *s, size_t len)
{
    if (len == 0 || len > 5 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (len == 1)
        return q;
    if (s[1] != '.')
        return -1;
    int scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* One element "tag;q=0.5" (with optional spaces): its tag and q, or -1 for q when malformed. */
static void parse_element(const char *s, size_t len, const char **tag, size_t *tag_len, int *q)
{
    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
    const char *semi = memchr(s, ';', len);
    *tag = s;
    *tag_len = semi ? (size_t)(semi - s) : len;
    while (*tag_len && is_space(s[*tag_len - 1]))
        (*tag_len)--;
    *q = 1000;
    if (!semi)
        return;
    const char *p = semi + 1, *end = s + len;
    while (p < end && is_space(*p))
        p++;
    if (end - p < 2 || lower(p[0]) != 'q' || p[1] != '=') {
        *q = -1; /* other parameters are not defined for Accept-Language */
        return;
    }
    *q = parse_q(p + 2, (size_t)(end - p - 2));
}

enum lang i18n_accept_language(const char *header, enum lang fallback)
{
    int best = -1, best_q = 0, wildcard_q = -1;
    bool named[LANG_COUNT] = {false};
    for (const char *s = header; s && *s;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *tag;
        size_t tag_len;
        int q;
        parse_element(s, len, &tag, &tag_len, &q);
        if (q >= 0 && tag_len == 1 && tag[0] == '*') {
            if (wildcard_q < 0)
                wildcard_q = q;
        } else if (q >= 0) {
            int l = i18n_lang_of_tag(tag, tag_len);
            /* The first mention of a language counts ("es-MX;q=0.9, es;q=0.1": 0.9). */
            if (l >= 0 && !named[l]) {
                named[l] = true;
                if (q > best_q) {
                    best = l;
                    best_q = q;
                }
            }
        }
        s = comma ? comma + 1 : s + len;
    }
    /* "*" offers every language the header did not name, the fallback first. */
    if (wildcard_q > best_q) {
        if (!named[fallback])
            return fallback;
        for (int l = 0; l < LANG_COUNT; l++)
            if (!named[l])
                return (enum lang)l;
    }
    if (best >= 0)
        return (enum lang)best;
    return fallback;
}

int i18n_each(enum lang lang, void (*each)(const char *msgid, const char *msgstr, void *cls),
              void *cls)
{
    const struct mo *m = (unsigned)lang < LANG_COUNT ? &catalogues[lang] : NULL;
    int n = 0;
    for (uint32_t i = 0; m && i < m->count; i++) {
        const char *id = mo_string(m, m->originals, i);
        const char *str = mo_string(m, m->translations, i);
        if (!*id || !*str) /* the header entry, or no translation */
            continue;
        each(id, str, cls);
        n++;
    }
    return n;
}
