/* The administrators' operations views beside the compliance report (h_admin.c) and the
 * notifications (h_notify.c): studies past their p90 estimate by stage, and the effective
 * configuration, secrets shown only as set or not (config_is_secret). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "req_db.h"

int h_admin_overdue(struct req *rq)
{
    PGresult *res;
    int s;
    if ((s = req_run(rq, Q_ADMIN_OVERDUE, 0, NULL, &res)))
        return s;
    json_t *items = json_array();
    for (int i = 0; items && i < PQntuples(res); i++) {
        json_t *e =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "study_id", db_value(res, i, "study_id"),
                      "accession", db_value(res, i, "accession"), "stage",
                      db_value(res, i, "stage"), "site", db_value(res, i, "site"), "modality",
                      db_value(res, i, "modality"), "priority", db_value(res, i, "priority"));
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "studies", items) : NULL);
}

/* The environment as read at start-up (nothing sets it later): each variable's value, or its
 * default when unset; a secret only as "(set)". */
int h_admin_config(struct req *rq)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < config_settings_count; i++) {
        const struct config_setting *st = &config_settings[i];
        const char *value = getenv(st->name);
        bool set = value && *value;
        bool secret = config_is_secret(st->name);
        json_t *e = json_pack("{s:s, s:s?, s:b, s:b}", "name", st->name, "value",
                              secret ? (set ? "(set)" : NULL) : (set ? value : st->def), "set", set,
                              "secret", secret);
        if (!e || json_array_append_new(items, e) < 0) {
            json_decref(items);
            items = NULL;
        }
    }
    return req_json(rq, 200, items ? json_pack("{s:o}", "settings", items) : NULL);
}
