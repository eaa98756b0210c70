/* HL7 v2 to the core's structs. Which field is read for what is documented field by field in
 * docs/hl7.md; the comments here say why where HL7 leaves a choice. Every string the calls point
 * to is copied into one arena sized from the message, so a value is never cut short and nothing
 * is freed one by one. */
#include "hl7_map.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timefmt.h"

/* Unescaped text is at most as long as the raw field, doubled by ISO 8859-1 to UTF-8; OBX lines
 * gain a line end each; the event ids and dates are short. */
#define ARENA_SLACK 16384

static const char *const versions[] = {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", NULL};

struct ctx {
    const struct hl7_message *m;
    struct hl7_mapped *out;
    struct hl7_ack_error *err;
    bool failed; /* err and ack are set */
    enum hl7_ack_code ack;
};

static bool one_of(const char *v, const char *const *list)
{
    for (int i = 0; v && list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

static int map_fail(struct ctx *c, enum hl7_ack_code code, const char *segment, int sequence,
                    int number, const char *table_code, const char *text)
{
    if (!c->failed) {
        *c->err = (struct hl7_ack_error){segment, sequence, number, table_code, text};
        c->failed = true;
        c->ack = code;
    }
    return -1;
}

static char *arena_put(struct hl7_mapped *o, const char *s, size_t n)
{
    if (o->arena_used + n + 1 > o->arena_cap)
        return NULL;
    char *at = o->arena + o->arena_used;
    memcpy(at, s, n);
    at[n] = '\0';
    o->arena_used += n + 1;
    return at;
}

/* The sequence number (from 1) of segment index seg among the segments of its name. */
static int sequence_of(const struct hl7_message *m, int seg)
{
    int n = 0;
    for (int i = 0; i <= seg; i++)
        if (strcmp(m->segments[i].name, m->segments[seg].name) == 0)
            n++;
    return n;
}

static void note_source(struct ctx *c, const char *field, int seg, int number)
{
    struct hl7_mapped *o = c->out;
    if (seg < 0 || seg >= c->m->nsegments)
        return;
    for (int i = 0; i < o->nsources; i++)
        if (strcmp(o->sources[i].field, field) == 0)
            return; /* the first message part that gave it is where an error points */
    if (o->nsources < HL7_MAP_MAX_SOURCES)
        o->sources[o->nsources++] =
            (struct hl7_source){field, c->m->segments[seg].name, sequence_of(c->m, seg), number};
}

/* A value (unescaped, UTF-8) in the arena, or NULL when empty or absent. A value that is not text
 * in the message's character set fails the message, naming the field. */
static const char *get(struct ctx *c, int seg, int field, int rep, int comp, int sub)
{
    if (seg < 0 || c->failed)
        return NULL;
    struct hl7_mapped *o = c->out;
    size_t room = o->arena_cap - o->arena_used;
    int n = hl7_get(c->m, seg, field, rep, comp, sub, o->arena + o->arena_used, room);
    if (n < 0) {
        map_fail(c, HL7_AE, c->m->segments[seg].name, sequence_of(c->m, seg), field, "102",
                 "not valid text in the message's character set");
        return NULL;
    }
    if (n == 0)
        return NULL;
    char *at = o->arena + o->arena_used;
    o->arena_used += (size_t)n + 1;
    return at;
}

/* A value, and where it came from for error messages. */
static const char *take(struct ctx *c, const char *field, int seg, int number, int rep, int comp,
                        int sub)
{
    const char *v = get(c, seg, number, rep, comp, sub);
    if (v)
        note_source(c, field, seg, number);
    return v;
}

/* Where a value may stand: a segment (index, -1 absent), field and component. */
struct place {
    int seg, number, comp;
};

/* The first value present among places, in order (HL7 gives a value several homes); NULL when
 * none is. */
static const char *take_first(struct ctx *c, const char *field, const struct place *places, int n)
{
    const char *v = NULL;
    for (int i = 0; i < n && !v; i++)
        v = take(c, field, places[i].seg, places[i].number, 0, places[i].comp, 1);
    return v;
}

static const char *join(struct ctx *c, const char *a, const char *sep, const char *b)
{
    if (!a || !b)
        return a ? a : b;
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    struct hl7_mapped *o = c->out;
    if (o->arena_used + la + ls + lb + 1 > o->arena_cap) {
        map_fail(c, HL7_AR, NULL, 0, 0, "207", "the message is too large to read");
        return NULL;
    }
    char *at = o->arena + o->arena_used;
    memcpy(at, a, la);
    memcpy(at + la, sep, ls);
    memcpy(at + la + ls, b, lb + 1);
    o->arena_used += la + ls + lb + 1;
    return at;
}

/* ---- dates and times ---------------------------------------------------------------------- */

/* A time field as RFC 3339 in the arena; NULL when absent; a value that is not an HL7 time fails
 * the message naming its field. */
static const char *take_time(struct ctx *c, const char *field, int seg, int number, int rep,
                             int comp)
{
    const char *v = take(c, field, seg, number, rep, comp, 1);
    if (!v)
        return NULL;
    char buf[32];
    if (timefmt_hl7_to_rfc3339(v, buf, sizeof(buf)) < 0) {
        map_fail(c, HL7_AE, c->m->segments[seg].name, sequence_of(c->m, seg), number, "102",
                 "not an HL7 date/time (YYYYMMDD[HHMM[SS]][+/-ZZZZ])");
        return NULL;
    }
    return arena_put(c->out, buf, strlen(buf));
}

/* take_first for a time. */
static const char *take_first_time(struct ctx *c, const char *field, const struct place *places,
                                   int n)
{
    const char *v = NULL;
    for (int i = 0; i < n && !v; i++)
        v = take_time(c, field, places[i].seg, places[i].number, 0, places[i].comp);
    return v;
}

static const char *take_date(struct ctx *c, const char *field, int seg, int number)
{
    const char *v = take(c, field, seg, number, 0, 1, 1);
    if (!v)
        return NULL;
    char buf[TIMEFMT_DATE_LEN];
    if (!timefmt_hl7_to_date(v, buf)) {
        map_fail(c, HL7_AE, c->m->segments[seg].name, sequence_of(c->m, seg), number, "102",
                 "not an HL7 date (YYYYMMDD)");
        return NULL;
    }
    return arena_put(c->out, buf, strlen(buf));
}

/* ---- people ------------------------------------------------------------------------------- */

struct person {
    const char *mrn, *authority, *name, *birth_date, *email, *phone;
};

/* The repetition of a CX list to use: the one typed MR (medical record number), else the first. */
static int mrn_repetition(struct ctx *c, int seg, int number)
{
    int reps = hl7_repetitions(c->m, seg, number);
    for (int r = 0; r < reps; r++) {
        const char *type = get(c, seg, number, r, 5, 1);
        if (type && strcmp(type, "MR") == 0)
            return r;
    }
    return 0;
}

/* An identifier (CX) and its assigning authority: CX.4's namespace id, else its universal id,
 * else the sending facility (a feed that never names authorities means its own identifiers). */
static void take_identifier(struct ctx *c, const char *mrn_field, const char *authority_field,
                            int seg, int number, const char **mrn, const char **authority)
{
    int rep = mrn_repetition(c, seg, number);
    *mrn = take(c, mrn_field, seg, number, rep, 1, 1);
    *authority = take(c, authority_field, seg, number, rep, 4, 1);
    if (!*authority)
        *authority = take(c, authority_field, seg, number, rep, 4, 2);
    if (!*authority) {
        note_source(c, authority_field, seg, number);
        *authority = c->out->facility;
    }
}

/* A person's name from an XPN or the name part of an XCN (first at comp): "Given Middle Family". */
static const char *name_at(struct ctx *c, const char *field, int seg, int number, int rep, int comp)
{
    const char *family = get(c, seg, number, rep, comp, 1);
    const char *given = get(c, seg, number, rep, comp + 1, 1);
    const char *middle = get(c, seg, number, rep, comp + 2, 1);
    const char *name = join(c, join(c, given, " ", middle), " ", family);
    if (name)
        note_source(c, field, seg, number);
    return name;
}

/* A telephone number (XTN): the old free-text XTN.1, else country, area and local number. */
static const char *phone_at(struct ctx *c, int seg, int number, int rep)
{
    const char *text = get(c, seg, number, rep, 1, 1);
    if (text)
        return text;
    const char *country = get(c, seg, number, rep, 5, 1);
    const char *area = get(c, seg, number, rep, 6, 1);
    const char *local = get(c, seg, number, rep, 7, 1);
    if (!local)
        return NULL;
    return join(c, join(c, country ? join(c, "+", "", country) : NULL, " ", area), " ", local);
}

/* PID-13: the first email (XTN.3 Internet or XTN.2 NET, address in XTN.4) and the first phone. */
static void take_contact(struct ctx *c, int seg, struct person *p)
{
    int reps = hl7_repetitions(c->m, seg, 13);
    for (int r = 0; r < reps && !c->failed; r++) {
        const char *use = get(c, seg, 13, r, 2, 1);
        const char *equipment = get(c, seg, 13, r, 3, 1);
        bool internet = (equipment && strcasecmp(equipment, "Internet") == 0) ||
                        (use && strcmp(use, "NET") == 0);
        if (internet && !p->email) {
            p->email = get(c, seg, 13, r, 4, 1);
            if (p->email)
                note_source(c, "patient.email", seg, 13);
        } else if (!internet && !p->phone) {
            p->phone = phone_at(c, seg, 13, r);
            if (p->phone)
                note_source(c, "patient.phone", seg, 13);
        }
    }
}

static void take_person(struct ctx *c, int pid, struct person *p)
{
    take_identifier(c, "patient.mrn", "patient.assigning_authority", pid, 3, &p->mrn,
                    &p->authority);
    p->name = name_at(c, "patient.name", pid, 5, 0, 1);
    p->birth_date = take_date(c, "patient.birth_date", pid, 7);
    take_contact(c, pid, p);
    note_source(c, "patient.mrn", pid, 3);
    note_source(c, "patient.name", pid, 5);
    note_source(c, "patient.birth_date", pid, 7);
    note_source(c, "patient.email", pid, 13);
    note_source(c, "patient.phone", pid, 13);
}

/* A physician (XCN): id, "Given Family" (with a prefix such as Dr. left out: the pages say who
 * they are), and the id's assigning authority (XCN.9). */
static bool take_physician(struct ctx *c, struct ingest_event *e, int seg, int number)
{
    const char *id = get(c, seg, number, 0, 1, 1);
    if (!id)
        return false;
    e->physician.id = id;
    note_source(c, "referring_physician.id", seg, number);
    e->physician.name = name_at(c, "referring_physician.name", seg, number, 0, 2);
    e->physician.assigning_authority =
        take(c, "referring_physician.assigning_authority", seg, number, 0, 9, 1);
    return true;
}

/* ---- orders and studies ------------------------------------------------------------------- */

/* Modality names a feed may use: DICOM modality codes and HL7 table 0074 diagnostic service
 * sections, to the portal's modalities. */
static const struct {
    const char *code, *modality;
} modality_codes[] = {{"CT", "CT"},  {"MR", "MR"},  {"MRI", "MR"}, {"NMR", "MR"}, {"US", "US"},
                      {"RUS", "US"}, {"VUS", "US"}, {"OUS", "US"}, {"XR", "XR"},  {"CR", "XR"},
                      {"DX", "XR"},  {"RF", "XR"},  {"XRC", "XR"}, {"MG", "MG"},  {"MAM", "MG"},
                      {"NM", "NM"},  {"NMS", "NM"}, {"PT", "PET"}, {"PET", "PET"}};

static const char *modality_of(const char *code)
{
    for (size_t i = 0; code && i < sizeof(modality_codes) / sizeof(modality_codes[0]); i++)
        if (strcasecmp(code, modality_codes[i].code) == 0)
            return modality_codes[i].modality;
    return code; /* refused by the core's check, naming the field it came from */
}

/* HL7 table 0027 priorities to the portal's three. */
static const char *priority_of(const char *code)
{
    if (!code)
        return NULL;
    if (strcmp(code, "S") == 0 || strcasecmp(code, "STAT") == 0)
        return "stat";
    if (strcmp(code, "R") == 0 || strcasecmp(code, "ROUTINE") == 0)
        return "routine";
    return "urgent"; /* A (ASAP), P (pre-op), C (callback), T (timing critical) */
}

/* The study an OBR (or OMI's IPC) describes, with the patient from PID and the referring
 * physician from OBR-16, else ORC-12. */
static void take_study(struct ctx *c, struct ingest_event *e, int obr, int orc, int pv1)
{
    const struct hl7_message *m = c->m;
    int ipc = hl7_find(m, "IPC", 0), tq1 = hl7_find(m, "TQ1", 0);
    /* OBR-18 (placer field 1) is where radiology feeds put the accession; OMI names it in IPC-1;
     * else the filler order number, which many RIS use as the accession. */
    e->study.accession = take_first(
        c, "study.accession", (const struct place[]){{obr, 18, 1}, {ipc, 1, 1}, {obr, 3, 1}}, 3);
    if (!e->study.accession)
        note_source(c, "study.accession", obr >= 0 ? obr : 0, 18);
    const char *modality =
        take_first(c, "study.modality", (const struct place[]){{obr, 24, 1}, {ipc, 5, 1}}, 2);
    e->study.modality = modality_of(modality);
    e->study.description =
        take_first(c, "study.description", (const struct place[]){{obr, 4, 2}, {obr, 4, 1}}, 2);
    /* Where an absent value belongs, for the error that says so (a value found above was noted
     * first and wins). */
    if (obr >= 0) {
        note_source(c, "study.modality", obr, 24);
        note_source(c, "study.description", obr, 4);
        note_source(c, "scheduled_for", obr, 36);
        note_source(c, "referring_physician.name", obr, 16);
    }
    const char *priority =
        take_first(c, "study.priority", (const struct place[]){{obr, 27, 6}, {tq1, 9, 1}}, 2);
    e->study.priority = priority_of(priority);
    e->scheduled_for = take_first_time(
        c, "scheduled_for", (const struct place[]){{obr, 36, 1}, {tq1, 7, 1}, {obr, 27, 4}}, 3);
    if (!take_physician(c, e, obr, 16) && !take_physician(c, e, orc, 12))
        note_source(c, "referring_physician.id", obr >= 0 ? obr : 0, 16);
    const char *phone = obr >= 0 ? phone_at(c, obr, 17, 0) : NULL;
    if (phone) {
        e->physician.phone = phone;
        note_source(c, "referring_physician.phone", obr, 17);
    }
    /* The facility the patient was seen at (PV1-3.4) is the study's site, whose release policy
     * applies; without it the site stays as ordered, or the default for a new study. */
    e->study.site = take(c, "study.site", pv1, 3, 0, 4, 1);
}

static void take_patient_into_event(struct ctx *c, struct ingest_event *e, int pid)
{
    struct person p = {0};
    take_person(c, pid, &p);
    e->patient.mrn = p.mrn;
    e->patient.assigning_authority = p.authority;
    e->patient.name = p.name;
    e->patient.birth_date = p.birth_date;
    e->patient.email = p.email;
    e->patient.phone = p.phone;
}

/* Order controls (ORC-1), order statuses (ORC-5) and result statuses (OBR-25) to lifecycle
 * events; SC in ORC-1 means "see the status". */
struct code_event {
    const char *code, *event;
};
static const struct code_event order_controls[] = {
    {"NW", "ordered"},   {"XO", "ordered"},   {"CA", "cancelled"},
    {"OC", "cancelled"}, {"DC", "cancelled"}, {"OD", "cancelled"},
    {"CR", "cancelled"}, {"SC", NULL},        {NULL, NULL}};
static const struct code_event order_statuses[] = {{"SC", "scheduled"},      {"IP", "exam_started"},
                                                   {"CM", "exam_completed"}, {"CA", "cancelled"},
                                                   {"DC", "cancelled"},      {NULL, NULL}};
static const struct code_event result_statuses[] = {
    {"S", "scheduled"}, {"I", "exam_started"}, {"O", "ordered"}, {"X", "cancelled"}, {NULL, NULL}};

/* The entry for code, or NULL. */
static const struct code_event *lookup(const struct code_event *table, const char *code)
{
    for (int i = 0; code && table[i].code; i++)
        if (strcmp(table[i].code, code) == 0)
            return &table[i];
    return NULL;
}

/* The event an order control, with its order status or result status, stands for. */
static const char *order_event(struct ctx *c, int orc, int obr)
{
    const char *control = take(c, "type", orc, 1, 0, 1, 1);
    const struct code_event *hit = lookup(order_controls, control);
    if (!control) {
        map_fail(c, HL7_AE, "ORC", sequence_of(c->m, orc), 1, "101",
                 "the order control is required");
        return NULL;
    }
    if (!hit) {
        map_fail(c, HL7_AE, "ORC", sequence_of(c->m, orc), 1, "103",
                 "order control not handled (NW, XO, SC, CA, OC, DC, OD, CR)");
        return NULL;
    }
    if (hit->event)
        return hit->event;
    const char *status = take(c, "type", orc, 5, 0, 1, 1);
    if (status) {
        if ((hit = lookup(order_statuses, status)))
            return hit->event;
        map_fail(c, HL7_AE, "ORC", sequence_of(c->m, orc), 5, "103",
                 "order status not handled (SC, IP, CM, CA, DC)");
        return NULL;
    }
    if ((hit = lookup(result_statuses, take(c, "type", obr, 25, 0, 1, 1))))
        return hit->event;
    map_fail(c, HL7_AE, "ORC", sequence_of(c->m, orc), 5, "101",
             "a status change (ORC-1 SC) needs ORC-5 or OBR-25 (S, I, O, X)");
    return NULL;
}

/* ---- event ids ---------------------------------------------------------------------------- */

/* The core's event id for part of this message: the facility's length keeps "a:b" + "c" apart
 * from "a" + "b:c". */
static const char *event_id(struct ctx *c, const char *part)
{
    char buf[INGEST_EVENT_ID_MAX + 1];
    int n = snprintf(buf, sizeof(buf), "hl7:%zu:%s:%s:%s", strlen(c->out->facility),
                     c->out->facility, c->out->control_id, part);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return NULL;
    return arena_put(c->out, buf, (size_t)n);
}

static struct hl7_call *add_call(struct ctx *c, enum hl7_call_kind kind)
{
    if (c->out->ncalls >= HL7_MAP_MAX_CALLS) {
        map_fail(c, HL7_AR, NULL, 0, 0, "207", "too many orders, reports or merges in one message");
        return NULL;
    }
    struct hl7_call *call = &c->out->calls[c->out->ncalls++];
    memset(call, 0, sizeof(*call));
    call->kind = kind;
    return call;
}

static void message_of(struct ctx *c, const char **msg, size_t *len)
{
    *msg = c->m->text;
    *len = c->m->len;
}

static const char *occurred(struct ctx *c, int seg, int number)
{
    return take_first_time(
        c, "occurred_at",
        (const struct place[]){{seg, number, 1}, {hl7_find(c->m, "EVN", 0), 2, 1}, {0, 7, 1}}, 3);
}

/* ---- message types ------------------------------------------------------------------------ */

static int require(struct ctx *c, int seg, const char *name)
{
    if (seg < 0)
        return map_fail(c, HL7_AE, name, 1, 0, "100", "a required segment is missing");
    return 0;
}

static int map_order(struct ctx *c)
{
    const struct hl7_message *m = c->m;
    int pid = hl7_find(m, "PID", 0), orc = hl7_find(m, "ORC", 0), obr = hl7_find(m, "OBR", 0);
    if (require(c, pid, "PID") || require(c, orc, "ORC") || require(c, obr, "OBR"))
        return -1;
    struct hl7_call *call = add_call(c, HL7_CALL_EVENT);
    if (!call)
        return -1;
    struct ingest_event *e = &call->u.event;
    e->partial = true;
    e->type = order_event(c, orc, obr);
    e->event_id = event_id(c, "o");
    e->occurred_at = occurred(c, orc, 9);
    note_source(c, "occurred_at", orc, 9);
    take_patient_into_event(c, e, pid);
    take_study(c, e, obr, orc, hl7_find(m, "PV1", 0));
    message_of(c, &e->message, &e->message_len);
    return c->failed ? -1 : 0;
}

static int map_appointment(struct ctx *c)
{
    const struct hl7_message *m = c->m;
    int sch = hl7_find(m, "SCH", 0), pid = hl7_find(m, "PID", 0);
    if (require(c, sch, "SCH") || require(c, pid, "PID"))
        return -1;
    struct hl7_call *call = add_call(c, HL7_CALL_EVENT);
    if (!call)
        return -1;
    struct ingest_event *e = &call->u.event;
    e->partial = true;
    bool cancel = strcmp(c->out->event, "S15") == 0 || strcmp(c->out->event, "S17") == 0;
    e->type = cancel ? "cancelled" : "scheduled";
    note_source(c, "type", 0, 9);
    e->event_id = event_id(c, "o");
    e->occurred_at = occurred(c, -1, 0);
    take_patient_into_event(c, e, pid);
    /* The order the appointment is for: SCH-27 (filler order number), else SCH-26 (placer order
     * number), else SCH-1 (placer appointment id) for feeds that number appointments by order. */
    e->study.accession = take_first(
        c, "study.accession", (const struct place[]){{sch, 27, 1}, {sch, 26, 1}, {sch, 1, 1}}, 3);
    if (!e->study.accession)
        note_source(c, "study.accession", sch, 27);
    if (!cancel) {
        e->scheduled_for = take_first_time(c, "scheduled_for",
                                           (const struct place[]){{sch, 11, 4},
                                                                  {hl7_find(m, "AIS", 0), 4, 1},
                                                                  {hl7_find(m, "TQ1", 0), 7, 1}},
                                           3);
        if (!e->scheduled_for)
            note_source(c, "scheduled_for", sch, 11);
    }
    int ais = hl7_find(m, "AIS", 0);
    e->study.description = take(c, "study.description", ais, 3, 0, 2, 1);
    /* An appointment says no modality: one for an accession not yet ordered is refused, and the
     * error points at the accession it named. */
    note_source(c, "study.modality", sch, 27);
    note_source(c, "study.description", sch, 27);
    int pv1 = hl7_find(m, "PV1", 0);
    if (!take_physician(c, e, pv1, 8))
        note_source(c, "referring_physician.id", pv1 >= 0 ? pv1 : sch, pv1 >= 0 ? 8 : 0);
    e->study.site = take(c, "study.site", pv1, 3, 0, 4, 1);
    message_of(c, &e->message, &e->message_len);
    return c->failed ? -1 : 0;
}

static int section_of(const struct hl7_obx_map *map, const char *identifier)
{
    if (identifier && identifier[0] == '&')
        identifier++;
    for (int i = 0; identifier && i < map->count; i++)
        if (strcasecmp(map->entries[i].identifier, identifier) == 0)
            return (int)map->entries[i].section;
    return -1;
}

/* A report section's lines, gathered before they go into the arena in one piece. */
struct lines {
    char *buf;
    size_t len, cap;
    int count;
};

static bool lines_add(struct lines *t, const char *line)
{
    size_t n = strlen(line), need = t->len + n + 2;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < need)
            cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (!grown)
            return false;
        t->buf = grown;
        t->cap = cap;
    }
    if (t->count++)
        t->buf[t->len++] = '\n';
    memcpy(t->buf + t->len, line, n);
    t->len += n;
    return true;
}

/* The section's text in the arena (NULL when it has no line), and the buffer freed. */
static const char *lines_take(struct ctx *c, struct lines *t)
{
    const char *text = NULL;
    if (t->count && !c->failed) {
        text = arena_put(c->out, t->buf, t->len);
        if (!text)
            map_fail(c, HL7_AR, NULL, 0, 0, "207", "the message is too large to read");
    }
    free(t->buf);
    *t = (struct lines){0};
    return text;
}

/* The report an OBR group (the OBR at obr and the OBX lines up to the next OBR) carries. */
static int map_report_group(struct ctx *c, const struct hl7_obx_map *obx, int pid, int obr,
                            int next_obr, int group)
{
    const struct hl7_message *m = c->m;
    char part[16];
    snprintf(part, sizeof(part), "c%d", group);
    /* The order, made from PID and OBR when this accession is new to us (real feeds send reports
     * for orders that reached us another way, or not at all). */
    struct hl7_call *create = add_call(c, HL7_CALL_EVENT);
    if (!create)
        return -1;
    create->only_for_new_accession = true;
    struct ingest_event *e = &create->u.event;
    e->partial = true;
    e->type = "ordered";
    e->event_id = event_id(c, part);
    e->occurred_at = take_first_time(
        c, "occurred_at", (const struct place[]){{obr, 6, 1}, {obr, 7, 1}, {0, 7, 1}}, 3);
    take_patient_into_event(c, e, pid);
    take_study(c, e, obr, hl7_find(m, "ORC", 0), hl7_find(m, "PV1", 0));
    message_of(c, &e->message, &e->message_len);

    struct hl7_call *call = add_call(c, HL7_CALL_REPORT);
    if (!call)
        return -1;
    struct ingest_report *r = &call->u.report;
    snprintf(part, sizeof(part), "r%d", group);
    r->event_id = event_id(c, part);
    r->accession = e->study.accession;
    const char *status = take(c, "status", obr, 25, 0, 1, 1);
    note_source(c, "accession", obr, 18);
    if (!status)
        return map_fail(c, HL7_AE, "OBR", sequence_of(m, obr), 25, "101",
                        "the result status is required (P, F or C)");
    if (strcmp(status, "P") == 0)
        r->status = "preliminary";
    else if (strcmp(status, "F") == 0)
        r->status = "final";
    else if (strcmp(status, "C") == 0)
        r->status = "amended";
    else
        return map_fail(c, HL7_AE, "OBR", sequence_of(m, obr), 25, "103",
                        "result status not handled (P, F, C)");

    /* The interpreting radiologist: OBR-32 (NDL, its name in subcomponents), else the first
     * OBX-16 (XCN). */
    const char *family = get(c, obr, 32, 0, 1, 2), *given = get(c, obr, 32, 0, 1, 3);
    r->radiologist = join(c, given, " ", family);
    if (!r->radiologist)
        r->radiologist = get(c, obr, 32, 0, 1, 1);
    if (r->radiologist)
        note_source(c, "radiologist.name", obr, 32);
    r->signed_at = take_time(c, "signed_at", obr, 22, 0, 1);

    /* Each section's lines are gathered in a buffer of its own and put in the arena once: joining
     * them there line by line would copy the text so far again for every line. */
    struct lines sections[2] = {{0}, {0}};
    int first_obx = -1;
    for (int s = obr + 1; s < next_obr && !c->failed; s++) {
        if (strcmp(m->segments[s].name, "OBX") != 0)
            continue;
        const char *type = get(c, s, 2, 0, 1, 1);
        if (!type ||
            !(strcmp(type, "TX") == 0 || strcmp(type, "FT") == 0 || strcmp(type, "ST") == 0))
            continue; /* coded values, images and references are not report text */
        if (first_obx < 0)
            first_obx = s;
        if (!r->radiologist)
            r->radiologist = name_at(c, "radiologist.name", s, 16, 0, 2);
        if (!r->signed_at)
            r->signed_at = take_time(c, "signed_at", s, 14, 0, 1);
        /* Lines whose identifier the map does not name are kept as findings rather than lost. */
        /* The convention writes the identifier as "&GDT": the second subcomponent. */
        const char *identifier = get(c, s, 3, 0, 1, 1);
        if (!identifier)
            identifier = get(c, s, 3, 0, 1, 2);
        struct lines *into = &sections[section_of(obx, identifier) == HL7_IMPRESSION];
        int reps = hl7_repetitions(m, s, 5);
        for (int rep = 0; rep < reps && !c->failed; rep++) {
            size_t mark = c->out->arena_used;
            const char *line = get(c, s, 5, rep, 1, 1);
            if (!line && type[0] != 'F')
                continue;
            if (!lines_add(into, line ? line : ""))
                map_fail(c, HL7_AR, NULL, 0, 0, "207", "out of memory");
            c->out->arena_used = mark; /* the line is in the section's buffer now */
        }
        if (sections[0].count)
            note_source(c, "findings", s, 5);
        if (sections[1].count)
            note_source(c, "impression", s, 5);
    }
    const char *findings = lines_take(c, &sections[0]);
    const char *impression = lines_take(c, &sections[1]);
    r->findings = findings;
    r->impression = impression;
    if (!impression)
        note_source(c, "impression", first_obx >= 0 ? first_obx : obr, first_obx >= 0 ? 3 : 0);
    if (!findings)
        note_source(c, "findings", first_obx >= 0 ? first_obx : obr, first_obx >= 0 ? 3 : 0);
    if (!r->signed_at)
        note_source(c, "signed_at", obr, 22);
    if (!r->radiologist)
        note_source(c, "radiologist.name", obr, 32);
    message_of(c, &r->message, &r->message_len);
    return c->failed ? -1 : 0;
}

static int map_result(struct ctx *c, const struct hl7_obx_map *obx)
{
    const struct hl7_message *m = c->m;
    int pid = hl7_find(m, "PID", 0), obr = hl7_find(m, "OBR", 0);
    if (require(c, pid, "PID") || require(c, obr, "OBR"))
        return -1;
    for (int g = 0; obr >= 0; g++) {
        int next = hl7_find(m, "OBR", g + 1);
        int s = map_report_group(c, obx, pid, obr, next >= 0 ? next : m->nsegments, g + 1);
        if (s)
            return s;
        obr = next;
    }
    return 0;
}

static int map_registration(struct ctx *c)
{
    int pid = hl7_find(c->m, "PID", 0);
    if (require(c, pid, "PID"))
        return -1;
    struct hl7_call *call = add_call(c, HL7_CALL_PATIENT);
    if (!call)
        return -1;
    struct ingest_patient *p = &call->u.patient;
    struct person who = {0};
    take_person(c, pid, &who);
    p->event_id = event_id(c, "p");
    p->mrn = who.mrn;
    p->assigning_authority = who.authority;
    p->name = who.name;
    p->birth_date = who.birth_date;
    p->email = who.email;
    p->phone = who.phone;
    message_of(c, &p->message, &p->message_len);
    return c->failed ? -1 : 0;
}

/* ADT^A40: each PID names a surviving patient and the MRG after it the patient merged into it. */
static int map_merge(struct ctx *c)
{
    const struct hl7_message *m = c->m;
    if (require(c, hl7_find(m, "PID", 0), "PID") || require(c, hl7_find(m, "MRG", 0), "MRG"))
        return -1;
    for (int i = 0;; i++) {
        int pid = hl7_find(m, "PID", i);
        if (pid < 0)
            break;
        int mrg = hl7_find(m, "MRG", i);
        if (mrg < pid)
            return map_fail(c, HL7_AE, "MRG", i + 1, 0, "100", "each PID needs the MRG after it");
        struct hl7_call *call = add_call(c, HL7_CALL_MERGE);
        if (!call)
            return -1;
        struct ingest_merge *g = &call->u.merge;
        char part[16];
        snprintf(part, sizeof(part), "m%d", i + 1);
        g->event_id = event_id(c, part);
        take_identifier(c, "patient.mrn", "patient.assigning_authority", pid, 3, &g->mrn,
                        &g->assigning_authority);
        take_identifier(c, "merged.mrn", "merged.assigning_authority", mrg, 1, &g->merged_mrn,
                        &g->merged_authority);
        message_of(c, &g->message, &g->message_len);
    }
    return c->failed ? -1 : 0;
}

/* ---- the header --------------------------------------------------------------------------- */

static int read_header(struct ctx *c)
{
    struct hl7_mapped *o = c->out;
    const char *version = get(c, 0, 12, 0, 1, 1);
    if (!one_of(version, versions))
        return map_fail(c, HL7_AR, "MSH", 1, 12, "203", "version not accepted (2.3 to 2.5.1)");
    const char *processing = get(c, 0, 11, 0, 1, 1);
    if (!processing || strcmp(processing, "P") != 0)
        return map_fail(c, HL7_AR, "MSH", 1, 11, "202",
                        "only production messages are applied (MSH-11 P)");
    const char *control = get(c, 0, 10, 0, 1, 1);
    if (!control)
        return map_fail(c, HL7_AR, "MSH", 1, 10, "101", "the message control id is required");
    if (strlen(control) > HL7_CONTROL_ID_MAX)
        return map_fail(c, HL7_AR, "MSH", 1, 10, "102", "the message control id is too long");
    snprintf(o->control_id, sizeof(o->control_id), "%s", control);
    const char *facility = get(c, 0, 4, 0, 1, 1);
    if (!facility)
        facility = get(c, 0, 4, 0, 2, 1);
    if (!facility)
        return map_fail(c, HL7_AR, "MSH", 1, 4, "101", "the sending facility is required");
    if (strlen(facility) > HL7_FACILITY_MAX)
        return map_fail(c, HL7_AR, "MSH", 1, 4, "102", "the sending facility is too long");
    snprintf(o->facility, sizeof(o->facility), "%s", facility);
    const char *type = get(c, 0, 9, 0, 1, 1), *event = get(c, 0, 9, 0, 2, 1);
    if (!type || !event || strlen(type) >= sizeof(o->type) || strlen(event) >= sizeof(o->event))
        return map_fail(c, HL7_AR, "MSH", 1, 9, "101", "the message type and event are required");
    memcpy(o->type, type, strlen(type) + 1);
    memcpy(o->event, event, strlen(event) + 1);
    return c->failed ? -1 : 0;
}

int hl7_map(const struct hl7_message *m, const struct hl7_obx_map *obx, struct hl7_mapped *out,
            struct hl7_ack_error *err)
{
    memset(out, 0, sizeof(*out));
    out->arena_cap = m->len * 4 + ARENA_SLACK;
    out->arena = malloc(out->arena_cap);
    struct ctx c = {m, out, err, false, HL7_AA};
    if (!out->arena) {
        out->arena_cap = 0;
        map_fail(&c, HL7_AR, NULL, 0, 0, "207", "out of memory");
        return (int)c.ack;
    }
    if (m->nsegments < 1 || strcmp(m->segments[0].name, "MSH") != 0) {
        map_fail(&c, HL7_AR, "MSH", 1, 0, "100", "the message must begin with MSH");
        return (int)c.ack;
    }
    int s = read_header(&c);
    if (s)
        return (int)c.ack;
    const char *t = out->type, *ev = out->event;
    static const char *const registrations[] = {"A01", "A04", "A05", "A08", "A28", "A31", NULL};
    static const char *const appointments[] = {"S12", "S13", "S14", "S15", "S17", NULL};
    if ((strcmp(t, "ORM") == 0 && strcmp(ev, "O01") == 0) ||
        (strcmp(t, "OMI") == 0 && strcmp(ev, "O23") == 0))
        s = map_order(&c);
    else if (strcmp(t, "SIU") == 0 && one_of(ev, appointments))
        s = map_appointment(&c);
    else if (strcmp(t, "ORU") == 0 && strcmp(ev, "R01") == 0)
        s = map_result(&c, obx);
    else if (strcmp(t, "ADT") == 0 && one_of(ev, registrations))
        s = map_registration(&c);
    else if (strcmp(t, "ADT") == 0 && strcmp(ev, "A40") == 0)
        s = map_merge(&c);
    else if (one_of(t, (const char *const[]){"ORM", "OMI", "SIU", "ORU", "ADT", NULL}))
        s = map_fail(&c, HL7_AR, "MSH", 1, 9, "201", "trigger event not accepted");
    else
        s = map_fail(&c, HL7_AR, "MSH", 1, 9, "200", "message type not accepted");
    (void)s;
    return c.failed ? (int)c.ack : (int)HL7_AA;
}

void hl7_mapped_free(struct hl7_mapped *out)
{
    free(out->arena);
    out->arena = NULL;
}

bool hl7_mapped_locate(const struct hl7_mapped *out, const char *field, struct hl7_ack_error *err)
{
    for (int i = 0; i < out->nsources; i++) {
        if (strcmp(out->sources[i].field, field) == 0) {
            err->segment = out->sources[i].segment;
            err->sequence = out->sources[i].sequence;
            err->field = out->sources[i].number;
            return true;
        }
    }
    return false;
}

int hl7_obx_map_parse(const char *text, struct hl7_obx_map *map, char *err, size_t errlen)
{
    memset(map, 0, sizeof(*map));
    const char *p = text;
    while (p && *p) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p || (size_t)(eq - p) >= sizeof(map->entries[0].identifier)) {
            snprintf(err, errlen, "each entry must be IDENTIFIER=findings or =impression");
            return -1;
        }
        if (map->count >= HL7_OBX_MAP_MAX) {
            snprintf(err, errlen, "at most %d entries", HL7_OBX_MAP_MAX);
            return -1;
        }
        size_t vlen = len - (size_t)(eq + 1 - p);
        enum hl7_section section;
        if (vlen == 8 && strncmp(eq + 1, "findings", 8) == 0)
            section = HL7_FINDINGS;
        else if (vlen == 10 && strncmp(eq + 1, "impression", 10) == 0)
            section = HL7_IMPRESSION;
        else {
            snprintf(err, errlen, "a section must be findings or impression");
            return -1;
        }
        const char *id = p[0] == '&' ? p + 1 : p;
        size_t idlen = (size_t)(eq - id);
        if (idlen == 0) {
            snprintf(err, errlen, "an identifier is empty");
            return -1;
        }
        memcpy(map->entries[map->count].identifier, id, idlen);
        map->entries[map->count].identifier[idlen] = '\0';
        map->entries[map->count].section = section;
        map->count++;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}
