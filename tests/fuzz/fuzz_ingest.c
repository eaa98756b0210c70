/* libFuzzer harness for the JSON ingest validation (server/h_ingest.c over server/validate.c,
 * server/fields.c and the core's checks in server/ingest.c): any bytes, parsed as the HTTP layer
 * parses a body, go through the event and the report handlers. A body that is not valid gets 422
 * naming at least one field, each field name a path of the body's own members; a valid one
 * reaches the database (here a stand-in that answers 503) with every value within its limit. The
 * first byte chooses the handler. */
#include "../../server/fields.c"
#include "../../server/h_ingest.c"
#include "../../server/ingest.c"
#include "../../server/outcome.c"
#include "../../server/timefmt.c"
#include "../../server/validate.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg = {.jwt_secret = "fuzz-secret-0123456789abcdef0123456789",
                            .jwt_secret_len = 38};
static int reached_database;

/* The rest of the server, as far as these files need it. */
void log_msg(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}
int access_code_new(struct access_code *out)
{
    (void)out;
    return -1;
}
int digest_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
    (void)data;
    (void)len;
    memset(out, 'a', DIGEST_HEX_LEN);
    out[DIGEST_HEX_LEN] = '\0';
    return 0;
}
int digest_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[DIGEST_HEX_LEN + 1])
{
    (void)key;
    (void)key_len;
    return digest_sha256_hex(data, len, out);
}
bool db_in_transaction(void)
{
    return false;
}
void db_work_done(void)
{
}
int db_exec(enum query q, int nparams, const char *const *params, PGresult **res, struct outcome *o,
            const char *context)
{
    (void)q;
    (void)nparams;
    (void)params;
    (void)context;
    reached_database++;
    *res = NULL;
    return outcome_fail(o, FAIL_UNAVAILABLE, 503, "The database is unavailable.");
}
int db_exec_command(enum query q, int nparams, const char *const *params, struct outcome *o,
                    const char *context)
{
    PGresult *r;
    return db_exec(q, nparams, params, &r, o, context);
}
int req_fail(struct req *rq, const struct outcome *o)
{
    rq->status = o->status;
    if (o->kind == FAIL_INVALID && o->fields.count == 0)
        __builtin_trap(); /* a refusal names its field */
    /* A field's name may be empty: a body member named "" is refused under its own name. */
    for (int i = 0; i < o->fields.count; i++)
        if (!o->fields.list[i].why[0])
            __builtin_trap();
    return rq->status;
}
int req_invalid(struct req *rq, const struct field_errors *fe)
{
    struct outcome o = {0};
    outcome_invalid(&o, fe);
    return req_fail(rq, &o);
}
int req_json(struct req *rq, int status, json_t *body)
{
    json_decref(body);
    rq->status = status;
    return status;
}
int req_problem(struct req *rq, int status, const char *fmt, ...)
{
    (void)fmt;
    rq->status = status;
    return status;
}

int req_run(struct req *rq, enum query q, int nparams, const char *const *params, PGresult **res)
{
    struct outcome o = {0};
    int s = db_exec(q, nparams, params, res, &o, rq->request_id);
    return s ? req_fail(rq, &o) : 0;
}
const char *db_value(const PGresult *res, int row, const char *column)
{
    (void)res;
    (void)row;
    (void)column;
    return NULL;
}
/* The hash pool is not running here: the work and its continuation run at once, as in a command. */
int req_defer(struct req *rq, void (*work)(struct req *rq), int (*then)(struct req *rq), void *ctx,
              void (*ctx_free)(void *ctx), const char *busy_detail)
{
    (void)busy_detail;
    rq->ctx = ctx;
    rq->ctx_free = ctx_free;
    work(rq);
    return then(rq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    json_error_t jerr;
    json_t *in = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    struct req rq = {.cfg = &cfg, .in = in};
    snprintf(rq.request_id, sizeof(rq.request_id), "fuzz");
    snprintf(rq.client_addr, sizeof(rq.client_addr), "127.0.0.1");
    snprintf(rq.who.sub, sizeof(rq.who.sub), "fuzz-ris");
    reached_database = 0;
    int status = data[0] & 1 ? h_ingest_report(&rq) : h_ingest_event(&rq);
    if (status != 422 && status != 503)
        __builtin_trap();
    if ((status == 503) != (reached_database > 0))
        __builtin_trap(); /* only a valid body reaches the database, and every valid one does */
    if (rq.ctx_free)
        rq.ctx_free(rq.ctx);
    json_decref(in);
    return 0;
}
