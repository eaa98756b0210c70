/* The pages' message catalogues: `portald catalogue LANG` writes LANG's translations as one JSON
 * object {msgid: msgstr}, which the build puts in static/i18n/LANG.json for static/common.js. The
 * pages thus read the same po/LANG.po as the server. */
#ifndef PORTAL_I18N_PAGES_H
#define PORTAL_I18N_PAGES_H

/* argv: portald catalogue LANG. Returns the exit status. */
int i18n_pages_cli(int argc, char **argv);

#endif
