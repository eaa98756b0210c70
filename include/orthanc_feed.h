/* The PACS follower: a background thread of `portald serve` that follows Orthanc's change feed
 * and records "images received" (the exam is complete) through the ingest core, with the feed's
 * position kept in PostgreSQL in the same transaction. Off unless PORTAL_ORTHANC_URL is set. */
#ifndef PORTAL_ORTHANC_FEED_H
#define PORTAL_ORTHANC_FEED_H

#include <stdbool.h>

struct config;
struct orthanc_feed;

/* Starts the thread when cfg->orthanc_url is set (db_configure must have run); cfg must outlive
 * it. Returns NULL when the feed is off or cannot start (logged). */
struct orthanc_feed *orthanc_feed_start(const struct config *cfg);
/* Stops at once: a request to Orthanc in flight is abandoned, an open batch rolled back (the next
 * follower redoes it), the thread joined and f freed. Accepts NULL. */
void orthanc_feed_stop(struct orthanc_feed *f);

/* What /metrics shows of the feed (metrics.c). */
struct orthanc_feed_stats {
    bool enabled;       /* a feed was started in this process */
    bool up;            /* Orthanc answered the last request as expected */
    long long position; /* the last position this instance read or wrote; -1 before the first */
    int backoff_s;      /* the current back-off after failures; 0 while healthy */
    unsigned long long changes;         /* changes read and committed past, of any type */
    unsigned long long matched;         /* StableStudy of a study we know: images recorded */
    unsigned long long unknown;         /* StableStudy whose accession we do not know */
    unsigned long long no_accession;    /* StableStudy without a usable AccessionNumber */
    unsigned long long gone;            /* StableStudy of a study Orthanc no longer has */
    unsigned long long refused;         /* changes the database refused, skipped */
    unsigned long long orthanc_errors;  /* rounds failed: Orthanc down, slow or answering garbage */
    unsigned long long database_errors; /* rounds failed: the database */
    unsigned long long skipped_rounds;  /* rounds skipped: another instance held the position */
};

/* Fills s; returns s->enabled. */
bool orthanc_feed_stats(struct orthanc_feed_stats *s);

#endif
