/* `portald catalogue LANG`: a language's catalogue as JSON for the pages (i18n_pages.h). */
#include "i18n_pages.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"

static void add(const char *msgid, const char *msgstr, void *cls)
{
    json_object_set_new(cls, msgid, json_string(msgstr));
}

int i18n_pages_cli(int argc, char **argv)
{
    char err[160];
    if (argc != 3) {
        fprintf(stderr, "usage: portald catalogue en|es|fr\n");
        return 2;
    }
    int lang = i18n_lang_of_tag(argv[2], strlen(argv[2]));
    if (lang < 0 || strlen(argv[2]) != 2) {
        fprintf(stderr, "portald: no catalogue for language %s\n", argv[2]);
        return 2;
    }
    if (i18n_init(err, sizeof(err)) < 0) {
        fprintf(stderr, "portald: %s\n", err);
        return 1;
    }
    json_t *all = json_object();
    if (!all)
        return 1;
    i18n_each((enum lang)lang, add, all);
    /* Sorted keys: the file changes only when a message does. */
    int rc = json_dumpf(all, stdout, JSON_INDENT(0) | JSON_SORT_KEYS) == 0 && putchar('\n') != EOF
                 ? 0
                 : 1;
    json_decref(all);
    return rc;
}
