/* Access codes: what a patient types is normalised, a new code verifies against its own hash
 * only, and a missing hash never verifies. */
#include "../../server/access_code.c"

#include "testhelp.h"

static void parse_normalises(void)
{
    char sel[ACCESS_SELECTOR_LEN + 1], ver[ACCESS_VERIFIER_LEN + 1];
    CHECK(access_code_parse("ABCD-EFGH-JKMN-PQRS", sel, ver));
    CHECK_STR(sel, "ABCDEFGH");
    CHECK_STR(ver, "JKMNPQRS");
    CHECK(access_code_parse("abcd efgh jkmn pqrs", sel, ver));
    CHECK_STR(sel, "ABCDEFGH");
    CHECK(access_code_parse("ABCDEFGHJKMNPQRS", sel, ver));
    CHECK_STR(ver, "JKMNPQRS");
    /* O reads as 0, I and L as 1: the letters people confuse with digits. */
    CHECK(access_code_parse("OoIi-LlOO-0000-1111", sel, ver));
    CHECK_STR(sel, "00111100");
    CHECK_STR(ver, "00001111");
}

static void parse_refuses(void)
{
    char sel[ACCESS_SELECTOR_LEN + 1], ver[ACCESS_VERIFIER_LEN + 1];
    CHECK(!access_code_parse("", sel, ver));
    CHECK(!access_code_parse("ABCD-EFGH-JKMN-PQR", sel, ver));   /* 15 symbols */
    CHECK(!access_code_parse("ABCD-EFGH-JKMN-PQRST", sel, ver)); /* 17 symbols */
    CHECK(!access_code_parse("ABCD-EFGH-JKMN-PQRU", sel, ver));  /* U is not in the alphabet */
    CHECK(!access_code_parse("ABCD_EFGH_JKMN_PQRS", sel, ver));
    CHECK(!access_code_parse("ABCD-EFGH-JKMN-PQR\xc3\xa9", sel, ver));
    CHECK(!access_code_parse("ABCDEFGHJKMNPQRSABCDEFGHJKMNPQRS", sel, ver));
}

static void new_code_verifies(void)
{
    struct access_code a, b;
    CHECK(access_code_new(&a) == 0);
    CHECK(access_code_new(&b) == 0);
    CHECK(strlen(a.code) == ACCESS_CODE_LEN);
    CHECK(a.code[4] == '-' && a.code[9] == '-' && a.code[14] == '-');
    CHECK(strcmp(a.code, b.code) != 0);
    CHECK(strncmp(a.hash, "$argon2id$", 10) == 0);
    char sel[ACCESS_SELECTOR_LEN + 1], ver[ACCESS_VERIFIER_LEN + 1];
    CHECK(access_code_parse(a.code, sel, ver));
    CHECK_STR(sel, a.selector);
    /* The hash holds neither the code nor its secret part. */
    CHECK(strstr(a.hash, ver) == NULL);
    CHECK(access_code_verify(a.hash, ver));
    CHECK(!access_code_verify(b.hash, ver));
    char wrong[ACCESS_VERIFIER_LEN + 1];
    memcpy(wrong, ver, sizeof(wrong));
    wrong[7] = wrong[7] == 'A' ? 'B' : 'A';
    CHECK(!access_code_verify(a.hash, wrong));
    CHECK(!access_code_verify(a.hash, ""));
    /* No stored hash (unknown selector): the same work, and never a match. */
    CHECK(!access_code_verify(NULL, ver));
    CHECK(!access_code_verify(NULL, "--------"));
}

int main(void)
{
    parse_normalises();
    parse_refuses();
    new_code_verifies();
    return testhelp_done();
}
