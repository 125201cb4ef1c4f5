/* rfc2231: parameter lists. Dovecot quirks kept on purpose: a "name*"
 * parameter without an index inherits the index of the previous
 * continuation parameter, and groups are sorted by name (byte order). */
#include "rfc2231.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cont_param {
	char *key; /* name without the "*N[*]" suffix */
	char *value;
	unsigned idx;
	bool extended;
};

struct param_list {
	struct mime_param *v;
	size_t n, cap;
};

static void list_add(struct param_list *l, char *name, char *value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		size_t bytes;
		if (__builtin_mul_overflow(cap, sizeof(*l->v), &bytes))
			abort();
		l->v = xrealloc(l->v, bytes);
		l->cap = cap;
	}
	l->v[l->n].name = name;
	l->v[l->n].value = value;
	l->n++;
}

static int cont_cmp(const void *a, const void *b)
{
	const struct cont_param *x = a, *y = b;
	int ret = strcmp(x->key, y->key);
	if (ret != 0)
		return ret;
	return x->idx < y->idx ? -1 : x->idx > y->idx ? 1 : 0;
}

/* Parses "name*N", "name*N*" or "name*" (KEY holds a '*'). Returns false
 * when the suffix is not of that form (then the parameter is plain). */
static bool parse_cont_key(const char *key, unsigned *idx, bool *extended, size_t *name_len)
{
	const char *star = strchr(key, '*');
	const char *p = star;
	if (p[1] != '\0') {
		p++;
		*idx = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			/* absurd indexes only need to stay distinct-ish */
			if (*idx < 100000000u)
				*idx = *idx * 10 + (unsigned)(*p - '0');
		}
	}
	*extended = *p == '*';
	if (*extended)
		p++;
	if (*p != '\0')
		return false;
	*name_len = (size_t)(star - key);
	return true;
}

/* %-escape a plain continuation that joins an extended value. */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '%')
			sb_adds(sb, "%25");
		else
			sb_addc(sb, *s);
	}
}

static void merge_group(struct param_list *out, struct cont_param *c, size_t n)
{
	bool ok = true, have_extended = false;
	for (size_t j = 0; j < n; j++) {
		if (c[j].idx != j)
			ok = false;
		if (c[j].extended)
			have_extended = true;
	}
	if (!ok) {
		/* an index is missing: keep them apart, as given */
		for (size_t j = 0; j < n; j++) {
			struct strbuf k = STRBUF_INIT;
			sb_printf(&k, c[j].extended ? "%s*%u*" : "%s*%u", c[j].key, c[j].idx);
			list_add(out, sb_steal(&k), xstrdup(c[j].value));
		}
		return;
	}
	struct strbuf v = STRBUF_INIT;
	if (!c[0].extended && have_extended)
		sb_adds(&v, "''");
	for (size_t j = 0; j < n; j++) {
		if (!c[j].extended && have_extended)
			add_escaped(&v, c[j].value);
		else
			sb_adds(&v, c[j].value);
	}
	struct strbuf k = STRBUF_INIT;
	sb_adds(&k, c[0].key);
	if (have_extended)
		sb_addc(&k, '*');
	list_add(out, sb_steal(&k), sb_steal(&v));
}

void rfc2231_parse(struct rfc822_parser *p, struct mime_param **params_r, size_t *count_r)
{
	struct param_list out = { NULL, 0, 0 };
	struct cont_param *cont = NULL;
	size_t ncont = 0, capcont = 0;
	struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;
	unsigned idx = 0; /* carried over between parameters, as Dovecot does */
	bool extended = false;
	int ret;

	while ((ret = rfc822_parse_content_param(p, &key, &value)) != 0) {
		if (ret < 0) {
			/* skip an octet and try to continue */
			if (p->data == p->end)
				break;
			p->data++;
			continue;
		}
		size_t name_len;
		if (key.s && strchr(key.s, '*') && parse_cont_key(key.s, &idx, &extended, &name_len)) {
			if (ncont == capcont) {
				size_t cap = capcont ? capcont * 2 : 4, bytes;
				if (__builtin_mul_overflow(cap, sizeof(*cont), &bytes))
					abort();
				cont = xrealloc(cont, bytes);
				capcont = cap;
			}
			cont[ncont].key = xstrndup(key.s, name_len);
			cont[ncont].value = xstrdup(value.s ? value.s : "");
			cont[ncont].idx = idx;
			cont[ncont].extended = extended;
			ncont++;
			continue;
		}
		list_add(&out, xstrdup(key.s ? key.s : ""), xstrdup(value.s ? value.s : ""));
	}
	sb_free(&key);
	sb_free(&value);

	if (ncont > 0) {
		qsort(cont, ncont, sizeof(*cont), cont_cmp);
		size_t i = 0;
		while (i < ncont) {
			size_t j = i + 1;
			while (j < ncont && strcasecmp(cont[i].key, cont[j].key) == 0)
				j++;
			merge_group(&out, cont + i, j - i);
			i = j;
		}
		for (i = 0; i < ncont; i++) {
			free(cont[i].key);
			free(cont[i].value);
		}
		free(cont);
	}
	*params_r = out.v;
	*count_r = out.n;
}
