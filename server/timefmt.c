/* Timestamp formats at the edges: strict input checks (so a bad date is a 422 naming the field,
 * not a database error) and RFC 3339 output. */
#include "timefmt.h"

#include <string.h>
#include <time.h>
#include <stdio.h>

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool valid_ymd(const char *s)
{
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1850 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = days[m - 1] + (m == 2 && leap ? 1 : 0);
    return d <= max;
}

bool timefmt_is_date(const char *s)
{
    return strlen(s) == 10 && valid_ymd(s);
}

bool timefmt_is_rfc3339(const char *s)
{
    size_t len = strlen(s);
    if (len < 20 || len > 35 || !valid_ymd(s) || (s[10] != 'T' && s[10] != 't'))
        return false;
    const char *t = s + 11;
    if (!digits(t, 2) || t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2))
        return false;
    if (num(t, 2) > 23 || num(t + 3, 2) > 59 || num(t + 6, 2) > 60)
        return false;
    const char *z = t + 8;
    if (*z == '.') {
        z++;
        int n = 0;
        while (*z >= '0' && *z <= '9' && n < 9) {
            z++;
            n++;
        }
        if (n == 0)
            return false;
    }
    if ((*z == 'Z' || *z == 'z') && z[1] == '\0')
        return true;
    if ((*z == '+' || *z == '-') && digits(z + 1, 2) && z[3] == ':' && digits(z + 4, 2) &&
        z[6] == '\0')
        return num(z + 1, 2) <= 23 && num(z + 4, 2) <= 59;
    return false;
}

const char *timefmt_pg_to_rfc3339(const char *pg, char out[TIMEFMT_RFC3339_LEN])
{
    if (!pg)
        return NULL;
    /* PostgreSQL in a UTC session prints "YYYY-MM-DD HH:MM:SS[.ffffff]+00". */
    size_t n = strlen(pg);
    if (n < 19 || n >= TIMEFMT_RFC3339_LEN) {
        memcpy(out, pg, n < TIMEFMT_RFC3339_LEN ? n + 1 : TIMEFMT_RFC3339_LEN - 1);
        out[TIMEFMT_RFC3339_LEN - 1] = '\0';
        return out;
    }
    memcpy(out, pg, 19);
    out[10] = 'T';
    out[19] = 'Z';
    out[20] = '\0';
    return out;
}

int timefmt_json_set(json_t *obj, const char *key, const char *pg)
{
    char iso[TIMEFMT_RFC3339_LEN];
    return pg ? json_object_set_new(obj, key, json_string(timefmt_pg_to_rfc3339(pg, iso))) : 0;
}

int timefmt_hl7_to_rfc3339(const char *value, char *out, size_t outlen)
{
    if (!value)
        return -1;
    size_t len = strcspn(value, "+-");
    const char *zone = value[len] ? value + len : NULL;
    /* Digits to the second, then an optional fraction (dropped: the portal keeps seconds). */
    size_t whole = strcspn(value, ".+-");
    if (whole < 8 || whole > 14 || whole % 2 != 0 || !digits(value, (int)whole))
        return -1;
    if (value[whole] == '.') {
        size_t frac = strspn(value + whole + 1, "0123456789");
        if (frac < 1 || frac > 4 || whole + 1 + frac != len)
            return -1;
    } else if (whole != len) {
        return -1;
    }
    struct tm tm = {0};
    tm.tm_year = num(value, 4) - 1900;
    tm.tm_mon = num(value + 4, 2) - 1;
    tm.tm_mday = num(value + 6, 2);
    tm.tm_hour = whole >= 10 ? num(value + 8, 2) : 0;
    tm.tm_min = whole >= 12 ? num(value + 10, 2) : 0;
    tm.tm_sec = whole >= 14 ? num(value + 12, 2) : 0;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59 || tm.tm_year < 0 || tm.tm_year > 8099)
        return -1;
    int mday = tm.tm_mday;
    time_t t;
    if (zone) {
        if (strlen(zone) != 5 || !digits(zone + 1, 4))
            return -1;
        int hh = num(zone + 1, 2), mm = num(zone + 3, 2);
        if (hh > 14 || mm > 59)
            return -1;
        t = timegm(&tm);
        t -= (zone[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    if (t == (time_t)-1 || tm.tm_mday != mday) /* normalised: the day did not exist */
        return -1;
    struct tm utc;
    if (!gmtime_r(&t, &utc))
        return -1;
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return n ? 0 : -1;
}

bool timefmt_hl7_to_date(const char *value, char out[TIMEFMT_DATE_LEN])
{
    if (!value || strlen(value) < 8 || !digits(value, 8))
        return false;
    snprintf(out, TIMEFMT_DATE_LEN, "%.4s-%.2s-%.2s", value, value + 4, value + 6);
    return timefmt_is_date(out);
}
