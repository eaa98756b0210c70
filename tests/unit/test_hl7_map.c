/* HL7 to the core's structs, without a database: which field is read for what, the choices HL7
 * leaves (OBR-18 before IPC-1 before OBR-3, OBR-16 before ORC-12, the MR identifier among PID-3's
 * repetitions), what is refused with AR and what with AE naming the field, times to UTC, the OBX
 * sections map, and where an error about a core field points. */
#include "../../server/hl7_map.c"

#include <stdlib.h>

#include "testhelp.h"

static struct hl7_obx_map obx;

static int map(const char *text, struct hl7_message *m, struct hl7_mapped *out,
               struct hl7_ack_error *err)
{
    char why[200];
    if (hl7_parse(text, strlen(text), m, why, sizeof(why)) != 0) {
        printf("# parse: %s\n", why);
        return -1;
    }
    *err = (struct hl7_ack_error){0};
    return hl7_map(m, &obx, out, err);
}

#define MSH_ORM "MSH|^~\\&|RIS|MAINHOSP|PORTAL|PORTAL|20261120140500||ORM^O01|CTRL1|P|2.4\r"

static void order(void)
{
    struct hl7_message m;
    struct hl7_mapped out;
    struct hl7_ack_error err;
    const char *text =
        MSH_ORM "PID|1||X9^^^OTHER^PI~M1^^^CITY^MR||Lovelace^Ada^Augusta||19851210|F|||||"
                "^PRN^PH^^1^555^0100~^NET^Internet^ada@example.org\r"
                "PV1|1|O|^^^NORTH\r"
                "ORC|NW|P1|F1||||||20261120140000+0100|||DR2^Other^Doc\r"
                "OBR|1|P1|F1|CTCH^CT chest \\T\\ abdomen||||||||||||DR77^Hopper^Grace^^^Dr^^^NPI|"
                "|ACC1||||||MRI|||^^^^^S\r"
                "ZXX|ignored\r";
    CHECK(map(text, &m, &out, &err) == HL7_AA);
    CHECK(out.ncalls == 1 && out.calls[0].kind == HL7_CALL_EVENT);
    const struct ingest_event *e = &out.calls[0].u.event;
    CHECK_STR(e->type, "ordered");
    CHECK_STR(e->event_id, "hl7:8:MAINHOSP:CTRL1:o");
    CHECK_STR(e->occurred_at, "2026-11-20T13:00:00Z"); /* ORC-9 with its offset */
    CHECK_STR(e->patient.mrn, "M1");                   /* the MR repetition */
    CHECK_STR(e->patient.assigning_authority, "CITY");
    CHECK_STR(e->patient.name, "Ada Augusta Lovelace");
    CHECK_STR(e->patient.birth_date, "1985-12-10");
    CHECK_STR(e->patient.email, "ada@example.org");
    CHECK_STR(e->patient.phone, "+1 555 0100");
    CHECK_STR(e->study.accession, "ACC1");
    CHECK_STR(e->study.modality, "MR");
    CHECK_STR(e->study.description, "CT chest & abdomen");
    CHECK_STR(e->study.priority, "stat");
    CHECK_STR(e->study.site, "NORTH");
    CHECK_STR(e->physician.id, "DR77"); /* OBR-16 before ORC-12 */
    CHECK_STR(e->physician.name, "Grace Hopper");
    CHECK_STR(e->physician.assigning_authority, "NPI");
    CHECK(e->partial && e->message == m.text && e->message_len == m.len);
    struct hl7_ack_error where = {0};
    CHECK(hl7_mapped_locate(&out, "study.modality", &where));
    CHECK_STR(where.segment, "OBR");
    CHECK(where.sequence == 1 && where.field == 24);
    CHECK(hl7_mapped_locate(&out, "patient.birth_date", &where) && where.field == 7);
    hl7_mapped_free(&out);
    hl7_free(&m);
}

