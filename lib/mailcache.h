/* mailcache: the per-mailbox cache of what IMAP needs about each message
 * without reading it: internal date, RFC822.SIZE, header length, and the
 * ENVELOPE, BODY and BODYSTRUCTURE strings (as imap_envelope_write and
 * imap_bodystructure_write produce them). Flags are not cached: they live
 * in the file name.
 *
 * File DIR/postern-cache, shared by every process of the mailbox and
 * appended to under a flock of DIR/postern-cache.lock (format and races:
 * the design note in mailcache.c). It is only a cache: deleting it loses
 * nothing, and every failure (missing, unreadable, corrupt, foreign
 * UIDVALIDITY, full disk) degrades to "not cached", never to a wrong
 * answer. Entries are keyed by (uid, base name), so a mismatched one is
 * ignored. */
#ifndef POSTERN_MAILCACHE_H
#define POSTERN_MAILCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mime.h"

/* Largest record kept (base + strings + 64 octets); a message whose
 * strings are longer is computed every time (mailcache_fill still answers). */
#define MAILCACHE_RECORD_MAX (1024 * 1024)
/* A cache file larger than this is discarded and rebuilt. */
#define MAILCACHE_FILE_MAX ((off_t)1 << 31)

struct mailcache;

/* One message's cached facts. Strings are NUL-terminated (the lengths do
 * not count the NUL) and valid until the next call on the cache. */
struct mailcache_entry {
	uint32_t uid;
	const char *base;            /* file name up to ":2," */
	size_t baselen;
	time_t internaldate;         /* the file's mtime */
	off_t size;                  /* RFC822.SIZE (the file's size) */
	size_t hdr_len;              /* header incl. its blank line: the body's offset */
	const char *envelope;        /* "(date subject ...)" */
	size_t envelope_len;
	const char *body;            /* BODY (no extension data) */
	size_t body_len;
	const char *bodystructure;   /* BODYSTRUCTURE */
	size_t bodystructure_len;
};

struct mailcache_stats {
	size_t entries;              /* uids with an entry (file or pending) */
	size_t file_records;         /* valid records in the file, dead ones included */
	uint64_t file_size;          /* octets of the file read so far */
	unsigned long hits, misses;  /* mailcache_get answers */
	unsigned long parsed;        /* message files opened and parsed by fill */
	unsigned long flushes, compactions, resets;
};

/* Load DIR's cache for UIDVALIDITY. Never fails: on any problem (no file,
 * unreadable, garbage, other UIDVALIDITY) the cache starts empty and the
 * file is replaced at the first flush. Reads the file once, lock-free.
 * UIDVALIDITY 0 gives a cache that only lives in memory. */
struct mailcache *mailcache_open(const char *dir, uint32_t uidvalidity);

/* Flush (errors ignored) and free. NULL is fine. */
void mailcache_close(struct mailcache *c);

/* The entry of UID when it was cached for the file with base BASE
 * (BASELEN octets; the rest of a full file name after BASELEN is ignored),
 * else NULL (absent, other base, unreadable or damaged record). */
const struct mailcache_entry *mailcache_get(struct mailcache *c, uint32_t uid, const char *base,
					    size_t baselen);

/* Cache an entry (kept in memory, written by the next flush; flushed
 * automatically when a few MiB are pending). Replaces an earlier entry of
 * UID. Returns 0, or -1 (EINVAL: uid 0 or bad base; EFBIG: the record
 * would pass MAILCACHE_RECORD_MAX) and nothing is cached. NULL strings are
 * stored as "". */
int mailcache_put(struct mailcache *c, uint32_t uid, const char *base, size_t baselen,
		  time_t internaldate, off_t size, size_t hdr_len, const char *envelope,
		  const char *body, const char *bodystructure);

/* Format ENVELOPE, BODY and BODYSTRUCTURE of MSG (LEN octets, parsed into
 * ROOT by mime_parse) and cache them, with size LEN. 0 or -1 as put. For a
 * caller that has already read and parsed the message. */
int mailcache_put_message(struct mailcache *c, uint32_t uid, const char *base, size_t baselen,
			  time_t internaldate, const char *msg, size_t len,
			  const struct mime_part *root);

/* Get or compute: the entry of UID whose current file name in DIR is NAME
 * (in new/ when *IN_NEW). From the cache when present; else the message is
 * (and its size agrees with the ",S=" of NAME, when there is one); else it is
 * opened (maildir_open_msg: NAME and *IN_NEW follow a concurrent rename),
 * stat'ed (mtime, size), read, parsed, formatted and cached. *ENTRY_R is
 * valid until the next call on the cache, even when the message is too
 * large to cache. Returns 1, 0 when the message is gone, -1 on error
 * (logged). */
int mailcache_fill(struct mailcache *c, const char *dir, uint32_t uid, char *name,
		   size_t namelen, bool *in_new, const struct mailcache_entry **entry_r);

/* Drop UID's entry (expunged). Its record becomes dead in the file. */
void mailcache_expunged(struct mailcache *c, uint32_t uid);
/* Drop every entry whose uid is below UIDNEXT but not in UIDS (N uids,
 * ascending): the mailbox as a uid list sync saw it (SELECT). Entries from
 * UIDNEXT up (messages delivered since, cached by another session) stay.
 * Returns 0, or -1 (not ascending, or a uid >= UIDNEXT: nothing done). */
int mailcache_retain(struct mailcache *c, const uint32_t *uids, size_t n, uint32_t uidnext);

/* Append the pending entries to the file: one write() under the lock,
 * after reading what other processes appended meanwhile. Rewrites the file
 * (tmp + rename) when it is missing, damaged, of an older UIDVALIDITY, or
 * when more than half of its records are dead. 0, or -1 (logged; the
 * pending entries are dropped, the file stays consistent). */
int mailcache_flush(struct mailcache *c);

void mailcache_get_stats(const struct mailcache *c, struct mailcache_stats *st_r);

#endif
