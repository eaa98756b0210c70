/* The notification channels without a network: the Standard Webhooks signature against the
 * specification's own example, Retry-After in both forms, the email as it goes on the wire
 * (headers, UTF-8 MIME, one-click unsubscribe) and the templates (no link with a token, true
 * counts, nothing for a kind that does not fit its audience). */
#include "../../server/notify_webhook.c"

#include <openssl/evp.h>

#include "notify_smtp.h"
#include "testhelp.h"

static void signature(void)
{
    /* https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md */
    unsigned char key[64];
    int n = EVP_DecodeBlock(key, (const unsigned char *)"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32);
    CHECK(n == 24);
    char sig[128];
    CHECK(notify_webhook_sign(key, 24, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                              "{\"test\": 2432232314}", sig, sizeof(sig)) == 0);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK(notify_webhook_sign(key, 24, "id", 1, "{}", sig, 10) == -1);
}

static void retry_after(void)
{
    time_t now = 1700000000;
    CHECK(notify_webhook_retry_after("120", now) == 120);
    CHECK(notify_webhook_retry_after("0", now) == 0);
    CHECK(notify_webhook_retry_after("999999999", now) == RETRY_AFTER_MAX_S);
    CHECK(notify_webhook_retry_after("", now) == 0);
    CHECK(notify_webhook_retry_after(NULL, now) == 0);
    /* An HTTP date 90 s after now (Tue, 14 Nov 2023 22:13:20 GMT is 1700000000). */
    CHECK(notify_webhook_retry_after("Tue, 14 Nov 2023 22:14:50 GMT", now) == 90);
    CHECK(notify_webhook_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0);
    CHECK(notify_webhook_retry_after("soon", now) == 0);
}

static const struct notify_message patient_msg = {
    .id = "7",
    .message_id = "0b7b8f0e-3a43-4c52-9a63-1b2c3d4e5f60",
    .kind = NOTIFY_RESULT_READY,
    .audience = NOTIFY_PATIENT,
    .address = "ada@example.org",
    .unsubscribe_id = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    .attempt = 1,
};

static void templates(void)
{
    struct notify_text t;
    CHECK(notify_text_render(&patient_msg, "https://results.example.org/", &t) == 0);
    CHECK_STR(t.subject, "A new result is ready in your patient portal");
    CHECK_STR(t.link, "https://results.example.org/");
    CHECK(strstr(t.body, "https://results.example.org/\n") != NULL);
    CHECK(strchr(t.link, '?') == NULL);
    struct notify_message m = patient_msg;
    m.kind = NOTIFY_REPORTS_WAITING;
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == -1);
    m.audience = NOTIFY_PHYSICIAN;
    m.reports_waiting = 0;
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == -1);
    m.reports_waiting = 3;
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == 0);
    CHECK_STR(t.subject, "Reports wait for your review");
    CHECK(strncmp(t.body, "3 reports wait for your review.", 31) == 0);
    CHECK_STR(t.link, "https://results.example.org/physician.html");
    m.audience = NOTIFY_PROXY;
    m.kind = NOTIFY_RESULT_READY;
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == 0);
    CHECK_STR(t.subject, "A new result is ready for someone you follow");
    CHECK_STR(t.link, "https://results.example.org/proxy.html");
    m.kind = NOTIFY_HOLD_ENDING;
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == -1);
    m.audience = NOTIFY_STAFF;
    m.kind = NOTIFY_STUDY_OVERDUE;
    m.accession = "ACC 1";
    m.stage = "reading";
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == -1);
    m.accession = "ACC1";
    CHECK(notify_text_render(&m, "https://results.example.org", &t) == 0);
    CHECK_STR(t.subject, "Study ACC1 is overdue at stage reading");
    CHECK(notify_kind_parse("hold_ending") == NOTIFY_HOLD_ENDING);
    CHECK(notify_kind_parse("nonsense") == -1);
    CHECK(notify_audience_parse("staff") == NOTIFY_STAFF);
}

static void email(void)
{
    struct config cfg = {.public_url = "https://results.example.org",
                         .smtp_from = "Results portal <noreply@example.org>"};
    struct notify_text t;
    CHECK(notify_text_render(&patient_msg, cfg.public_url, &t) == 0);
    size_t len = 0;
    char *msg = notify_smtp_compose(&cfg, &patient_msg, &t, "ada@example.org", 1700000000, &len);
    CHECK(msg != NULL && len == strlen(msg));
    if (!msg)
        return;
    CHECK(strstr(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n") == msg);
    CHECK(strstr(msg,
                 "\r\nMessage-ID: <0b7b8f0e-3a43-4c52-9a63-1b2c3d4e5f60@results.example.org>\r\n"));
    CHECK(strstr(msg, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    CHECK(strstr(msg, "\r\nContent-Transfer-Encoding: base64\r\n"));
    CHECK(strstr(msg, "\r\nList-Unsubscribe: <https://results.example.org/api/v1/notifications/"
                      "unsubscribe/5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b>\r\n"
                      "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    CHECK(strstr(msg, "\r\nTo: <ada@example.org>\r\n"));
    free(msg);
    /* Header syntax in an address is refused, never written. */
    CHECK(notify_smtp_compose(&cfg, &patient_msg, &t, "a@b\r\nBcc: x@y", 1700000000, &len) == NULL);
    CHECK(!notify_smtp_address_ok("a b@example.org"));
    CHECK(!notify_smtp_address_ok("<a@example.org>"));
    CHECK(!notify_smtp_address_ok("a@@example.org"));
    CHECK(notify_smtp_address_ok("a.b+c@example.org"));
    /* A subject outside ASCII goes as an RFC 2047 encoded word. */
    snprintf(t.subject, sizeof(t.subject), "R\xc3\xa9sultat");
    msg = notify_smtp_compose(&cfg, &patient_msg, &t, "ada@example.org", 1700000000, &len);
    CHECK(msg && strstr(msg, "\r\nSubject: =?UTF-8?B?UsOpc3VsdGF0?=\r\n"));
    free(msg);
}

int main(void)
{
    signature();
    retry_after();
    templates();
    email();
    return testhelp_done();
}
