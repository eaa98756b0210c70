/* libFuzzer harness for the language parsers (server/i18n.c): any Accept-Language header, and any
 * bytes as a .mo catalogue. The header always yields one of our languages, and the same one when
 * read again; a catalogue is refused with a message or read, and then every lookup, of each of its
 * own msgids and of an unknown one, stays inside it. The first byte chooses which. */
#include "../../server/i18n.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* i18n.c reads the catalogues the build links in; this harness gives it none. */
const unsigned char i18n_mo_es[1], i18n_mo_fr[1];
const size_t i18n_mo_es_size = 0, i18n_mo_fr_size = 0;

static void accept_language(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    memcpy(header, data, size);
    header[size] = '\0';
    for (int fallback = 0; fallback < LANG_COUNT; fallback++) {
        enum lang l = i18n_accept_language(header, (enum lang)fallback);
        if ((unsigned)l >= LANG_COUNT || i18n_accept_language(header, (enum lang)fallback) != l)
            __builtin_trap();
    }
    free(header);
}

static void catalogue(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    unsigned char *mo = malloc(size ? size : 1);
    memcpy(mo, data, size);
    struct mo m;
    char err[96] = "";
    if (mo_open(&m, mo, size, err, sizeof(err)) != 0) {
        if (!err[0])
            __builtin_trap();
    } else {
        for (uint32_t i = 0; i < m.count; i++) {
            const char *id = mo_string(&m, m.originals, i);
            if (!id)
                __builtin_trap();
            const char *s = mo_find(&m, id);
            if (s && (s < (const char *)mo || s >= (const char *)mo + size))
                __builtin_trap();
        }
        (void)mo_find(&m, "\x7f no such message");
    }
    free(mo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    if (data[0] & 1)
        catalogue(data + 1, size - 1);
    else
        accept_language(data + 1, size - 1);
    return 0;
}
