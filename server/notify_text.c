/* The notification templates: fixed words with the portal's link, a count, or (for the staff) an
 * accession and a stage, and nothing else. Every sentence is true whenever the message is sent:
 * a digest's count is taken when it is sent, and a hold's end is described by what the release
 * policy does then. */
#include "notify_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"

static const char *const kind_names[] = {
    [NOTIFY_RESULT_READY] = "result_ready",
    [NOTIFY_RESULT_UPDATED] = "result_updated",
    [NOTIFY_REPORTS_WAITING] = "reports_waiting",
    [NOTIFY_CALLBACK_REQUESTED] = "callback_requested",
    [NOTIFY_HOLD_ENDING] = "hold_ending",
    [NOTIFY_STUDY_OVERDUE] = "study_overdue",
    [NOTIFY_CALLBACK_ANSWERED] = "callback_answered",
};

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* Said under every email: why it came, and that replies go nowhere. */
#define FOOTER_AUTOMATIC N_("This message was sent automatically; replies are not read.")

int notify_kind_parse(const char *s)
{
    for (size_t i = 0; s && i < NKINDS; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *notify_kind_name(enum notify_kind k)
{
    return (size_t)k < NKINDS ? kind_names[k] : "unknown";
}

int notify_audience_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "patient") == 0)
        return NOTIFY_PATIENT;
    if (strcmp(s, "physician") == 0)
        return NOTIFY_PHYSICIAN;
    if (strcmp(s, "staff") == 0)
        return NOTIFY_STAFF;
    if (strcmp(s, "proxy") == 0)
        return NOTIFY_PROXY;
    return -1;
}

/* Whether s is a plain token (an accession, a stage): printable ASCII, no spaces. Anything else
 * from the database is not put into a message. */
