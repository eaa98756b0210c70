/* The patient's pages (a study's status and estimates, the study list, a released report), kept in
 * memory as the JSON text sent, with the database's version stamps of the data they were built
 * from (sql/migrations/0006_page_versions.sql). A kept page is served only after the handler has
 * read the current stamps and found them equal, so it is never older than the database; a page
 * with a report only after portal.reread_released_page has also audited that read. The time to
 * live bounds only what changes with the clock alone (estimate wording, a hold's end). */
#ifndef PORTAL_PAGE_CACHE_H
#define PORTAL_PAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "i18n.h"

struct page_stamp {
    long long patient;  /* portal.page_versions.version of the patient, 0 when never stamped */
    long long global;   /* portal.page_global_version.version */
    int report_version; /* the released report version the page shows; 0: none */
};

struct page_cache_stats {
    unsigned long long hits, misses, stale, stored, evicted;
    size_t bytes, pages;
};

/* Keeps up to max_bytes of pages (0: keep none) for ttl_s seconds each. Call once, before any
 * thread uses the cache; returns -1 when out of memory. */
int page_cache_init(size_t max_bytes, int ttl_s);
void page_cache_free(void);
bool page_cache_enabled(void);

/* The kept page of patient's study (study NULL: the patient's list) in lang as a malloc'd copy
 * with its stamps and length, or NULL when none is kept, it expired, or the ids are not UUIDs. */
char *page_cache_get(const char *patient, const char *study, enum lang lang,
                     struct page_stamp *stamp, size_t *len);
/* Keeps a copy of body (written in lang), replacing any page of the same key, unless the cache was
 * cleared since generation (page_cache_generation, read before the page's data was). */
void page_cache_put(const char *patient, const char *study, enum lang lang, struct page_stamp stamp,
                    const char *body, size_t len, unsigned long long generation);
/* Counts page_cache_clear calls: a request that read it before a lookup or a build and finds it
 * changed afterwards may have talked to another server in between. */
unsigned long long page_cache_generation(void);
/* Drops every kept page (db_on_connect: a new connection may reach another server, whose stamps
 * could repeat numbers the old one gave). */
void page_cache_clear(void);
/* What a request made of the cache: a kept page served, a kept page found out of date by its
 * stamps (and built anew), or no page kept. */
enum page_outcome { PAGE_HIT, PAGE_STALE, PAGE_MISS };
void page_cache_note(enum page_outcome outcome);
void page_cache_stats(struct page_cache_stats *out);

#endif
