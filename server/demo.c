/* `portald seed-demo` and `portald access-code`: data written by an operator, through the same
 * core the HTTP paths use (ingest.h), so the demo shows exactly what ingest would produce. */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access_code.h"
#include "auth.h"
#include "cli_db.h"
#include "db.h"
#include "ingest.h"
#include "origin.h"
#include "patient_access.h"
#include "release.h"
#include "physician_account.h"

#define DEMO_MRN                 "DEMO-MRN-1"
#define DEMO_BIRTH               "1985-12-10"
#define DEMO_PHYSICIAN           "DEMO-NPI-1"
#define DEMO_PHYSICIAN_TOKEN_TTL (12 * 3600)

/* The fingerprint of every demo message: fixed, so seeding again at another time replays the same
 * events and changes nothing. */
#define DEMO_FINGERPRINT "demo-seed"
#define DEMO_CONTEXT     "seed-demo"

/* Says on stderr why a step failed: the SQLSTATE or the field, never a value. */
static int failed(const char *what, const struct outcome *o)
{
    fprintf(stderr, "portald: demo data: %s failed (%s%s)\n", what,
            o->sqlstate[0] ? "SQLSTATE " : "", o->sqlstate[0] ? o->sqlstate : o->detail);
    return -1;
}

/* Hours relative to now, as an RFC 3339 timestamp. */
static const char *at(char buf[32], double hours)
{
    time_t t = time(NULL) + (time_t)(hours * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

struct demo_event {
    const char *event_id;
    const char *accession;
    const char *type;
    double hours; /* relative to now */
    double scheduled_for;
};

struct demo_study {
    const char *accession;
    const char *modality;
    const char *description;
};

static const struct demo_study studies[] = {
    {"DEMO-ACC-CT", "CT", "CT chest with contrast"},
    {"DEMO-ACC-XR", "XR", "XR left wrist, 2 views"},
    {"DEMO-ACC-MR", "MR", "MR right knee without contrast"},
    {"DEMO-ACC-US", "US", "US abdomen complete"},
};

/* Event ids are fixed, so a second seed replays them and changes nothing. */
static const struct demo_event events[] = {
    {"demo-ct-1", "DEMO-ACC-CT", "ordered", -72, 0},
    {"demo-ct-2", "DEMO-ACC-CT", "scheduled", -70, -6.5},
    {"demo-ct-3", "DEMO-ACC-CT", "arrived", -6.7, 0},
    {"demo-ct-4", "DEMO-ACC-CT", "exam_started", -6.5, 0},
    {"demo-ct-5", "DEMO-ACC-CT", "exam_completed", -6.2, 0},
    {"demo-ct-6", "DEMO-ACC-CT", "read_started", -3.5, 0},
    {"demo-xr-1", "DEMO-ACC-XR", "ordered", -240, 0},
    {"demo-xr-2", "DEMO-ACC-XR", "arrived", -200, 0},
    {"demo-xr-3", "DEMO-ACC-XR", "exam_started", -199.8, 0},
    {"demo-xr-4", "DEMO-ACC-XR", "exam_completed", -199.6, 0},
    {"demo-xr-5", "DEMO-ACC-XR", "read_started", -196, 0},
    {"demo-mr-1", "DEMO-ACC-MR", "ordered", -20, 0},
    {"demo-mr-2", "DEMO-ACC-MR", "scheduled", -19, 70},
    {"demo-us-1", "DEMO-ACC-US", "ordered", -30, 0},
    {"demo-us-2", "DEMO-ACC-US", "arrived", -0.9, 0},
    {"demo-us-3", "DEMO-ACC-US", "exam_started", -0.7, 0},
    {"demo-us-4", "DEMO-ACC-US", "exam_completed", -0.4, 0},
};

static const struct demo_study *study_of(const char *accession)
{
    for (size_t i = 0; i < sizeof(studies) / sizeof(studies[0]); i++)
        if (strcmp(studies[i].accession, accession) == 0)
            return &studies[i];
    return NULL;
}

/* Through the same core as the front desk's API; the audit names the operator's command. */
static int reissue_code(const char *mrn, const char *authority, const char *context,
                        struct access_code *code)
{
    struct patient_access_target t = {.mrn = mrn, .authority = authority};
    struct origin cli = {
        .transport = "cli", .request_id = context, .actor_role = "operator", .actor_id = "cli"};
    char patient_id[PATIENT_ID_LEN + 1];
    struct outcome o = {0};
    return patient_access_reissue(&t, &cli, code, patient_id, &o) == 0 ? 0 : -1;
}

static int seed_report(const struct ingest_report *r)
{
    struct origin from = {.transport = "cli",
                          .request_id = DEMO_CONTEXT,
                          .actor_role = "ris",
                          .actor_id = "seed-demo",
                          .hands_out_access_code = true};
    struct ingest_result result;
    struct outcome o = {0};
    if (ingest_report_apply(r, &from, &result, &o))
        return failed(r->event_id, &o);
    json_decref(result.answer);
    return 0;
}

static int seed(void)
{
    char t1[32], t2[32];
    struct origin from = {.transport = "cli",
                          .request_id = DEMO_CONTEXT,
                          .actor_role = "ris",
                          .actor_id = "seed-demo",
                          .hands_out_access_code = true};
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        const struct demo_event *d = &events[i];
        const struct demo_study *s = study_of(d->accession);
        struct ingest_event e = {
            .event_id = d->event_id,
            .type = d->type,
            .occurred_at = at(t1, d->hours),
            .scheduled_for = d->scheduled_for != 0 ? at(t2, d->scheduled_for) : NULL,
            .patient = {.mrn = DEMO_MRN,
                        .name = "Ada Lovelace",
                        .birth_date = DEMO_BIRTH,
                        .email = "ada@example.org"},
            .study = {s->accession, s->modality, s->description, "routine", "main"},
            .physician = {.id = DEMO_PHYSICIAN,
                          .name = "Dr. Grace Hopper",
                          .phone = "+1 555 0100",
                          .scheduling_url = "https://clinic.example/schedule"},
            .fingerprint = DEMO_FINGERPRINT,
        };
        struct ingest_result result;
        struct outcome o = {0};
        if (ingest_event_apply(&e, &from, &result, &o))
            return failed(d->event_id, &o);
        json_decref(result.answer);
    }
    struct ingest_report ct = {
        .event_id = "demo-ct-report",
        .accession = "DEMO-ACC-CT",
        .status = "final",
        .findings = "The lungs are clear. No pulmonary embolism. Heart size is normal. "
                    "No pleural effusion.",
        .impression = "No acute abnormality in the chest.",
        .radiologist = "Dr. Marie Curie",
        .signed_at = at(t1, -2.5),
        .fingerprint = DEMO_FINGERPRINT,
    };
    struct ingest_report xr = {
        .event_id = "demo-xr-report",
        .accession = "DEMO-ACC-XR",
        .status = "final",
        .findings = "Non-displaced fracture of the distal radius. Joint spaces are preserved. "
                    "Soft tissues are unremarkable.",
        .impression = "Non-displaced distal radius fracture.",
        .radiologist = "Dr. Marie Curie",
        .signed_at = at(t2, -190),
        .fingerprint = DEMO_FINGERPRINT,
    };
    if (seed_report(&ct) < 0 || seed_report(&xr) < 0)
        return -1;
    const char *acc[1] = {"DEMO-ACC-XR"};
    PGresult *r;
    struct outcome o = {0};
    if (db_exec(Q_STUDY_BY_ACCESSION, 1, acc, &r, &o, DEMO_CONTEXT))
        return failed("finding the XR study", &o);
    char study_id[64] = "";
    if (PQntuples(r) == 1)
        snprintf(study_id, sizeof(study_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!study_id[0])
        return -1;
    struct release_request rel = {
        .study_id = study_id,
        .physician_id = DEMO_PHYSICIAN,
        .note = "A small break that should heal well in a cast. Let's talk about the next steps.",
    };
    struct origin local = {
        .transport = "cli", .request_id = DEMO_CONTEXT, .client_addr = "127.0.0.1"};
    struct release_result released;
    if (release_apply(&rel, &local, &released, &o))
        return failed("releasing the XR report", &o);
    PQclear(released.row);
    return 0;
}

int demo_seed(const char *conninfo, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_db_open(conninfo) < 0)
        return 1;
    struct access_code code;
    /* A fresh password each run, like the access code: nothing guessable ships in the repo. */
    char password[PHYSICIAN_RANDOM_PW_LEN + 8];
    int rc = seed() == 0 && reissue_code(DEMO_MRN, NULL, DEMO_CONTEXT, &code) == 0 &&
                     physician_password_random(password, sizeof(password)) == 0 &&
                     physician_password_store(DEMO_PHYSICIAN, password) == 0
                 ? 0
                 : 1;
    db_close();
    if (rc) {
        fprintf(stderr, "portald: seeding the demo data failed\n");
        return rc;
    }
    char *token =
        auth_sign(ROLE_PHYSICIAN, DEMO_PHYSICIAN, DEMO_PHYSICIAN_TOKEN_TTL, time(NULL), NULL);
    printf("Demo patient:   access code %s, birth date %s (Ada Lovelace)\n", code.code, DEMO_BIRTH);
    printf("Demo physician: id %s, password %s (Dr. Grace Hopper)\n", DEMO_PHYSICIAN, password);
    if (token)
        printf("Physician API token (12 h): %s\n", token);
    free(token);
    return 0;
}

int demo_access_code(const char *conninfo, int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: portald access-code MRN [ASSIGNING_AUTHORITY]\n");
        return 2;
    }
    if (cli_db_open(conninfo) < 0)
        return 1;
    struct access_code code;
    int rc = reissue_code(argv[2], argc > 3 ? argv[3] : NULL, "access-code", &code);
    db_close();
    if (rc < 0) {
        fprintf(stderr, "portald: no patient with that MRN%s (or it was merged into another)\n",
                argc > 3 ? " in that assigning authority"
                         : ", or more than one (name the assigning authority)");
        return 1;
    }
    printf("%s\n", code.code);
    return 0;
}

int demo_access_codes_pending(const char *conninfo, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_db_open(conninfo) < 0)
        return 1;
    PGresult *r;
    struct outcome o = {0};
    int s = db_exec(Q_ACCESS_CODES_PENDING, 0, NULL, &r, &o, DEMO_CONTEXT);
    db_close();
    if (s) {
        fprintf(stderr, "portald: reading the patients failed: %s\n", o.detail);
        return 1;
    }
    /* Tab-separated for scripts; each line is one `portald access-code MRN AUTHORITY` to run. */
    printf("assigning_authority\tmrn\tunconfirmed_since\n");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    PQclear(r);
    return 0;
}