static bool plain(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* Formats into one field of out; returns 0, or -1 when it did not fit. */
__attribute__((format(printf, 3, 4))) static int put(char *buf, size_t size, const char *fmt, ...);

static int put(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A message to a patient or a proxy: a subject; an email of a greeting, one sentence, the link,
 * the privacy line, the footer and how to stop them; and, for a text message, the sentence and
 * the link. Each sentence is whole in the catalogue, so a translation never agrees with words it
 * cannot see. */
static int portal_message(enum lang l, struct notify_text *t, const char *subject,
                          const char *sentence, const char *privacy, const char *stop)
{
    if (put(t->subject, sizeof(t->subject), "%s", subject) < 0 ||
        put(t->sms, sizeof(t->sms), "%s %s", sentence, t->link) < 0)
        return -1;
    return put(t->body, sizeof(t->body), "%s\n\n%s\n\n%s\n\n%s\n\n-- \n%s\n%s\n",
               i18n_text(l, "Hello,"), sentence, t->link, privacy, i18n_text(l, FOOTER_AUTOMATIC),
               stop);
}

/* The office's answer to a call-back request says only that there is one: when, and what it
 * said, are in the portal. */
static int patient_text(const struct notify_message *m, const char *base, struct notify_text *t)
{
    enum lang l = m->lang;
    if (put(t->link, sizeof(t->link), "%s/", base) < 0)
        return -1;
    const char *privacy = i18n_text(
        l, "For your privacy this message says nothing more; everything is in the portal.");
    const char *stop = i18n_text(
        l,
        "If your email program offers to unsubscribe from this sender, that stops these emails.");
    if (m->kind == NOTIFY_CALLBACK_ANSWERED)
        return portal_message(
            l, t, i18n_text(l, "Your doctor's office answered your request"),
            i18n_text(l, "Your doctor's office answered your request to talk over your results. "
                         "Sign in to your patient portal to see the answer:"),
            privacy, stop);
    if (m->kind == NOTIFY_RESULT_UPDATED)
        return portal_message(
            l, t, i18n_text(l, "An updated result is ready in your patient portal"),
            i18n_text(l,
                      "An updated result is ready for you in your patient portal. Sign in to see "
                      "it:"),
            privacy, stop);
    return portal_message(
        l, t, i18n_text(l, "A new result is ready in your patient portal"),
        i18n_text(l, "A new result is ready for you in your patient portal. Sign in to see it:"),
        privacy, stop);
}

/* A proxy is told that a result of someone they follow is ready, and where they sign in; not
 * whose (the email may be read by others), and nothing a hidden report would have changed. */
static int proxy_text(const struct notify_message *m, const char *base, struct notify_text *t)
{
    enum lang l = m->lang;
    if (put(t->link, sizeof(t->link), "%s/proxy.html", base) < 0)
        return -1;
    const char *privacy = i18n_text(
        l, "For their privacy this message says nothing more; everything is in the portal.");
    const char *stop = i18n_text(l, "To stop these messages, ask the clinic.");
    if (m->kind == NOTIFY_RESULT_UPDATED)
        return portal_message(
            l, t, i18n_text(l, "An updated result is ready for someone you follow"),
            i18n_text(l, "An updated result is ready in the patient portal for someone whose "
                         "results you follow. Sign in with your own access code to see it:"),
            privacy, stop);
    return portal_message(
        l, t, i18n_text(l, "A new result is ready for someone you follow"),
        i18n_text(l, "A new result is ready in the patient portal for someone whose results you "
                     "follow. Sign in with your own access code to see it:"),
        privacy, stop);
}

static int physician_text(const struct notify_message *m, const char *base, struct notify_text *t)
{
    enum lang l = m->lang;
    if (put(t->link, sizeof(t->link), "%s/physician.html", base) < 0)
        return -1;
    const char *subject, *sentence;
    char counted[200];
    switch (m->kind) {
    case NOTIFY_REPORTS_WAITING:
        if (m->reports_waiting <= 0)
            return -1;
        if (m->reports_waiting == 1)
            snprintf(counted, sizeof(counted), "%s",
                     i18n_text(l, "1 report waits for your review."));
        else
            snprintf(counted, sizeof(counted), i18n_text(l, "%d reports wait for your review."),
                     m->reports_waiting);
        subject = m->reports_waiting == 1 ? i18n_text(l, "1 report waits for your review")
                                          : i18n_text(l, "Reports wait for your review");
        sentence = counted;
        break;
    case NOTIFY_CALLBACK_REQUESTED:
        subject = i18n_text(l, "A patient asked to talk over a result");
        sentence = i18n_text(l, "A patient asked to talk over a released result with you. The "
                                "request is in your list of discussion requests.");
        break;
    case NOTIFY_HOLD_ENDING:
        subject = i18n_text(l, "A hold you placed ends within 24 hours");
        sentence = i18n_text(l, "A hold you placed on a report ends within 24 hours. When it "
                                "ends, the site's release policy applies: the report is released "
                                "to the patient if the policy says so by then, and otherwise "
                                "waits for your review.");
        break;
    default:
        return -1;
    }
    if (put(t->subject, sizeof(t->subject), "%s", subject) < 0 ||
        put(t->sms, sizeof(t->sms), "%s %s", sentence, t->link) < 0)
        return -1;
    return put(t->body, sizeof(t->body), "%s\n\n%s\n\n%s\n\n-- \n%s\n%s\n", sentence,
               i18n_text(l, "Open the results portal:"), t->link, i18n_text(l, FOOTER_AUTOMATIC),
               i18n_text(l, "If your email program offers to unsubscribe from this sender, that "
                            "stops these messages."));
}

static int staff_text(const struct notify_message *m, const char *base, struct notify_text *t)
{
    enum lang l = m->lang;
    if (m->kind != NOTIFY_STUDY_OVERDUE || !plain(m->accession) || !plain(m->stage))
        return -1;
    if (put(t->link, sizeof(t->link), "%s/", base) < 0 ||
        put(t->subject, sizeof(t->subject), i18n_text(l, "Study %s is overdue at stage %s"),
            m->accession, m->stage) < 0 ||
        put(t->sms, sizeof(t->sms), i18n_text(l, "Study %s is overdue at stage %s."), m->accession,
            m->stage) < 0)
        return -1;
    char sentence[400];
    if (put(sentence, sizeof(sentence),
            i18n_text(l, "Study %s has been at stage %s longer than the p90 estimate for similar "
                         "studies (nine in ten took less). It is announced once per study and "
                         "stage."),
            m->accession, m->stage) < 0)
        return -1;
    return put(t->body, sizeof(t->body), "%s\n\n-- \n%s\n", sentence,
               i18n_text(l, FOOTER_AUTOMATIC));
}

int notify_text_render(const struct notify_message *m, const char *public_url,
                       struct notify_text *out)
{
    memset(out, 0, sizeof(*out));
    char base[NOTIFY_LINK_MAX - 32];
    size_t n = public_url ? strlen(public_url) : 0;
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(base))
        return -1;
    memcpy(base, public_url, n);
    base[n] = '\0';
    switch (m->audience) {
    case NOTIFY_PATIENT:
        if (m->kind != NOTIFY_RESULT_READY && m->kind != NOTIFY_RESULT_UPDATED &&
            m->kind != NOTIFY_CALLBACK_ANSWERED)
            return -1;
        return patient_text(m, base, out);
    case NOTIFY_PHYSICIAN:
        return physician_text(m, base, out);
    case NOTIFY_STAFF:
        return staff_text(m, base, out);
    case NOTIFY_PROXY:
        if (m->kind != NOTIFY_RESULT_READY && m->kind != NOTIFY_RESULT_UPDATED)
            return -1;
        return proxy_text(m, base, out);
    }
    return -1;
}
