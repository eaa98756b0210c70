/* What a patient sees of a study: the stage in plain words, who is doing what, the timeline and,
 * once released, the report with the prompt to talk it over. Nothing of the report before. */
#ifndef PORTAL_PATIENT_VIEW_H
#define PORTAL_PATIENT_VIEW_H

#include <jansson.h>
#include <libpq-fe.h>

#include "i18n.h"

/* Builds the study object from row of a Q_PATIENT_STUDIES or Q_PATIENT_STUDY result. Returns a
 * new reference or NULL on out of memory. */
json_t *patient_view_study(const PGresult *res, int row, enum lang lang);

/* Adds "report" and "discussion" to study from a Q_PATIENT_STUDY row that holds a released
 * report; history is the Q_RELEASE_HISTORY result or NULL. Returns 0, or -1 on out of memory. */
int patient_view_add_report(json_t *study, const PGresult *res, int row, const PGresult *history,
                            enum lang lang);

/* The plain-language label and explanation of a stage; NULL for an unknown stage. */
const char *patient_view_stage_label(const char *stage, enum lang lang);
const char *patient_view_stage_explanation(const char *stage, enum lang lang);

#endif
