/* HL7 v2 parsing: the delimiters a message declares, segments by CR or LF, fields numbered as HL7
 * numbers them, repetitions, components and subcomponents, escape sequences, character sets, and
 * the refusals, none of which quotes the message. */
#include "../../server/hl7.c"

#include "testhelp.h"

static char value[4096];

static const char *get(const struct hl7_message *m, int seg, int f, int r, int c, int s)
{
    return hl7_get(m, seg, f, r, c, s, value, sizeof(value)) < 0 ? "(error)" : value;
}

static void fields_and_parts(void)
{
    const char *text = "MSH|^~\\&|RIS|CITY^1.2.3^ISO|PORTAL|CITY|20261120140500||ORM^O01^ORM_O01|"
                       "MSG0001|P|2.5.1\r"
                       "PID|1||MRN-1^^^CITYHOSP^MR~99^^^STATE^SS||Lovelace^Ada^^^Dr||19851210|F\n"
                       "ZXX|custom\r\n"
                       "OBR|1|PL-1|ACC-1|CT^CT chest^L||||||||||||||||||||CT\r";
    struct hl7_message m;
    char err[200];
    CHECK(hl7_parse(text, strlen(text), &m, err, sizeof(err)) == 0);
    CHECK(m.nsegments == 4);
    CHECK_STR(m.segments[2].name, "ZXX");
    CHECK(hl7_find(&m, "OBR", 0) == 3 && hl7_find(&m, "OBR", 1) == -1);
    CHECK_STR(get(&m, 0, 1, 0, 1, 1), "|");
    CHECK_STR(get(&m, 0, 2, 0, 1, 1), "^~\\&");
    CHECK_STR(get(&m, 0, 3, 0, 1, 1), "RIS");
    CHECK_STR(get(&m, 0, 4, 0, 2, 1), "1.2.3");
    CHECK_STR(get(&m, 0, 9, 0, 1, 1), "ORM");
    CHECK_STR(get(&m, 0, 9, 0, 2, 1), "O01");
    CHECK_STR(get(&m, 0, 10, 0, 1, 1), "MSG0001");
    CHECK_STR(get(&m, 0, 12, 0, 1, 1), "2.5.1");
    CHECK_STR(get(&m, 0, 13, 0, 1, 1), ""); /* absent */
    int pid = hl7_find(&m, "PID", 0);
    CHECK(hl7_repetitions(&m, pid, 3) == 2);
    CHECK_STR(get(&m, pid, 3, 0, 1, 1), "MRN-1");
    CHECK_STR(get(&m, pid, 3, 0, 4, 1), "CITYHOSP");
    CHECK_STR(get(&m, pid, 3, 1, 4, 1), "STATE");
    CHECK_STR(get(&m, pid, 3, 2, 1, 1), "");
    CHECK_STR(get(&m, pid, 5, 0, 2, 1), "Ada");
    CHECK_STR(get(&m, pid, 7, 0, 1, 1), "19851210");
    CHECK_STR(get(&m, 3, 24, 0, 1, 1), "CT");
    CHECK_STR(get(&m, 3, 4, 0, 2, 1), "CT chest");
    CHECK(hl7_repetitions(&m, pid, 2) == 0);
    hl7_free(&m);
}

