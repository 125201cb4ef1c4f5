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
 * larger than any earlier one seen in the directory). */
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
 * in *ul (replacing any previous contents, which are freed). Creates the
 * list when absent. Returns 0 or -1 (logged). */
int uidlist_sync(const char *dir, struct uidlist *ul);

/* The record for UID, or NULL. */
struct uidlist_rec *uidlist_find(const struct uidlist *ul, uint32_t uid);

void uidlist_free(struct uidlist *ul);

#endif
