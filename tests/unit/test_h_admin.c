/* The compliance report's CSV cells: RFC 4180 quoting, and formula-looking hold reasons defused
 * so a spreadsheet never runs them; hours rounded for people. */
#include "../../server/h_admin.c"

#include <stdlib.h>

#include "testhelp.h"

static char *cell(const char *v)
{
    static char out[256];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    csv_field(f, v);
    fclose(f);
    snprintf(out, sizeof(out), "%s", buf);
    free(buf);
    return out;
}

int main(void)
{
    CHECK_STR(cell("plain text"), "plain text");
    CHECK_STR(cell(""), "");
    CHECK_STR(cell(NULL), "");
    CHECK_STR(cell("a, b"), "\"a, b\"");
    CHECK_STR(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    CHECK_STR(cell("two\nlines"), "\"two\nlines\"");
    CHECK_STR(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    CHECK_STR(cell("+1"), "\"'+1\"");
    CHECK_STR(cell("-2"), "\"'-2\"");
    CHECK_STR(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
    CHECK_STR(cell("2026-11-20T14:05:00Z"), "2026-11-20T14:05:00Z");
    /* A spreadsheet set to split on ';' or tabs would make the text after one a cell of its own,
     * and "=..." there a formula: such fields are quoted so they stay one cell. */
    CHECK_STR(cell("see note;=1+1"), "\"see note;=1+1\"");
    CHECK_STR(cell("a\t=1+1"), "\"a\t=1+1\"");

    json_t *h = hours(7200);
    CHECK(json_real_value(h) == 2.0);
    json_decref(h);
    h = hours(5400 + 18); /* 1.505 h */
    CHECK(json_real_value(h) == 1.51);
    json_decref(h);
    return testhelp_done();
}