static void escapes_and_charsets(void)
{
    const char *text = "MSH|^~\\&|A|B|C|D|20261120||ORU^R01|1|P|2.3\r"
                       "OBX|1|TX|GDT||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\H\\bold\\N\\|\r"
                       "OBX|2|TX|GDT||caf\\XE9\\ \xe9t\xe9 \\ alone|\r"
                       "OBX|3|TX|GDT||sub&part^two|\r";
    struct hl7_message m;
    char err[200];
    CHECK(hl7_parse(text, strlen(text), &m, err, sizeof(err)) == 0);
    CHECK(m.charset == HL7_ASCII);
    CHECK_STR(get(&m, 1, 5, 0, 1, 1), "a|b^c&d~e\\f\ngbold");
    /* Undeclared 8-bit text is read as ISO 8859-1; an escape with no end is a literal. */
    CHECK_STR(get(&m, 2, 5, 0, 1, 1), "caf\xc3\xa9 \xc3\xa9t\xc3\xa9 \\ alone");
    CHECK_STR(get(&m, 3, 5, 0, 1, 1), "sub");
    CHECK_STR(get(&m, 3, 5, 0, 1, 2), "part");
    CHECK_STR(get(&m, 3, 5, 0, 2, 1), "two");
    char small[4];
    CHECK(hl7_get(&m, 1, 5, 0, 1, 1, small, sizeof(small)) == -1);
    hl7_free(&m);

    const char *utf8 = "MSH|^~\\&|A|B|C|D|20261120||ADT^A04|1|P|2.5||||||UNICODE UTF-8\r"
                       "PID|1||M1||Mu\xc3\xb1oz^Jos\xc3\xa9||19700101\r";
    CHECK(hl7_parse(utf8, strlen(utf8), &m, err, sizeof(err)) == 0);
    CHECK(m.charset == HL7_UTF8);
    CHECK_STR(get(&m, 1, 5, 0, 1, 1), "Mu\xc3\xb1oz");
    hl7_free(&m);

    const char *bad_utf8 = "MSH|^~\\&|A|B|C|D|20261120||ADT^A04|1|P|2.5||||||UNICODE UTF-8\r"
                           "PID|1||M1||Mu\xf1oz\r";
    CHECK(hl7_parse(bad_utf8, strlen(bad_utf8), &m, err, sizeof(err)) == -1);
    CHECK_STR(err, "the message is not valid UTF-8 (byte 76)");

    const char *latin1 = "MSH|^~\\&|A|B|C|D|20261120||ADT^A04|1|P|2.5||||||8859/1\r"
                         "PID|1||M1||M\xfcller\r";
    CHECK(hl7_parse(latin1, strlen(latin1), &m, err, sizeof(err)) == 0);
    CHECK_STR(get(&m, 1, 5, 0, 1, 1), "M\xc3\xbcller");
    hl7_free(&m);

    /* Other delimiters, declared in MSH-1 and MSH-2, with v2.7's fifth character. */
    const char *other = "MSH#!@$%*#A\nPID#1##X!Y@Z1@Z2$F$\n";
    CHECK(hl7_parse(other, strlen(other), &m, err, sizeof(err)) == 0);
    CHECK_STR(get(&m, 0, 3, 0, 1, 1), "A");
    CHECK_STR(get(&m, 1, 3, 0, 2, 1), "Y");
    CHECK_STR(get(&m, 1, 3, 1, 1, 1), "Z1");
    CHECK_STR(get(&m, 1, 3, 2, 1, 1), "Z2#");
    hl7_free(&m);
}

static void refusals(void)
{
    struct {
        const char *text;
        size_t len;
        const char *why;
    } cases[] = {
        {"PID|1||M1\r", 0, "the message does not begin with an MSH segment"},
        {"MSH|^~\\\r", 0, "MSH-1 and MSH-2 must be five distinct punctuation characters"},
        {"MSH|^^\\&|A\r", 0, "MSH-1 and MSH-2 must be five distinct punctuation characters"},
        {"MSHA^~\\&|A\r", 0, "MSH-1 and MSH-2 must be five distinct punctuation characters"},
        {"MSH|^~\\&xy|A\r", 0, "MSH-2 must hold four encoding characters"},
        {"MSH|^~\\&|A\rP|x\r", 0, "segment 2 has no three-letter name before a field separator"},
        {"MSH|^~\\&|A\rPIDX|x\r", 0, "segment 2 has no three-letter name before a field separator"},
        {"MSH|^~\\&|A|B|C|D|E||F|G|P|2.5||||||KOI8-R\r", 0,
         "MSH-18 names a character set this server does not read (ASCII, 8859/1 and UNICODE "
         "UTF-8 are)"},
        {"MSH|^~\\&|A\0B\r", 13, "the message holds a NUL byte"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hl7_message m;
        char err[200] = "";
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        CHECK(hl7_parse(cases[i].text, len, &m, err, sizeof(err)) == -1);
        CHECK_STR(err, cases[i].why);
        CHECK(m.text == NULL && m.segments == NULL);
    }
    /* Too large, and too many segments. */
    size_t big = HL7_MAX_MESSAGE + 1;
    char *text = malloc(big);
    memset(text, 'x', big);
    memcpy(text, "MSH|^~\\&|A\r", 11);
    struct hl7_message m;
    char err[200];
    CHECK(hl7_parse(text, big, &m, err, sizeof(err)) == -1);
    CHECK_STR(err, "the message is larger than 1048576 bytes");
    size_t n = 11;
    for (int i = 0; i <= HL7_MAX_SEGMENTS; i++) {
        memcpy(text + n, "NTE|1\r", 6);
        n += 6;
    }
    CHECK(hl7_parse(text, n, &m, err, sizeof(err)) == -1);
    CHECK_STR(err, "more than 4096 segments");
    free(text);
}

int main(void)
{
    fields_and_parts();
    escapes_and_charsets();
    refusals();
    return testhelp_done();
}
