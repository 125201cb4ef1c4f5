/* Sequence sets are parsed in one pass into ranges, then sorted and merged
 * so that membership is a binary search even for the tens of kilobytes of
 * UID sets that sync clients send. */
#include "imap-seqset.h"

#include <stdlib.h>

#include "strbuf.h"

/* One number or '*' at *S; advances *S. Returns false on bad syntax. */
static bool parse_num(const char **s, uint32_t star, uint32_t *v)
{
	const char *p = *s;
	if (*p == '*') {
		*v = star;
		*s = p + 1;
		return true;
	}
	if (*p < '1' || *p > '9')
		return false;
	uint64_t n = 0;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return false;
		p++;
	}
	*v = (uint32_t)n;
	*s = p;
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const struct imap_seqrange *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int imap_seqset_parse(const char *s, uint32_t star, struct imap_seqset *set)
{
	size_t cap = 0;
	set->r = NULL;
	set->n = 0;
	if (!*s)
		return -1;
	for (;;) {
		uint32_t a, b;
		if (!parse_num(&s, star, &a))
			goto bad;
		b = a;
		if (*s == ':') {
			s++;
			if (!parse_num(&s, star, &b))
				goto bad;
		}
		if (set->n == cap) {
			cap = cap ? cap * 2 : 8;
			set->r = xrealloc(set->r, cap * sizeof *set->r);
		}
		set->r[set->n].lo = a < b ? a : b;
		set->r[set->n].hi = a < b ? b : a;
		set->n++;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			goto bad;
	}
	qsort(set->r, set->n, sizeof *set->r, cmp_range);
	size_t out = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (out > 0 && (uint64_t)set->r[i].lo <= (uint64_t)set->r[out - 1].hi + 1) {
			if (set->r[i].hi > set->r[out - 1].hi)
				set->r[out - 1].hi = set->r[i].hi;
		} else {
			set->r[out++] = set->r[i];
		}
	}
	set->n = out;
	return 0;
bad:
	imap_seqset_free(set);
	return -1;
}

bool imap_seqset_valid(const char *s)
{
	struct imap_seqset set;
	if (imap_seqset_parse(s, 1, &set) < 0)
		return false;
	imap_seqset_free(&set);
	return true;
}

uint32_t imap_seqset_max(const struct imap_seqset *set)
{
	return set->n ? set->r[set->n - 1].hi : 0;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}
