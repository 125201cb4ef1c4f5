/* strbuf: a growable byte buffer, always NUL-terminated. Allocation failure
 * aborts (a handler that cannot allocate a few KiB cannot do anything
 * useful; the process limit is the real bound). */
#ifndef POSTERN_STRBUF_H
#define POSTERN_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *s;
	size_t len, cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *p, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc_slow(struct strbuf *sb, char c);
/* One octet; inline when there is room (writers that add their output an
 * octet at a time: ENVELOPE, BODYSTRUCTURE). */
static inline void sb_addc(struct strbuf *sb, char c)
{
	if (sb->len + 2 <= sb->cap) {
		sb->s[sb->len++] = c;
		sb->s[sb->len] = '\0';
	} else {
		sb_addc_slow(sb, c);
	}
}
/* The decimal V, without printf. */
void sb_add_uint(struct strbuf *sb, unsigned long long v);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *sb);   /* len = 0, keeps memory */
void sb_free(struct strbuf *sb);
/* Detach the string (caller frees); sb becomes empty. Never NULL. */
char *sb_steal(struct strbuf *sb);

/* Allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
