/* HL7 acknowledgements: sender and receiver swapped, the control id echoed, the version's own
 * form of ERR, our text escaped, and an ACK for a message that could not be parsed; every ACK
 * parses as HL7. */
#include "../../server/hl7_ack.c"

#include "testhelp.h"

static char v[512];

static const char *get(const struct hl7_message *m, int seg, int f, int r, int c, int s)
{
    return hl7_get(m, seg, f, r, c, s, v, sizeof(v)) < 0 ? "(error)" : v;
}

static void parse(const char *text, struct hl7_message *m)
{
    char err[200];
    CHECK(hl7_parse(text, strlen(text), m, err, sizeof(err)) == 0);
}

static void applied(void)
{
    struct hl7_message m, a;
    parse("MSH|^~\\&|RIS|CITY^1.2^ISO|PORTAL|SITE|20261120||ORM^O01^ORM_O01|MSG0001|P|2.5.1\r"
          "PID|1||M1\r",
          &m);
    size_t len;
    char *ack = hl7_ack(&m, HL7_AA, NULL, "ACK0001", "20261120140501", &len);
    CHECK(ack && len == strlen(ack));
    parse(ack, &a);
    CHECK_STR(get(&a, 0, 3, 0, 1, 1), "PORTAL");
    CHECK_STR(get(&a, 0, 4, 0, 1, 1), "SITE");
    CHECK_STR(get(&a, 0, 5, 0, 1, 1), "RIS");
    CHECK_STR(get(&a, 0, 6, 0, 2, 1), "1.2");
    CHECK_STR(get(&a, 0, 7, 0, 1, 1), "20261120140501");
    CHECK_STR(get(&a, 0, 9, 0, 1, 1), "ACK");
    CHECK_STR(get(&a, 0, 9, 0, 2, 1), "O01");
    CHECK_STR(get(&a, 0, 10, 0, 1, 1), "ACK0001");
    CHECK_STR(get(&a, 0, 12, 0, 1, 1), "2.5.1");
    int msa = hl7_find(&a, "MSA", 0);
    CHECK_STR(get(&a, msa, 1, 0, 1, 1), "AA");
    CHECK_STR(get(&a, msa, 2, 0, 1, 1), "MSG0001");
    CHECK(hl7_find(&a, "ERR", 0) == -1);
    hl7_free(&a);
    free(ack);
    hl7_free(&m);
}

static void errors_by_version(void)
{
    struct hl7_message m, a;
    struct hl7_ack_error e = {"PID", 1, 3, "101", "PID-3 is required | an identifier"};
    size_t len;
    parse("MSH|^~\\&|RIS|A|PORTAL|B|20261120||ADT^A04|M2|P|2.5\r", &m);
    char *ack = hl7_ack(&m, HL7_AE, &e, "A2", "20261120", &len);
    parse(ack, &a);
    int err = hl7_find(&a, "ERR", 0);
    CHECK(err > 0);
    CHECK_STR(get(&a, err, 2, 0, 1, 1), "PID");
    CHECK_STR(get(&a, err, 2, 0, 3, 1), "3");
    CHECK_STR(get(&a, err, 3, 0, 1, 1), "101");
    CHECK_STR(get(&a, err, 3, 0, 3, 1), "HL70357");
    CHECK_STR(get(&a, err, 4, 0, 1, 1), "E");
    CHECK_STR(get(&a, err, 8, 0, 1, 1), "PID-3 is required | an identifier");
    CHECK_STR(get(&a, hl7_find(&a, "MSA", 0), 1, 0, 1, 1), "AE");
    hl7_free(&a);
    free(ack);
    hl7_free(&m);

    parse("MSH|^~\\&|RIS|A|PORTAL|B|20261120||ORU^R01|M3|P|2.3\r", &m);
    ack = hl7_ack(&m, HL7_AE, &e, "A3", "20261120", &len);
    parse(ack, &a);
    err = hl7_find(&a, "ERR", 0);
    CHECK_STR(get(&a, err, 1, 0, 1, 1), "PID");
    CHECK_STR(get(&a, err, 1, 0, 3, 1), "3");
    CHECK_STR(get(&a, err, 1, 0, 4, 1), "101");
    CHECK_STR(get(&a, err, 1, 0, 4, 2), "PID-3 is required | an identifier");
    hl7_free(&a);
    free(ack);
    hl7_free(&m);
}

static void unparsed(void)
{
    struct hl7_message a;
    struct hl7_ack_error e = {NULL, 0, 0, "100", "the message does not begin with an MSH segment"};
    size_t len;
    char *ack = hl7_ack(NULL, HL7_AR, &e, "A4", "20261120", &len);
    parse(ack, &a);
    CHECK_STR(get(&a, 0, 9, 0, 1, 1), "ACK");
    CHECK_STR(get(&a, 0, 12, 0, 1, 1), "2.5.1");
    CHECK_STR(get(&a, hl7_find(&a, "MSA", 0), 1, 0, 1, 1), "AR");
    CHECK_STR(get(&a, hl7_find(&a, "MSA", 0), 2, 0, 1, 1), "");
    CHECK_STR(get(&a, hl7_find(&a, "ERR", 0), 8, 0, 1, 1),
              "the message does not begin with an MSH segment");
    hl7_free(&a);
    free(ack);
}

int main(void)
{
    applied();
    errors_by_version();
    unparsed();
    return testhelp_done();
}
