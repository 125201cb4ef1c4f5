/* uidlist: stable IMAP/POP3 UIDs for one maildir (INBOX or a folder).
 *
 * File DIR/postern-uidlist:
 *   V1 <uidvalidity> <next_uid>
 *   <uid> <base>
 *   ...
 * sorted by uid. It is changed only under an exclusive flock() on
 * DIR/postern-uidlist.lock, by writing postern-uidlist.tmp, fdatasync and
 * rename, so readers never see a half-written list. UIDs are assigned to
 * files not yet listed in the order of their base names (which start with
 * the delivery time), next_uid only grows, a vanished file's uid is never
 * reused. UIDVALIDITY is chosen when the list is created (time-based and
 * larger than any earlier one handed out under the same mail root, kept in
 * <root>/postern-uidvalidity; see the design note in uidlist.c). */
#ifndef POSTERN_UIDLIST_H
#define POSTERN_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct uidlist_rec {
	uint32_t uid;
	char *name;       /* current file name (with :2,flags) */
	size_t baselen;   /* length of its base part */
	bool in_new;
	unsigned flags;   /* MAILDIR_F_* */
	uint32_t keywords;
	off_t size;
};

struct uidlist {
	uint32_t uidvalidity;
	uint32_t next_uid;
	struct uidlist_rec *recs; /* ascending uid */
	size_t n;
};

/* Bring DIR's list up to date with its files and return the whole mapping
 * in *ul (replacing any previous contents, which are freed: zero *ul before
 * the first call). Creates the list when absent. DIR must be a maildir
 * (maildir_create): a missing DIR, new/ or cur/ is an error (ENOENT), never
 * an empty mailbox. Lock-free when nothing changed; writes only when
 * something did. Returns 0, or -1 (logged) with *ul empty. */
int uidlist_sync(const char *dir, struct uidlist *ul);

/* The record for UID, or NULL (binary search). */
struct uidlist_rec *uidlist_find(const struct uidlist *ul, uint32_t uid);

/* The record of the message whose file name (any flags) or base is NAME,
 * or NULL. Searches from the highest uid down, so finding a message just
 * delivered or appended (APPENDUID) is quick. */
struct uidlist_rec *uidlist_find_base(const struct uidlist *ul, const char *name);

void uidlist_free(struct uidlist *ul);

/* Tests only: when set, called after each scan of new/ and cur/ during
 * uidlist_sync (scan_no 1, 2, ...), so a test can make files disappear and
 * reappear the way a concurrent rename hides them from one readdir. */
extern void (*uidlist_scan_hook)(const char *dir, int scan_no);

#endif
