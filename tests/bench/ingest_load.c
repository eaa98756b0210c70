/* The ingest load of `make bench` (tests/bench/run.sh): N connections to portald, each sending one
 * new order at a time and waiting for its answer, for D seconds; then one JSON line with the
 * figures. The same orders go either way:
 *   hl7   ORM^O01 with ORC-1 NW over MLLP to the HL7 listener (PORTAL_HL7_LISTEN); every ACK must
 * be AA and echo the message's control id (MSA-2); json  POST /api/v1/ingest/events ("ordered")
 * with a RIS token over HTTP/1.1 keep-alive; every answer must be 200. Each order has a new control
 * id (event id) and a new accession, for a patient and a referring physician taken at random from
 * the files given, with their names, birth dates and phones exactly as the database has them, so
 * that an order changes nothing about them: an order for a new patient costs the JSON path an
 * access code (argon2) that HL7 does not hand out, so the comparison uses existing patients (-n
 * gives a share of new ones instead).
 *
 * Usage: ingest_load -p hl7|json -P PORT [-H 127.0.0.1] -c CONNECTIONS -d SECONDS
 *                    -f PATIENTS_TSV -y PHYSICIANS_TSV -t TAG [-k RIS_TOKEN] [-n NEW_PERCENT]
 *   PATIENTS_TSV:   assigning authority, MRN, name ("Given Family..."), birth date (YYYY-MM-DD)
 *   PHYSICIANS_TSV: id, name, phone (may be empty)
 *   TAG:            makes the ids unique across runs against one database
 * Output:
 * {"rps":..,"requests":..,"duration_us":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"p999_ms":..,
 * "max_ms":..,"errors":..,"aa":..,"ae":..,"ar":..,"bad_answer":..,"io_errors":..,"client_cpu_ms":..,
 * "connections":..}; errors counts every answer that was not AA (or 200) and every I/O failure.
 * Exit status 0 when every answer was AA (200), else 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256
#define BUF_SIZE        16384

struct person {
    const char *authority, *mrn, *given, *family, *name, *birth; /* birth: YYYY-MM-DD */
};

struct doctor {
    const char *id, *given, *family, *name, *phone;
};

static struct {
    int hl7;
    const char *host;
    int port, conns, seconds, new_percent;
    const char *tag, *token;
    struct person *patients;
    size_t npatients;
    struct doctor *doctors;
    size_t ndoctors;
    double deadline;
} opt = {.host = "127.0.0.1"};

struct worker {
    pthread_t thread;
    int index, fd;
    unsigned seed;
    uint32_t *lat_us;
    size_t nlat, caplat;
    long aa, ae, ar, bad, io;
    char first_error[512];
};

static atomic_int first_error_taken;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ingest_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---- input files -------------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        die("out of memory");
    return d;
}

/* "Given Family Name" -> given "Given", family "Family Name" (the HL7 name is Family^Given, which
 * the listener joins back as "Given Family Name"). */
static void split_name(const char *name, const char **given, const char **family)
{
    const char *sp = strchr(name, ' ');
    if (!sp) {
        *given = "";
        *family = name;
        return;
    }
    char *g = strndup(name, (size_t)(sp - name));
    if (!g)
        die("out of memory");
    *given = g;
    *family = sp + 1;
}

/* Reads a tab-separated file into rows of at most 8 columns; returns the row count. */
static size_t read_tsv(const char *path, int want, char ****rows_out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    char ***rows = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        char **cols = calloc((size_t)want, sizeof(*cols));
        if (!cols)
            die("out of memory");
        char *p = line;
        for (int i = 0; i < want; i++) {
            char *tab = p ? strchr(p, '\t') : NULL;
            if (tab)
                *tab = '\0';
            cols[i] = xstrdup(p ? p : "");
            p = tab ? tab + 1 : NULL;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            rows = realloc(rows, cap * sizeof(*rows));
            if (!rows)
                die("out of memory");
        }
        rows[n++] = cols;
    }
    free(line);
    fclose(f);
    if (n == 0)
        die("%s has no rows", path);
    *rows_out = rows;
    return n;
}

