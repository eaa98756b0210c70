/* `portald seed-demo` and `portald access-code`: data written by an operator, through the same
 * database functions the HTTP paths use, so the demo shows exactly what ingest would produce. */
#include "demo.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access_code.h"
#include "auth.h"
#include "cli_db.h"
#include "physician_account.h"

#define DEMO_MRN                 "DEMO-MRN-1"
#define DEMO_BIRTH               "1985-12-10"
#define DEMO_PHYSICIAN           "DEMO-NPI-1"
#define DEMO_PHYSICIAN_TOKEN_TTL (12 * 3600)

static int exec_params(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    if (!ok) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        fprintf(stderr, "portald: demo data: SQLSTATE %s\n", state ? state : "-");
    }
    PQclear(r);
    return ok ? 0 : -1;
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

static int reissue_code(PGconn *c, const char *mrn, struct access_code *code)
{
    if (access_code_new(code) < 0)
        return -1;
    const char *p[3] = {mrn, code->selector, code->hash};
    PGresult *r = PQexecParams(c,
                               "UPDATE portal.patients SET access_selector = $2, "
                               "access_hash = $3, updated_at = now() WHERE mrn = $1",
                               3, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return ok ? 0 : -1;
}

static int seed(PGconn *c)
{
    char t1[32], t2[32];
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        const struct demo_event *e = &events[i];
        const struct demo_study *s = study_of(e->accession);
        const char *p[18] = {e->event_id,
                             "demo-seed",
                             e->type,
                             at(t1, e->hours),
                             e->scheduled_for != 0 ? at(t2, e->scheduled_for) : NULL,
                             DEMO_MRN,
                             "Ada Lovelace",
                             DEMO_BIRTH,
                             "ada@example.org",
                             s->accession,
                             s->modality,
                             s->description,
                             "routine",
                             "main",
                             DEMO_PHYSICIAN,
                             "Dr. Grace Hopper",
                             "+1 555 0100",
                             "https://clinic.example/schedule"};
        if (exec_params(c,
                        "SELECT portal.ingest_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                        "$11, $12, $13, $14, $15, $16, $17, $18)",
                        18, p) < 0)
            return -1;
    }
    const char *ct[8] = {"demo-ct-report",
                         "demo-seed",
                         "DEMO-ACC-CT",
                         "final",
                         "The lungs are clear. No pulmonary embolism. Heart size is normal. "
                         "No pleural effusion.",
                         "No acute abnormality in the chest.",
                         "Dr. Marie Curie",
                         at(t1, -2.5)};
    const char *xr[8] = {"demo-xr-report",
                         "demo-seed",
                         "DEMO-ACC-XR",
                         "final",
                         "Non-displaced fracture of the distal radius. Joint spaces are preserved. "
                         "Soft tissues are unremarkable.",
                         "Non-displaced distal radius fracture.",
                         "Dr. Marie Curie",
                         at(t2, -190)};
    const char *rel[5] = {NULL, DEMO_PHYSICIAN,
                          "A small break that should heal well in a cast. Let's talk about the "
                          "next steps.",
                          "seed-demo", "127.0.0.1"};
    if (exec_params(c, "SELECT portal.ingest_report($1, $2, $3, $4, $5, $6, $7, $8)", 8, ct) < 0 ||
        exec_params(c, "SELECT portal.ingest_report($1, $2, $3, $4, $5, $6, $7, $8)", 8, xr) < 0)
        return -1;
    PGresult *r = PQexec(c, "SELECT id FROM portal.studies WHERE accession = 'DEMO-ACC-XR'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    char study_id[64];
    snprintf(study_id, sizeof(study_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    rel[0] = study_id;
    return exec_params(c, "SELECT portal.release_report($1, $2, $3, $4, $5)", 5, rel);
}

int demo_seed(const char *conninfo, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    PGconn *c = cli_db_connect(conninfo);
    if (!c)
        return 1;
    struct access_code code;
    /* A fresh password each run, like the access code: nothing guessable ships in the repo. */
    char password[PHYSICIAN_RANDOM_PW_LEN + 8];
    int rc = seed(c) == 0 && reissue_code(c, DEMO_MRN, &code) == 0 &&
                     physician_password_random(password, sizeof(password)) == 0 &&
                     physician_password_store(c, DEMO_PHYSICIAN, password) == 0
                 ? 0
                 : 1;
    PQfinish(c);
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
        fprintf(stderr, "usage: portald access-code MRN\n");
        return 2;
    }
    PGconn *c = cli_db_connect(conninfo);
    if (!c)
        return 1;
    struct access_code code;
    int rc = reissue_code(c, argv[2], &code);
    PQfinish(c);
    if (rc < 0) {
        fprintf(stderr, "portald: no patient with that MRN\n");
        return 1;
    }
    printf("%s\n", code.code);
    return 0;
}