static void statuses(void)
{
    static const struct {
        const char *orc, *type;
    } cases[] = {
        {"SC||||SC", "scheduled"}, {"SC||||IP", "exam_started"}, {"SC||||CM", "exam_completed"},
        {"CA", "cancelled"},       {"OC", "cancelled"},          {"XO", "ordered"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[600];
        snprintf(text, sizeof(text),
                 MSH_ORM "PID|1||M1^^^CITY^MR\rORC|%s\rOBR|1|P1|F1|||||||||||||||ACC1\r",
                 cases[i].orc);
        struct hl7_message m;
        struct hl7_mapped out;
        struct hl7_ack_error err;
        CHECK(map(text, &m, &out, &err) == HL7_AA);
        CHECK_STR(out.calls[0].u.event.type, cases[i].type);
        /* A status change may name the patient and the accession only. */
        CHECK(out.calls[0].u.event.patient.name == NULL);
        hl7_mapped_free(&out);
        hl7_free(&m);
    }
    struct hl7_message m;
    struct hl7_mapped out;
    struct hl7_ack_error err;
    CHECK(map(MSH_ORM "PID|1||M1\rORC|SC||||ZZ\rOBR|1\r", &m, &out, &err) == HL7_AE);
    CHECK_STR(err.segment, "ORC");
    CHECK(err.field == 5);
    CHECK_STR(err.code, "103");
    hl7_mapped_free(&out);
    hl7_free(&m);
}

static void report(void)
{
    struct hl7_message m;
    struct hl7_mapped out;
    struct hl7_ack_error err;
    const char *text =
        "MSH|^~\\&|RIS|MAINHOSP|PORTAL|PORTAL|20261120140500||ORU^R01|R1|P|2.5.1\r"
        "PID|1||M1^^^CITY^MR||Lovelace^Ada||19851210\r"
        "OBR|1|P1|F1|CTCH^CT chest|||20261120100000|||||||||DR77^Hopper^Grace||ACC1||||"
        "20261120130000+0000|||C|||||||RAD1&House&Gregory\r"
        "OBX|1|FT|&GDT||Line one\\.br\\line two~Line three||||||F\r"
        "OBX|2|CE|18748-4^Code^LN||CT^CT||||||F\r"
        "OBX|3|TX|IMP^Impression||All well.||||||F\r"
        "OBX|4|ST|OTHER||Kept as findings.||||||F\r";
    CHECK(map(text, &m, &out, &err) == HL7_AA);
    CHECK(out.ncalls == 2);
    CHECK(out.calls[0].kind == HL7_CALL_EVENT && out.calls[0].only_for_new_accession);
    CHECK_STR(out.calls[0].u.event.occurred_at, "2026-11-20T10:00:00Z"); /* OBR-6 else OBR-7 */
    const struct ingest_report *r = &out.calls[1].u.report;
    CHECK_STR(r->event_id, "hl7:8:MAINHOSP:R1:r1");
    CHECK_STR(r->accession, "ACC1");
    CHECK_STR(r->status, "amended");
    CHECK_STR(r->findings, "Line one\nline two\nLine three\nKept as findings.");
    CHECK_STR(r->impression, "All well.");
    CHECK_STR(r->radiologist, "Gregory House");
    CHECK_STR(r->signed_at, "2026-11-20T13:00:00Z");
    hl7_mapped_free(&out);
    hl7_free(&m);

    CHECK(map("MSH|^~\\&|RIS|H|P|P|20261120||ORU^R01|R2|P|2.5\rPID|1||M1\r"
              "OBR|1|||||||||||||||||ACC1|||||||X\r",
              &m, &out, &err) == HL7_AE);
    CHECK_STR(err.segment, "OBR");
    CHECK(err.field == 25);
    hl7_mapped_free(&out);
    hl7_free(&m);
}

/* A long report, one OBX a line as many RIS send it: every line kept, nothing cut short. */
static void long_report(void)
{
    static const struct {
        int lines, width;
    } sizes[] = {{50, 60}, {300, 60}, {1000, 20}, {3000, 200}};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t cap = (size_t)sizes[k].lines * ((size_t)sizes[k].width + 40) + 1024;
        char *text = malloc(cap);
        CHECK(text != NULL);
        if (!text)
            return;
        size_t n = (size_t)snprintf(
            text, cap,
            "MSH|^~\\&|RIS|H|P|P|20261120||ORU^R01|L%zu|P|2.5.1\rPID|1||M1^^^CITY^MR\r"
            "OBR|1|||CT^CT||||||||||||||ACC1||||20261120130000+0000|||F|||||||RAD1&House&Greg\r",
            k);
        for (int i = 0; i < sizes[k].lines; i++) {
            n += (size_t)snprintf(text + n, cap - n, "OBX|%d|TX|%s||", i + 1,
                                  i == sizes[k].lines - 1 ? "IMP" : "GDT");
            for (int w = 0; w < sizes[k].width; w++)
                text[n++] = (char)('a' + (i + w) % 26);
            n += (size_t)snprintf(text + n, cap - n, "||||||F\r");
        }
        struct hl7_message m;
        struct hl7_mapped out;
        struct hl7_ack_error err;
        CHECK(map(text, &m, &out, &err) == HL7_AA);
        const struct ingest_report *r = &out.calls[1].u.report;
        size_t want = (size_t)(sizes[k].lines - 1) * ((size_t)sizes[k].width + 1) - 1;
        CHECK(r->findings && strlen(r->findings) == want);
        CHECK(r->impression && strlen(r->impression) == (size_t)sizes[k].width);
        hl7_mapped_free(&out);
        hl7_free(&m);
        free(text);
    }
}

