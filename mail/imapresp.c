#include "imapresp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imapresp_free(struct imap_resp *r)
{
	sb_free(&r->raw);
	sb_free(&r->arena);
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

/* Does the line end in a literal header "{n}" or "{n+}"? */
static bool literal_size(const char *line, size_t len, size_t *n_r)
{
	if (len < 3 || line[len - 1] != '}')
		return false;
	size_t i = len - 1;
	if (line[i - 1] == '+')
		i--;
	size_t e = i;
	while (i > 0 && isdigit((unsigned char)line[i - 1]))
		i--;
	if (i == 0 || line[i - 1] != '{' || i == e || e - i > 10)
		return false;
	size_t n = 0;
	for (size_t k = i; k < e; k++) {
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (size_t)(line[k] - '0'), &n))
			return false;
	}
	*n_r = n;
	return true;
}

int imapresp_read(struct conn *c, struct imap_resp *r, size_t max_literal)
{
	char *line = xmalloc(IMAPRESP_LINE_MAX);
	int rc;
	sb_reset(&r->raw);
	for (int lits = 0;; lits++) {
		size_t len, n;
		rc = conn_getline(c, line, IMAPRESP_LINE_MAX, &len);
		if (rc != CONN_OK)
			break;
		sb_add(&r->raw, line, len);
		sb_adds(&r->raw, "\r\n");
		if (!literal_size(line, len, &n))
			break;
		if (n > max_literal || lits > 10000) {
			rc = CONN_TOOLONG;
			break;
		}
		rc = conn_read_exact(c, &r->raw, n);
		if (rc != CONN_OK)
			break;
	}
	free(line);
	return rc;
}

static size_t add_node(struct imap_resp *r, enum iv_type t, const char *s, size_t len)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	struct ival *v = &r->v[r->n];
	v->type = t;
	v->off = r->arena.len;
	v->len = len;
	v->end = r->n + 1;
	sb_add(&r->arena, s, len);
	sb_addc(&r->arena, '\0');
	return r->n++;
}

static bool atom_char(char c)
{
	return c != ' ' && c != '(' && c != ')' && c != '\r' && c != '\n' && c != '"' && c != '{';
}

int imapresp_parse(struct imap_resp *r)
{
	const char *s = r->raw.s ? r->raw.s : "";
	size_t len = r->raw.len, p = 0;
	size_t stack[IMAPRESP_DEPTH_MAX];
	size_t depth = 0;
	r->n = 0;
	sb_reset(&r->arena);
	while (p < len) {
		if (r->n >= IMAPRESP_NODES_MAX)
			return -1;
		char c = s[p];
		if (c == ' ') {
			p++;
		} else if (c == '\r' || c == '\n') {
			/* only the final line end may appear outside a literal */
			p++;
			if (p < len && s[p - 1] == '\r' && s[p] == '\n')
				p++;
			if (p != len)
				return -1;
		} else if (c == '(') {
			if (depth == IMAPRESP_DEPTH_MAX)
				return -1;
			stack[depth++] = add_node(r, IV_LIST, "", 0);
			p++;
		} else if (c == ')') {
			if (depth == 0)
				return -1;
			size_t l = stack[--depth];
			r->v[l].end = r->n;
			p++;
		} else if (c == '"') {
			struct strbuf q = STRBUF_INIT;
			p++;
			while (p < len && s[p] != '"') {
				if (s[p] == '\r' || s[p] == '\n') {
					sb_free(&q);
					return -1;
				}
				if (s[p] == '\\' && p + 1 < len)
					p++;
				sb_addc(&q, s[p++]);
			}
			if (p >= len) {
				sb_free(&q);
				return -1;
			}
			p++;
			add_node(r, IV_STRING, q.s ? q.s : "", q.len);
			sb_free(&q);
		} else if (c == '{') {
			size_t n = 0, q = p + 1;
			while (q < len && isdigit((unsigned char)s[q])) {
				if (__builtin_mul_overflow(n, 10, &n) ||
				    __builtin_add_overflow(n, (size_t)(s[q] - '0'), &n))
					return -1;
				q++;
			}
			if (q < len && s[q] == '+')
				q++;
			if (q + 2 >= len + 0 || s[q] != '}' || s[q + 1] != '\r' || s[q + 2] != '\n')
				return -1;
			q += 3;
			if (n > len - q)
				return -1;
			add_node(r, IV_STRING, s + q, n);
			p = q + n;
		} else {
			size_t q = p;
			int bracket = 0;
			while (q < len && (bracket > 0 || atom_char(s[q]))) {
				if (s[q] == '[')
					bracket++;
				else if (s[q] == ']' && bracket > 0)
					bracket--;
				else if (s[q] == '\r' || s[q] == '\n')
					break;
				q++;
			}
			if (q == p)
				return -1;
			bool nil = q - p == 3 && strncasecmp(s + p, "NIL", 3) == 0;
			add_node(r, nil ? IV_NIL : IV_ATOM, s + p, q - p);
			p = q;
		}
	}
	return depth == 0 ? 0 : -1;
}

const char *iv_str(const struct imap_resp *r, size_t i)
{
	return r->arena.s + r->v[i].off;
}

size_t iv_child(const struct imap_resp *r, size_t i, size_t k)
{
	if (i >= r->n || r->v[i].type != IV_LIST)
		return (size_t)-1;
	size_t c = i + 1;
	while (c < r->v[i].end) {
		if (k-- == 0)
			return c;
		c = r->v[c].end;
	}
	return (size_t)-1;
}
