/* imapresp: read one IMAP server response (a line plus any {n} literals
 * and the lines after them) within bounds, and parse its data into a flat
 * tree: atoms, strings (quoted or literal), NIL and lists. The parser is
 * an explicit state machine with a stack of open lists (no recursion). */
#ifndef POSTERN_MAIL_IMAPRESP_H
#define POSTERN_MAIL_IMAPRESP_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "strbuf.h"

#define IMAPRESP_LINE_MAX 65536
#define IMAPRESP_DEPTH_MAX 32
#define IMAPRESP_NODES_MAX 100000

enum iv_type { IV_ATOM, IV_STRING, IV_NIL, IV_LIST };

/* A node; a list's children follow it, up to index end (exclusive). */
struct ival {
	enum iv_type type;
	size_t off, len;   /* atom/string text in arena */
	size_t end;        /* index after this node and its descendants */
};

struct imap_resp {
	struct strbuf raw;    /* the response as received (CRLF, literals) */
	struct strbuf arena;  /* text of atoms and strings, NUL after each */
	struct ival *v;
	size_t n, cap;
};

void imapresp_free(struct imap_resp *r);

/* Read one response into r->raw. max_literal bounds each literal.
 * CONN_OK, a conn error, or CONN_TOOLONG for a literal over the bound. */
int imapresp_read(struct conn *c, struct imap_resp *r, size_t max_literal);

/* Parse r->raw into r->v (top level nodes in sequence). 0, or -1 when the
 * response is malformed or exceeds a bound. */
int imapresp_parse(struct imap_resp *r);

/* Text of node i (NUL-terminated). */
const char *iv_str(const struct imap_resp *r, size_t i);
/* Index of the k-th child of list i, or (size_t)-1. */
size_t iv_child(const struct imap_resp *r, size_t i, size_t k);

#endif