static void merge_and_registration(void)
{
    struct hl7_message m;
    struct hl7_mapped out;
    struct hl7_ack_error err;
    CHECK(map("MSH|^~\\&|RIS|H|P|P|20261120||ADT^A40|M1|P|2.5\rEVN|A40\r"
              "PID|1||KEEP^^^CITY^MR\rMRG|GONE^^^CITY^MR\r"
              "PID|1||KEEP2\rMRG|GONE2\r",
              &m, &out, &err) == HL7_AA);
    CHECK(out.ncalls == 2 && out.calls[1].kind == HL7_CALL_MERGE);
    CHECK_STR(out.calls[0].u.merge.mrn, "KEEP");
    CHECK_STR(out.calls[0].u.merge.merged_mrn, "GONE");
    CHECK_STR(out.calls[0].u.merge.merged_authority, "CITY");
    /* No CX.4: the sending facility is the authority. */
    CHECK_STR(out.calls[1].u.merge.assigning_authority, "H");
    CHECK_STR(out.calls[1].u.merge.event_id, "hl7:1:H:M1:m2");
    hl7_mapped_free(&out);
    hl7_free(&m);

    CHECK(map("MSH|^~\\&|RIS|H|P|P|20261120||ADT^A08|A1|P|2.3\rPID|1||M9^^^H||Doe^Jo||2001\r", &m,
              &out, &err) == HL7_AE);
    CHECK_STR(err.segment, "PID");
    CHECK(err.field == 7 && strcmp(err.code, "102") == 0);
    hl7_mapped_free(&out);
    hl7_free(&m);
}

static void refused(void)
{
    static const struct {
        const char *text;
        int code, field;
        const char *table;
    } cases[] = {
        {"MSH|^~\\&|RIS|H|P|P|20261120||ADT^A04|A1|P|2.2\rPID|1||M1\r", HL7_AR, 12, "203"},
        {"MSH|^~\\&|RIS|H|P|P|20261120||ADT^A04|A1|T|2.5\rPID|1||M1\r", HL7_AR, 11, "202"},
        {"MSH|^~\\&|RIS|H|P|P|20261120||ADT^A04||P|2.5\rPID|1||M1\r", HL7_AR, 10, "101"},
        {"MSH|^~\\&|RIS||P|P|20261120||ADT^A04|A1|P|2.5\rPID|1||M1\r", HL7_AR, 4, "101"},
        {"MSH|^~\\&|RIS|H|P|P|20261120||MDM^T02|A1|P|2.5\rPID|1||M1\r", HL7_AR, 9, "200"},
        {"MSH|^~\\&|RIS|H|P|P|20261120||ADT^A03|A1|P|2.5\rPID|1||M1\r", HL7_AR, 9, "201"},
        {"MSH|^~\\&|RIS|H|P|P|20261120||ORM^O01|A1|P|2.5\rORC|NW\rOBR|1\r", HL7_AE, 0, "100"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hl7_message m;
        struct hl7_mapped out;
        struct hl7_ack_error err;
        int code = map(cases[i].text, &m, &out, &err);
        if (code != cases[i].code || err.field != cases[i].field ||
            strcmp(err.code, cases[i].table) != 0)
            printf("# case %zu: code %d field %d table %s\n", i, code, err.field, err.code);
        CHECK(code == cases[i].code && err.field == cases[i].field);
        CHECK_STR(err.code, cases[i].table);
        hl7_mapped_free(&out);
        hl7_free(&m);
    }
}

static void times(void)
{
    char out[40];
    CHECK(timefmt_hl7_to_rfc3339("20261120140500-0500", out, sizeof(out)) == 0);
    CHECK_STR(out, "2026-11-20T19:05:00Z");
    CHECK(timefmt_hl7_to_rfc3339("202611201405", out, sizeof(out)) == 0); /* TZ=UTC below */
    CHECK_STR(out, "2026-11-20T14:05:00Z");
    CHECK(timefmt_hl7_to_rfc3339("20261120", out, sizeof(out)) == 0);
    CHECK_STR(out, "2026-11-20T00:00:00Z");
    CHECK(timefmt_hl7_to_rfc3339("20261120140500.1234+0000", out, sizeof(out)) == 0);
    CHECK_STR(out, "2026-11-20T14:05:00Z");
    static const char *const bad[] = {"2026",
                                      "2026112",
                                      "20261131",
                                      "20261120250000",
                                      "20261120140500+5",
                                      "2026-11-20",
                                      "20261120140500.",
                                      "20261120x",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(timefmt_hl7_to_rfc3339(bad[i], out, sizeof(out)) == -1);
}

static void obx_map(void)
{
    struct hl7_obx_map map;
    char err[160];
    CHECK(hl7_obx_map_parse("&FND=findings,IMP=impression", &map, err, sizeof(err)) == 0);
    CHECK(map.count == 2 && strcmp(map.entries[0].identifier, "FND") == 0);
    CHECK(section_of(&map, "&fnd") == HL7_FINDINGS && section_of(&map, "OTHER") == -1);
    CHECK(hl7_obx_map_parse("GDT=conclusion", &map, err, sizeof(err)) == -1);
    CHECK(hl7_obx_map_parse("=findings", &map, err, sizeof(err)) == -1);
    CHECK(hl7_obx_map_parse("GDT", &map, err, sizeof(err)) == -1);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    char err[160];
    CHECK(hl7_obx_map_parse(HL7_OBX_MAP_DEFAULT, &obx, err, sizeof(err)) == 0);
    order();
    statuses();
    report();
    long_report();
    merge_and_registration();
    refused();
    times();
    obx_map();
    return testhelp_done();
}
