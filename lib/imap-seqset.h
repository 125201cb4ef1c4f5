/* imap-seqset: IMAP sequence sets ("1,3:5,7:*", RFC 3501 §9 sequence-set)
 * of message sequence numbers or UIDs. */
#ifndef POSTERN_IMAP_SEQSET_H
#define POSTERN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_seqrange {
	uint32_t lo, hi; /* lo <= hi */
};

/* Sorted, non-overlapping ranges. */
struct imap_seqset {
	struct imap_seqrange *r;
	size_t n;
};

/* True when S has sequence-set syntax (numbers > 0 or '*', ':' ranges,
 * ',' lists; no empty elements). */
bool imap_seqset_valid(const char *s);

/* Parse S with '*' standing for STAR (the highest number in use; 0 in an
 * empty mailbox). A range may be given in either order. Returns 0, or -1
 * on a syntax error or a zero. */
int imap_seqset_parse(const char *s, uint32_t star, struct imap_seqset *set);

/* The largest number mentioned ('*' counted as STAR); 0 on a syntax error. */
uint32_t imap_seqset_max(const struct imap_seqset *set);

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t v);
void imap_seqset_free(struct imap_seqset *set);

#endif