static void load_people(const char *patients_path, const char *doctors_path)
{
    char ***rows;
    opt.npatients = read_tsv(patients_path, 4, &rows);
    opt.patients = calloc(opt.npatients, sizeof(*opt.patients));
    for (size_t i = 0; opt.patients && i < opt.npatients; i++) {
        struct person *p = &opt.patients[i];
        p->authority = rows[i][0];
        p->mrn = rows[i][1];
        p->name = rows[i][2];
        p->birth = rows[i][3];
        split_name(p->name, &p->given, &p->family);
        if (strlen(p->birth) != 10)
            die("%s: birth date %s is not YYYY-MM-DD", patients_path, p->birth);
        free(rows[i]);
    }
    free(rows);
    opt.ndoctors = read_tsv(doctors_path, 3, &rows);
    opt.doctors = calloc(opt.ndoctors, sizeof(*opt.doctors));
    if (!opt.patients || !opt.doctors)
        die("out of memory");
    for (size_t i = 0; i < opt.ndoctors; i++) {
        struct doctor *d = &opt.doctors[i];
        d->id = rows[i][0];
        d->name = rows[i][1];
        d->phone = rows[i][2];
        split_name(d->name, &d->given, &d->family);
        free(rows[i]);
    }
    free(rows);
}

/* ---- messages ----------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("formatting failed");
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            die("out of memory");
    }
}

/* HL7's escapes for the delimiters of "|^~\&", into a static-per-call buffer of the caller's. */
static const char *hl7_esc(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 4 < outlen; s++) {
        const char *e = NULL;
        switch (*s) {
        case '|':
            e = "\\F\\";
            break;
        case '^':
            e = "\\S\\";
            break;
        case '~':
            e = "\\R\\";
            break;
        case '\\':
            e = "\\E\\";
            break;
        case '&':
            e = "\\T\\";
            break;
        case '\r':
        case '\n':
            e = " ";
            break;
        }
        if (e) {
            size_t n = strlen(e);
            memcpy(out + o, e, n);
            o += n;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

static const char *json_esc(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 7 < outlen; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return out;
}

static const char *const modalities[] = {"CT", "MR", "XR", "US", "MG", "NM", "PET"};
static const char *const exams[] = {
    "CT chest with contrast",        "MR brain without contrast", "XR chest two views",
    "US abdomen complete",           "MG screening bilateral",    "NM bone scan whole body",
    "PET/CT skull base to mid-thigh"};

struct order {
    char control[96], accession[64];
    const struct person *patient;
    struct person fresh; /* a new patient's, when -n chose one */
    char fresh_mrn[64], fresh_name[64];
    const struct doctor *doctor;
    int exam;
    char hl7_time[32], iso_time[32];
};

static void make_order(struct worker *w, long n, struct order *o)
{
    /* The transport's letter keeps an HL7 run's accessions apart from a JSON run's of one tag. */
    char proto = opt.hl7 ? 'H' : 'J';
    snprintf(o->control, sizeof(o->control), "%c%s-%d-%ld", proto, opt.tag, w->index, n);
    snprintf(o->accession, sizeof(o->accession), "%c%s-%d-%ld", proto, opt.tag, w->index, n);
    if (opt.new_percent > 0 && (int)(rand_r(&w->seed) % 100) < opt.new_percent) {
        snprintf(o->fresh_mrn, sizeof(o->fresh_mrn), "N%c%s-%d-%ld", proto, opt.tag, w->index, n);
        snprintf(o->fresh_name, sizeof(o->fresh_name), "New Patient %d-%ld", w->index, n);
        o->fresh = (struct person){opt.patients[0].authority, o->fresh_mrn,  "New",
                                   o->fresh_name + 4,         o->fresh_name, "1970-01-01"};
        o->patient = &o->fresh;
    } else {
        o->patient = &opt.patients[(size_t)rand_r(&w->seed) % opt.npatients];
    }
    o->doctor = &opt.doctors[(size_t)rand_r(&w->seed) % opt.ndoctors];
    o->exam = (int)(rand_r(&w->seed) % 7);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(o->hl7_time, sizeof(o->hl7_time), "%Y%m%d%H%M%S+0000", &tm);
    strftime(o->iso_time, sizeof(o->iso_time), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An ORM^O01 new order as a RIS sends it, framed for MLLP. */
static void hl7_order(const struct order *o, struct buf *b)
{
    char e1[256], e2[256], e3[256], e4[256], e5[256], e6[256], e7[256];
    const struct person *p = o->patient;
    const struct doctor *d = o->doctor;
    char birth[9] = {p->birth[0], p->birth[1], p->birth[2],
                     p->birth[3], p->birth[5], p->birth[6],
                     p->birth[8], p->birth[9], 0};
    char doctor[800];
    snprintf(doctor, sizeof(doctor), "%s^%s^%s", hl7_esc(d->id, e1, sizeof(e1)),
             hl7_esc(d->family, e2, sizeof(e2)), hl7_esc(d->given, e3, sizeof(e3)));
    b->len = 0;
    put(b, "\x0bMSH|^~\\&|RIS|BENCHRIS|PORTAL|PORTAL|%s||ORM^O01|%s|P|2.5.1\r", o->hl7_time,
        o->control);
    put(b, "PID|1||%s^^^%s^MR||%s^%s||%s\r", hl7_esc(p->mrn, e4, sizeof(e4)),
        hl7_esc(p->authority, e5, sizeof(e5)), hl7_esc(p->family, e6, sizeof(e6)),
        hl7_esc(p->given, e7, sizeof(e7)), birth);
    put(b, "ORC|NW|PL-%s|FL-%s||||^^^%s^^R||%s|||%s\r", o->accession, o->accession, o->hl7_time,
        o->hl7_time, doctor);
    put(b, "OBR|1|PL-%s|FL-%s|X%d^%s|||%s|||||||||%s|%s|%s||||||%s|||^^^^^R\r", o->accession,
        o->accession, o->exam, exams[o->exam], o->hl7_time, doctor,
        hl7_esc(d->phone, e1, sizeof(e1)), o->accession, modalities[o->exam]);
    put(b, "\x1c\r");
}

/* The same order as the JSON API's event, in an HTTP/1.1 keep-alive request. */
static void json_order(const struct order *o, struct buf *b)
{
    char e1[256], e2[256], e3[256], e4[256], e5[256], e6[256], e7[256];
    const struct person *p = o->patient;
    const struct doctor *d = o->doctor;
    struct buf body = {0};
    put(&body,
        "{\"event_id\":\"json:%s\",\"type\":\"ordered\",\"occurred_at\":\"%s\","
        "\"patient\":{\"mrn\":\"%s\",\"assigning_authority\":\"%s\",\"name\":\"%s\","
        "\"birth_date\":\"%s\"},"
        "\"study\":{\"accession\":\"%s\",\"modality\":\"%s\",\"description\":\"%s\","
        "\"priority\":\"routine\"},"
        "\"referring_physician\":{\"id\":\"%s\",\"name\":\"%s\"",
        o->control, o->iso_time, json_esc(p->mrn, e1, sizeof(e1)),
        json_esc(p->authority, e2, sizeof(e2)), json_esc(p->name, e3, sizeof(e3)), p->birth,
        o->accession, modalities[o->exam], json_esc(exams[o->exam], e4, sizeof(e4)),
        json_esc(d->id, e5, sizeof(e5)), json_esc(d->name, e6, sizeof(e6)));
    if (d->phone[0])
        put(&body, ",\"phone\":\"%s\"", json_esc(d->phone, e7, sizeof(e7)));
    put(&body, "}}");
    b->len = 0;
    put(b,
        "POST /api/v1/ingest/events HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
        opt.host, opt.port, opt.token, body.len, body.p);
    free(body.p);
}

/* ---- the connection ----------------------------------------------------------------------- */

static int dial(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
        die("host must be an IPv4 address: %s", opt.host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {10, 0}; /* a stuck server fails the run instead of hanging it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads into in until done() says the answer is whole (returns its length), or fails. */
struct inbuf {
    char p[BUF_SIZE];
    size_t len;
};

static ssize_t read_more(int fd, struct inbuf *in)
{
    if (in->len + 1 >= sizeof(in->p))
        return -1;
    ssize_t n;
    do
        n = recv(fd, in->p + in->len, sizeof(in->p) - 1 - in->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    in->len += (size_t)n;
    in->p[in->len] = '\0';
    return n;
}

static void note_error(struct worker *w, const char *what, const char *answer, size_t len)
{
    if (w->first_error[0] || atomic_exchange(&first_error_taken, 1))
        return;
    char shown[400];
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof(shown); i++)
        shown[k++] =
            answer[i] == '\r' ? '\n' : (answer[i] < 0x20 && answer[i] != '\n' ? '.' : answer[i]);
    shown[k] = '\0';
    snprintf(w->first_error, sizeof(w->first_error), "%s: %s", what, shown);
}

/* One MLLP ACK: its code (MSA-1) counted, its MSA-2 checked. 0, or -1 on an I/O failure. */
static int hl7_answer(struct worker *w, int fd, struct inbuf *in, const char *control)
{
    char *end;
    in->len = 0;
    while (!(end = memmem(in->p, in->len, "\x1c\r", 2)))
        if (read_more(fd, in) < 0)
            return -1;
    *end = '\0';
    char *msh = in->p[0] == '\x0b' ? in->p + 1 : in->p;
    char sep = strncmp(msh, "MSH", 3) == 0 ? msh[3] : '|';
    char want[8] = {'\r', 'M', 'S', 'A', sep, 0};
    char *msa = strstr(msh, want);
    if (!msa) {
        w->bad++;
        note_error(w, "no MSA in the ACK", msh, strlen(msh));
        return 0;
    }
    msa += 5;
    char code[3] = {msa[0], msa[1], 0};
    size_t clen = strlen(control);
    bool echoed = msa[2] == sep && strncmp(msa + 3, control, clen) == 0 &&
                  (msa[3 + clen] == sep || msa[3 + clen] == '\r' || msa[3 + clen] == '\0');
    if (!echoed) {
        w->bad++;
        note_error(w, "MSA-2 does not echo the control id", msh, strlen(msh));
    } else if (strcmp(code, "AA") == 0) {
        w->aa++;
    } else {
        if (strcmp(code, "AE") == 0)
            w->ae++;
        else if (strcmp(code, "AR") == 0)
            w->ar++;
        else
            w->bad++;
        note_error(w, "not AA", msh, strlen(msh));
    }
    return 0;
}

/* One HTTP answer (Content-Length framed): 200 counted as "aa", 4xx "ae", the rest "ar". 1 when
 * the server closes the connection after it, 0, or -1 on an I/O failure. */
static int json_answer(struct worker *w, int fd, struct inbuf *in)
{
    char *head_end;
    in->len = 0;
    in->p[0] = '\0';
    while (!(head_end = memmem(in->p, in->len, "\r\n\r\n", 4)))
        if (read_more(fd, in) < 0)
            return -1;
    size_t head = (size_t)(head_end - in->p) + 4;
    int status = 0;
    if (sscanf(in->p, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    size_t length = 0;
    bool close_after = false;
    for (char *line = strstr(in->p, "\r\n"); line && line < head_end;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            length = strtoul(line + 17, NULL, 10);
        else if (strncasecmp(line + 2, "Connection: close", 17) == 0)
            close_after = true;
    }
    while (in->len < head + length)
        if (read_more(fd, in) < 0)
            return -1;
    if (status == 200) {
        w->aa++;
    } else {
        if (status >= 400 && status < 500)
            w->ae++;
        else
            w->ar++;
        note_error(w, "not 200", in->p, in->len);
    }
    return close_after;
}

static void record_latency(struct worker *w, double seconds)
{
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? w->caplat * 2 : 65536;
        w->lat_us = realloc(w->lat_us, w->caplat * sizeof(*w->lat_us));
        if (!w->lat_us)
            die("out of memory");
    }
    double us = seconds * 1e6;
    w->lat_us[w->nlat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct buf out = {0};
    struct inbuf *in = malloc(sizeof(*in));
    if (!in)
        die("out of memory");
    int fd = w->fd;
    if (fd < 0) {
        w->io++;
        note_error(w, "cannot connect", "", 0);
        free(in);
        return NULL;
    }
    for (long n = 1; now_s() < opt.deadline; n++) {
        struct order o;
        make_order(w, n, &o);
        if (opt.hl7)
            hl7_order(&o, &out);
        else
            json_order(&o, &out);
        double t0 = now_s();
        int s = send_all(fd, out.p, out.len);
        if (s == 0)
            s = opt.hl7 ? hl7_answer(w, fd, in, o.control) : json_answer(w, fd, in);
        if (s < 0) { /* counted, and a new connection for the rest of the run */
            w->io++;
            note_error(w, "I/O failure", strerror(errno), strlen(strerror(errno)));
            close(fd);
            if ((fd = dial()) < 0)
                break;
            continue;
        }
        record_latency(w, now_s() - t0);
        if (s == 1) {
            close(fd);
            if ((fd = dial()) < 0)
                break;
        }
    }
    if (fd >= 0)
        close(fd);
    free(out.p);
    free(in);
    return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_ms(const uint32_t *sorted, size_t n, double pct)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(pct / 100.0 * (double)n);
    if (i >= n)
        i = n - 1;
    return sorted[i] / 1000.0;
}

static void usage(void)
{
    die("usage: ingest_load -p hl7|json -P PORT [-H HOST] -c CONNECTIONS -d SECONDS -f "
        "PATIENTS_TSV "
        "-y PHYSICIANS_TSV -t TAG [-k RIS_TOKEN] [-n NEW_PATIENT_PERCENT]");
}

int main(int argc, char **argv)
{
    const char *proto = NULL, *patients = NULL, *doctors = NULL;
    int ch;
    while ((ch = getopt(argc, argv, "p:H:P:c:d:f:y:t:k:n:")) != -1) {
        switch (ch) {
        case 'p':
            proto = optarg;
            break;
        case 'H':
            opt.host = optarg;
            break;
        case 'P':
            opt.port = atoi(optarg);
            break;
        case 'c':
            opt.conns = atoi(optarg);
            break;
        case 'd':
            opt.seconds = atoi(optarg);
            break;
        case 'f':
            patients = optarg;
            break;
        case 'y':
            doctors = optarg;
            break;
        case 't':
            opt.tag = optarg;
            break;
        case 'k':
            opt.token = optarg;
            break;
        case 'n':
            opt.new_percent = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (!proto || (strcmp(proto, "hl7") != 0 && strcmp(proto, "json") != 0) || opt.port <= 0 ||
        opt.conns < 1 || opt.conns > MAX_CONNECTIONS || opt.seconds < 1 || !patients || !doctors ||
        !opt.tag || optind != argc)
        usage();
    opt.hl7 = strcmp(proto, "hl7") == 0;
    if (!opt.hl7 && !opt.token)
        die("json needs a RIS token (-k)");
    if (strlen(opt.tag) > 24)
        die("the tag is at most 24 characters (ids and accessions are at most 64)");
    load_people(patients, doctors);

    struct worker *ws = calloc((size_t)opt.conns, sizeof(*ws));
    if (!ws)
        die("out of memory");
    /* The connections are opened 20 ms apart before the clock starts: portald's HTTP threads each
     * accept connections for themselves, and connections that arrive together can all land on one
     * of them (seen: 8 at once on one thread of two, half the throughput). */
    for (int i = 0; i < opt.conns; i++) {
        if (i > 0)
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        ws[i].fd = dial();
        if (ws[i].fd < 0)
            fprintf(stderr, "ingest_load: connection %d: cannot connect: %s\n", i, strerror(errno));
    }
    double start = now_s();
    opt.deadline = start + opt.seconds;
    for (int i = 0; i < opt.conns; i++) {
        ws[i].index = i;
        ws[i].seed = (unsigned)(time(NULL) ^ (getpid() << 8) ^ (i * 2654435761u));
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
            die("cannot start a thread");
    }
    for (int i = 0; i < opt.conns; i++)
        pthread_join(ws[i].thread, NULL);
    double elapsed = now_s() - start;

    size_t total = 0;
    long aa = 0, ae = 0, ar = 0, bad = 0, io = 0;
    for (int i = 0; i < opt.conns; i++) {
        total += ws[i].nlat;
        aa += ws[i].aa, ae += ws[i].ae, ar += ws[i].ar, bad += ws[i].bad, io += ws[i].io;
    }
    uint32_t *all = malloc((total ? total : 1) * sizeof(*all));
    if (!all)
        die("out of memory");
    size_t k = 0;
    for (int i = 0; i < opt.conns; i++) {
        memcpy(all + k, ws[i].lat_us, ws[i].nlat * sizeof(*all));
        k += ws[i].nlat;
        if (ws[i].first_error[0])
            fprintf(stderr, "ingest_load: connection %d: %s\n", i, ws[i].first_error);
        free(ws[i].lat_us);
    }
    qsort(all, total, sizeof(*all), cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    long errors = ae + ar + bad + io;
    printf("{\"rps\":%.1f,\"requests\":%zu,\"duration_us\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%ld,\"aa\":%ld,\"ae\":%ld,"
           "\"ar\":%ld,\"bad_answer\":%ld,\"io_errors\":%ld,\"client_cpu_ms\":%.0f,"
           "\"connections\":%d}\n",
           (double)aa / elapsed, total, elapsed * 1e6, percentile_ms(all, total, 50),
           percentile_ms(all, total, 90), percentile_ms(all, total, 99),
           percentile_ms(all, total, 99.9), total ? all[total - 1] / 1000.0 : 0.0, errors, aa, ae,
           ar, bad, io, cpu_ms, opt.conns);
    free(all);
    free(ws);
    return errors == 0 && aa > 0 ? 0 : 1;
}
