/* The catalogues and the choice of language: Accept-Language read as RFC 9110 says (q-values,
 * ranges, the wildcard, malformed parts), the .mo reader refusing what is not a sound catalogue,
 * and every lookup answering in the language asked. */
#include "../../server/i18n.c"

#include <stdio.h>

#include "testhelp.h"

static void reads_accept_language(void)
{
    CHECK(i18n_accept_language(NULL, LANG_EN) == LANG_EN);
    CHECK(i18n_accept_language("", LANG_FR) == LANG_FR);
    CHECK(i18n_accept_language("es", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("fr-CA", LANG_EN) == LANG_FR);
    CHECK(i18n_accept_language("ES-mx", LANG_EN) == LANG_ES);
    /* Highest q wins; ties go to the first listed. */
    CHECK(i18n_accept_language("en;q=0.5, fr;q=0.9, es;q=0.8", LANG_EN) == LANG_FR);
    CHECK(i18n_accept_language("fr, es", LANG_EN) == LANG_FR);
    CHECK(i18n_accept_language("de-DE, fr;q=0.7, en;q=0.3", LANG_EN) == LANG_FR);
    /* A language we do not have gives way to one we do, even at a lower q. */
    CHECK(i18n_accept_language("de, es;q=0.1", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("de, it", LANG_FR) == LANG_FR);
    /* q=0 refuses, and the first mention of a language counts. */
    CHECK(i18n_accept_language("es;q=0", LANG_EN) == LANG_EN);
    CHECK(i18n_accept_language("es-MX;q=0.9, es;q=0, fr;q=0.5", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("es;q=0, fr;q=0", LANG_ES) == LANG_ES); /* nothing left: fallback */
    /* The wildcard stands for the languages not named: the fallback first. */
    CHECK(i18n_accept_language("*", LANG_FR) == LANG_FR);
    CHECK(i18n_accept_language("fr;q=0, *", LANG_FR) == LANG_EN);
    CHECK(i18n_accept_language("de, *;q=0.5", LANG_ES) == LANG_ES);
    CHECK(i18n_accept_language("es;q=0.4, *;q=0.9", LANG_ES) == LANG_EN);
    /* Spaces and tabs around parts and parameters. */
    CHECK(i18n_accept_language("  fr ;\tq=1.0 , es;q=0.2 ", LANG_EN) == LANG_FR);
    CHECK(i18n_accept_language("es ; q=0.9", LANG_EN) == LANG_ES);
    /* Malformed parts are skipped, the rest still read. */
    CHECK(i18n_accept_language("fr;q=2, es;q=0.5", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("fr;q=0.1234, es;q=0.5", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("fr;q=, es;q=0.5", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("fr;level=1, es;q=0.5", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("fra, es", LANG_EN) == LANG_ES); /* 3 letters: not our "fr" */
    CHECK(i18n_accept_language("f, e, ,,;", LANG_FR) == LANG_FR);
    CHECK(i18n_accept_language("es;q=0.500", LANG_EN) == LANG_ES);
    CHECK(i18n_accept_language("es;q=1.001", LANG_EN) == LANG_EN);
}

static void knows_tags(void)
{
    CHECK(i18n_lang_of_tag("en", 2) == LANG_EN);
    CHECK(i18n_lang_of_tag("es-419", 6) == LANG_ES);
    CHECK(i18n_lang_of_tag("fr_FR", 5) == -1);
    CHECK(i18n_lang_of_tag("e", 1) == -1);
    CHECK(i18n_lang_of_tag("de", 2) == -1);
    CHECK_STR(i18n_code(LANG_FR), "fr");
    CHECK_STR(i18n_code((enum lang)7), "en");
}

static void looks_up_in_each_language(void)
{
    char err[160];
    CHECK(i18n_init(err, sizeof(err)) == 0);
    const char *msgid = "Your results are ready";
    CHECK_STR(i18n_text(LANG_EN, msgid), msgid);
    CHECK_STR(i18n_text(LANG_ES, msgid), "Sus resultados están listos");
    CHECK_STR(i18n_text(LANG_FR, msgid), "Vos résultats sont prêts");
    /* An unknown msgid, or an empty one, answers itself. */
    CHECK_STR(i18n_text(LANG_ES, "no such message"), "no such message");
    CHECK_STR(i18n_text(LANG_ES, ""), "");
    CHECK(i18n_text(LANG_ES, NULL) == NULL);
}

static int counted;
static void count(const char *msgid, const char *msgstr, void *cls)
{
    (void)cls;
    counted += *msgid && *msgstr;
}

static void lists_every_message(void)
{
    counted = 0;
    int n = i18n_each(LANG_FR, count, NULL);
    CHECK(n > 300 && n == counted);
    CHECK(i18n_each(LANG_EN, count, NULL) == 0);
}

/* A .mo of two messages, written here as msgfmt writes one (little-endian). */
static size_t tiny_mo(unsigned char *buf, const char *first, const char *second)
{
    const char *ids[2] = {first, second}, *strs[2] = {"uno", "dos"};
    uint32_t words[7] = {MO_MAGIC, 0, 2, 28, 44, 0, 60};
    memset(buf, 0, 256);
    memcpy(buf, words, sizeof(words));
    size_t at = 60 + 32;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 2; i++) {
            const char *s = t ? strs[i] : ids[i];
            uint32_t entry[2] = {(uint32_t)strlen(s), (uint32_t)at};
            memcpy(buf + (t ? 44 : 28) + i * 8, entry, 8);
            memcpy(buf + at, s, strlen(s) + 1);
            at += strlen(s) + 1;
        }
    return at;
}

static void refuses_broken_catalogues(void)
{
    unsigned char buf[256];
    char err[96];
    struct mo m;
    size_t n = tiny_mo(buf, "a", "b");
    CHECK(mo_open(&m, buf, n, err, sizeof(err)) == 0);
    CHECK_STR(mo_find(&m, "b"), "dos");
    CHECK(mo_find(&m, "c") == NULL);
    /* Unsorted ids would break the binary search. */
    n = tiny_mo(buf, "b", "a");
    CHECK(mo_open(&m, buf, n, err, sizeof(err)) < 0);
    /* Cut short: a string runs past the end. */
    n = tiny_mo(buf, "a", "b");
    CHECK(mo_open(&m, buf, n - 2, err, sizeof(err)) < 0);
    CHECK(mo_open(&m, buf, 20, err, sizeof(err)) < 0);
    /* A count that claims more entries than the file holds. */
    buf[8] = 200;
    CHECK(mo_open(&m, buf, n, err, sizeof(err)) < 0);
    buf[8] = 2;
    /* Not a .mo at all. */
    buf[0] ^= 0xff;
    CHECK(mo_open(&m, buf, n, err, sizeof(err)) < 0);
}

int main(void)
{
    reads_accept_language();
    knows_tags();
    looks_up_in_each_language();
    lists_every_message();
    refuses_broken_catalogues();
    return testhelp_done();
}
