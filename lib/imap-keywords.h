/* imap-keywords: IMAP keywords ($Forwarded, Junk, ...) of one maildir,
 * mapped to the maildir flag letters a..z through the file
 * DIR/dovecot-keywords ("<index> <name>" lines, index 0 = 'a'), the format
 * Dovecot uses, so both servers can share a store. */
#ifndef POSTERN_IMAP_KEYWORDS_H
#define POSTERN_IMAP_KEYWORDS_H

#include <stdbool.h>
#include <stdint.h>

#define IMAP_KEYWORDS_MAX 26
#define IMAP_KEYWORD_LEN_MAX 128

struct imap_keywords {
	char *names[IMAP_KEYWORDS_MAX]; /* NULL: letter unused */
};

/* Read DIR's keyword file (missing = no keywords). Replaces *kw. 0 or -1. */
int imap_keywords_load(const char *dir, struct imap_keywords *kw);
/* Index of NAME (case-insensitive) or -1. */
int imap_keywords_find(const struct imap_keywords *kw, const char *name);
/* Index of NAME, adding it to the file (under a lock, re-reading first)
 * when new. -1 when all 26 letters are taken or on error (logged). */
int imap_keywords_add(const char *dir, struct imap_keywords *kw, const char *name);
/* True when NAME may be a keyword: an atom without '\\' and not too long. */
bool imap_keyword_valid(const char *name);
void imap_keywords_free(struct imap_keywords *kw);

#endif
