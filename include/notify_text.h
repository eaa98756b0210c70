/* What a notification says: one claimed outbox row (struct notify_message) rendered into a subject,
 * a text and a link from fixed templates. A patient's message names only the portal and its
 * sign-in link; a physician's counts reports or names a request, never a patient; the staff's
 * names an accession and a stage. No health information, token or access code in any of them. */
#ifndef PORTAL_NOTIFY_TEXT_H
#define PORTAL_NOTIFY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "i18n.h"

enum notify_kind {
    NOTIFY_RESULT_READY,
    NOTIFY_RESULT_UPDATED,
    NOTIFY_REPORTS_WAITING,
    NOTIFY_CALLBACK_REQUESTED,
    NOTIFY_HOLD_ENDING,
    NOTIFY_STUDY_OVERDUE,
    NOTIFY_CALLBACK_ANSWERED,
};

enum notify_audience { NOTIFY_PATIENT, NOTIFY_PHYSICIAN, NOTIFY_STAFF, NOTIFY_PROXY };

/* One message as portal.notify_claim gives it; the strings are the claim result's. */
struct notify_message {
    const char *id;         /* the outbox row */
    const char *message_id; /* UUID: the Message-ID's and webhook-id's stable key */
    enum notify_kind kind;
    enum notify_audience audience;
    const char *address;        /* email, phone or physician id; NULL for the staff */
    int reports_waiting;        /* a digest's count */
    const char *accession;      /* staff only */
    const char *stage;          /* staff only */
    const char *unsubscribe_id; /* patients and physicians: the one-click unsubscribe key */
    int attempt;
    enum lang lang; /* the language of every text (the site's: PORTAL_DEFAULT_LANGUAGE) */
};

#define NOTIFY_SUBJECT_MAX 200
#define NOTIFY_BODY_MAX    2048
#define NOTIFY_LINK_MAX    600

struct notify_text {
    char subject[NOTIFY_SUBJECT_MAX];
    char body[NOTIFY_BODY_MAX]; /* for email; ends with a newline */
    char sms[400];              /* the short form for text messages */
    char link[NOTIFY_LINK_MAX];
};

/* The kind and audience named by the outbox's words; -1 when unknown. */
int notify_kind_parse(const char *s);
int notify_audience_parse(const char *s);
const char *notify_kind_name(enum notify_kind k);

/* Renders m with public_url (PORTAL_PUBLIC_URL) as the link's base. Returns 0, or -1 when the
 * kind does not fit the audience or the text does not fit (nothing to send). */
int notify_text_render(const struct notify_message *m, const char *public_url,
                       struct notify_text *out);

#endif
