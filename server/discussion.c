/* Answering a discussion request: the rules on what the office sends, then
 * portal.answer_discussion, which decides whose request it is and audits. */
#include "discussion.h"

#include <string.h>

#include "db.h"
#include "fields.h"
#include "queries.h"

const char *const discussion_answer_states[] = {"contacted", "scheduled", "closed", NULL};

int discussion_answer_check(const struct discussion_answer *a, struct field_errors *fe)
{
    int before = fe->count + fe->dropped;
    field_present(fe, "", "id", a->discussion_id);
    if (field_present(fe, "", "state", a->state))
        field_one_of(fe, "", "state", a->state, discussion_answer_states, NULL);
    bool scheduling = a->state && strcmp(a->state, "scheduled") == 0;
    if (scheduling)
        field_present(fe, "", "scheduled_for", a->scheduled_for);
    field_timestamp(fe, "", "scheduled_for", a->scheduled_for);
    field_max(fe, "", "reply", a->reply, DISCUSSION_REPLY_MAX);
    return fe->count + fe->dropped - before;
}

int discussion_answer_apply(const struct discussion_answer *a, const struct origin *from,
                            struct discussion_answer_result *result, struct outcome *o)
{
    memset(result, 0, sizeof(*result));
    if (discussion_answer_check(a, &o->fields))
        return outcome_invalid(o, &o->fields);
    const char *p[8] = {from->actor_role, from->actor_id, a->discussion_id, a->state,
                        a->scheduled_for, a->reply,       from->request_id, from->client_addr};
    int s = db_exec(Q_ANSWER_DISCUSSION, 8, p, &result->row, o, from->request_id);
    if (s)
        return s;
    result->id = db_value(result->row, 0, "id");
    result->study_id = db_value(result->row, 0, "study_id");
    result->state = db_value(result->row, 0, "state");
    result->scheduled_for = db_value(result->row, 0, "scheduled_for");
    result->reply = db_value(result->row, 0, "reply");
    result->updated_at = db_value(result->row, 0, "updated_at");
    const char *changed = db_value(result->row, 0, "changed");
    result->changed = changed && strcmp(changed, "t") == 0;
    return 0;
}
