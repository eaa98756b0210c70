#!/usr/bin/env bash
# The message catalogues (docs/languages.md): po/portal.pot is extracted from the C sources and the
# pages, and po/LANG.po holds LANG's translations of it.
#   scripts/po.sh update  re-extracts po/portal.pot and merges it into each po/LANG.po (new or
#                         changed messages then wait there, untranslated or fuzzy, for a translator)
#   scripts/po.sh check   fails, naming them, when po/portal.pot is not what the sources give, or a
#                         message of a language is untranslated or fuzzy, or a translation drops or
#                         adds a {placeholder} of the pages (msgfmt --check does the same for the
#                         C formats); prints "N passed, N failed"
set -euo pipefail
cd "$(dirname "$0")/.."
LANGS="es fr"
tmp=$(mktemp -d "${PORTAL_TEST_TMP:-/tmp}/po.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Every msgid, from three kinds of source: C (i18n_text, N_, and req_problem's format in the files
# that answer patients and physicians: the RIS, FHIR apps, operators and administrators get the
# English detail), the pages' scripts (t), and the elements of the HTML marked data-i18n (their
# text is the msgid).
PEOPLE_FACING="server/http.c server/h_patient.c server/h_physician.c server/h_physician_session.c
  server/h_preference.c server/h_session.c server/h_language.c server/session.c server/req_db.c
  server/static_files.c server/h_discussion_answer.c server/h_proxy.c server/h_access_log.c
  server/h_patient_proxies.c server/h_session_switch.c"
extract() {
    local out
    out=$(realpath -m "$1")
    xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: --sort-output \
        --add-location=file --package-name=portal --msgid-bugs-address=none -k -ki18n_text:2 -kN_ \
        --flag=i18n_text:2:pass-c-format -o "$out" server/*.c
    # shellcheck disable=SC2086
    xgettext --from-code=UTF-8 --language=C --sort-output --add-location=file -j -k \
        -kreq_problem:3 --flag=req_problem:3:c-format -o "$out" $PEOPLE_FACING
    xgettext --from-code=UTF-8 --language=JavaScript --sort-output --add-location=file -j -k -kt -ktParts \
        -o "$out" static/*.js
    mkdir -p "$tmp/html/static"
    for page in static/*.html; do
        python3 - "$page" >"$tmp/html/$page.js" <<'PY'
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
for m in re.finditer(r"<(\w+)\b[^>]*\bdata-i18n\b[^>]*>([^<]*)</\1>", html):
    print("t(%s);" % json.dumps(" ".join(m.group(2).split()), ensure_ascii=False))
PY
    done
    (cd "$tmp/html" && xgettext --from-code=UTF-8 --language=JavaScript --sort-output \
        --add-location=file -j -k -kt -o "$out" static/*.html.js)
    sed -i -e 's/charset=CHARSET/charset=UTF-8/' -e '1,4c # The messages of the results portal, extracted by scripts/po.sh (make po): every text a patient\
# or physician reads. How to add or change one: docs/languages.md.' "$out"
}

msgids() {
    msgcat --no-location --no-wrap --sort-output "$1" | sed '1,/^$/d' | grep -E '^msgid ' || true
}

case "${1:-}" in
update)
    extract po/portal.pot
    for l in $LANGS; do
        if [ -f "po/$l.po" ]; then
            msgmerge --quiet --update --backup=none --previous --sort-output "po/$l.po" po/portal.pot
        else
            msginit --no-translator --locale="$l" -i po/portal.pot -o "po/$l.po"
        fi
        msgfmt --check --statistics -o /dev/null "po/$l.po"
    done
    ;;
check)
    passed=0
    failed=0
    extract "$tmp/portal.pot"
    if diff <(msgids po/portal.pot) <(msgids "$tmp/portal.pot") >"$tmp/pot.diff"; then
        echo "ok - po/portal.pot holds every message of the sources"
        passed=$((passed + 1))
    else
        echo "not ok - po/portal.pot is not what the sources give (run make po, then translate):"
        sed 's/^/#   /' "$tmp/pot.diff" | head -20
        failed=$((failed + 1))
    fi
    for l in $LANGS; do
        msgmerge --quiet --no-fuzzy-matching -o "$tmp/$l.po" "po/$l.po" "$tmp/portal.pot"
        stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$tmp/$l.po" 2>&1) || true
        if echo "$stats" | grep -Eq '^[0-9]+ translated messages\.$'; then
            echo "ok - $l: $stats"
            passed=$((passed + 1))
        else
            echo "not ok - $l: $stats"
            msgattrib --untranslated --only-fuzzy "$tmp/$l.po" 2>/dev/null | grep '^msgid' | head -5 | sed 's/^/#   fuzzy: /'
            msgattrib --untranslated "$tmp/$l.po" | grep '^msgid' | sed 1d | head -10 | sed 's/^/#   untranslated: /'
            failed=$((failed + 1))
        fi
        if python3 - "$tmp/$l.po" <<'PY'
import re, sys
# The pages fill {name} placeholders; a translation must keep exactly the English one's.
text = open(sys.argv[1], encoding="utf-8").read()
bad = []
for entry in text.split("\n\n"):
    if entry.lstrip().startswith("#~"):
        continue
    def field(name):
        m = re.search(r'^%s ((?:".*"\n?)+)' % name, entry + "\n", re.M)
        return "".join(re.findall(r'"(.*)"', m.group(1))) if m else None
    msgid, msgstr = field("msgid"), field("msgstr")
    if msgid and msgstr and sorted(re.findall(r"\{\w+\}", msgid)) != sorted(re.findall(r"\{\w+\}", msgstr)):
        bad.append(msgid)
for b in bad:
    print("#   placeholders differ: " + b)
sys.exit(1 if bad else 0)
PY
        then
            echo "ok - $l: every translation keeps the pages' placeholders"
            passed=$((passed + 1))
        else
            echo "not ok - $l: a translation drops or adds a placeholder"
            failed=$((failed + 1))
        fi
    done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    ;;
*)
    echo "usage: $0 update|check" >&2
    exit 2
    ;;
esac
