/* Operator commands that write patients' data outside HTTP: the demo data set and reissuing a
 * patient's access code. */
#ifndef PORTAL_DEMO_H
#define PORTAL_DEMO_H

/* `portald seed-demo`: the demo patient, physician and studies at several stages, through the
 * same database functions ingest uses (idempotent), then a fresh access code, printed. */
int demo_seed(const char *conninfo, int argc, char **argv);
/* `portald access-code MRN`: a new access code for that patient, printed once. */
int demo_access_code(const char *conninfo, int argc, char **argv);
/* `portald access-codes-pending`: the patients whose code went out only in an answer that was
 * later replayed without it (the sender may never have read it), to give a new code to. */
int demo_access_codes_pending(const char *conninfo, int argc, char **argv);

#endif
