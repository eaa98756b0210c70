/* The languages people read: English, Spanish and French. Every human text is an English msgid
 * looked up in the language's catalogue (po/LANG.po, compiled by msgfmt into a .mo that the build
 * links into the binary), so a thread answers in its request's language without touching the
 * process-wide locale. docs/languages.md says how to add a string. */
#ifndef PORTAL_I18N_H
#define PORTAL_I18N_H

#include <stddef.h>

enum lang { LANG_EN, LANG_ES, LANG_FR };
#define LANG_COUNT 3

/* Marks a msgid for xgettext where the lookup happens later (tables of texts). */
#define N_(s) s

/* Checks the catalogues linked in. Returns 0, or -1 with a message in err when one is unreadable
 * (a broken build): start-up stops rather than answer in a half-translated language. */
int i18n_init(char *err, size_t errlen);

/* The msgstr for msgid in lang; msgid itself for English, an empty translation or an unknown
 * msgid. format_arg: a translated format string is checked against the English one. */
__attribute__((format_arg(2))) const char *i18n_text(enum lang lang, const char *msgid);

/* "en", "es", "fr". */
const char *i18n_code(enum lang lang);
/* The language a tag names ("es", "ES", "es-MX", "fr-CA"; a primary subtag of 2 letters), or -1
 * for any other (including "*"). len bytes of tag are read. */
int i18n_lang_of_tag(const char *tag, size_t len);
/* The best of our languages by an Accept-Language header (RFC 9110 12.5.4): highest q first, ties
 * in header order; q=0 refuses; "*" stands for any language not named otherwise. fallback when
 * none is acceptable or the header is absent or unreadable. */
enum lang i18n_accept_language(const char *header, enum lang fallback);

/* Calls each(msgid, msgstr, cls) for every translated message of lang, in msgid order; returns
 * the count (for the pages' JSON catalogues, `portald catalogue LANG`). */
int i18n_each(enum lang lang, void (*each)(const char *msgid, const char *msgstr, void *cls),
              void *cls);

#endif
