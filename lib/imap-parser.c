/* The command parser: one byte at a time through an explicit state
 * machine, never looking back, so a command may arrive in any pieces.
 * Arguments are collected on a stack of growable arrays, one per open
 * parenthesis; a finished list is hung on the placeholder argument that
 * its '(' left in the parent level. */
#include "imap-parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum state {
	S_TAG_START,   /* nothing of a command read yet */
	S_TAG,
	S_ARG_START,   /* before an argument */
	S_ATOM,
	S_ATOM_BRACKET, /* inside [...] of an atom */
	S_QUOTED,
	S_QUOTED_ESC,
	S_AFTER_TOKEN, /* after an argument: SP, ')' or the line end */
	S_LIT_LEN,
	S_LIT_PLUS,
	S_LIT_CR,
	S_LIT_LF,
	S_LIT_WAIT,    /* literal header returned; waiting for accept/refuse */
	S_LIT_DATA,
	S_CR,          /* CR seen at the end of a command; LF must follow */
	S_DONE,
	S_SKIP_LINE,   /* after an error: up to the end of the command */
	S_SKIP_LITERAL,
};

void imap_args_free(struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].str);
		if (a[i].type == IMAP_ARG_LIST)
			imap_args_free(a[i].list, a[i].list_n);
	}
	free(a);
}

static void clear_args(struct imap_parser *p)
{
	/* Deeper levels still own their arrays (not yet hung on a parent). */
	for (size_t d = 0; d <= p->depth; d++) {
		imap_args_free(p->stack[d].a, p->stack[d].n);
		p->stack[d].a = NULL;
		p->stack[d].n = p->stack[d].cap = 0;
	}
	if (p->args && p->args != p->stack[0].a)
		imap_args_free(p->args, p->nargs);
	p->args = NULL;
	p->nargs = 0;
	p->depth = 0;
	p->total_args = 0;
}

void imap_parser_init(struct imap_parser *p)
{
	memset(p, 0, sizeof *p);
	strcpy(p->tag, "*");
	p->state = S_TAG_START;
}

void imap_parser_reset(struct imap_parser *p)
{
	clear_args(p);
	sb_reset(&p->tok);
	if (p->tok.cap > IMAP_PARSER_LINE_MAX * 2)
		sb_free(&p->tok); /* do not keep a big literal's buffer around */
	p->error = NULL;
	p->line_len = 0;
	p->state = S_TAG_START;
}

void imap_parser_free(struct imap_parser *p)
{
	clear_args(p);
	sb_free(&p->tok);
}

bool imap_parser_idle(const struct imap_parser *p)
{
	return p->state == S_TAG_START && p->line_len == 0;
}

/* An error: report it; skip the rest of the command unless the line
 * already ended with the byte that caused it. */
static enum imap_parse_result fail(struct imap_parser *p, const char *msg, bool at_eol)
{
	clear_args(p);
	sb_reset(&p->tok);
	p->error = msg;
	p->tail_len = 0;
	p->state = at_eol ? S_TAG_START : S_SKIP_LINE;
	p->line_len = 0;
	return IMAP_PARSE_ERROR;
}

static bool add_arg(struct imap_parser *p, enum imap_arg_type type)
{
	struct imap_parser_level *lv = &p->stack[p->depth];
	if (p->total_args >= IMAP_PARSER_ARGS_MAX)
		return false;
	if (lv->n == lv->cap) {
		size_t cap = lv->cap ? lv->cap * 2 : 8;
		lv->a = xrealloc(lv->a, cap * sizeof *lv->a);
		lv->cap = cap;
	}
	struct imap_arg *a = &lv->a[lv->n++];
	memset(a, 0, sizeof *a);
	a->type = type;
	if (type != IMAP_ARG_LIST) {
		a->len = p->tok.len;
		a->str = xmalloc(p->tok.len + 1);
		if (p->tok.len)
			memcpy(a->str, p->tok.s, p->tok.len);
		a->str[p->tok.len] = '\0';
		if (type == IMAP_ARG_ATOM && strcasecmp(a->str, "NIL") == 0)
			a->type = IMAP_ARG_NIL;
	}
	p->total_args++;
	sb_reset(&p->tok);
	return true;
}

static bool open_list(struct imap_parser *p)
{
	if (p->depth >= IMAP_PARSER_DEPTH_MAX || !add_arg(p, IMAP_ARG_LIST))
		return false;
	p->depth++;
	return true;
}

static void close_list(struct imap_parser *p)
{
	struct imap_parser_level *child = &p->stack[p->depth];
	p->depth--;
	struct imap_parser_level *parent = &p->stack[p->depth];
	struct imap_arg *a = &parent->a[parent->n - 1];
	a->list = child->a;
	a->list_n = child->n;
	child->a = NULL;
	child->n = child->cap = 0;
}

static enum imap_parse_result end_command(struct imap_parser *p)
{
	if (p->depth > 0)
		return fail(p, "Missing ')'", true);
	if (p->stack[0].n == 0)
		return fail(p, "Missing command", true);
	p->args = p->stack[0].a;
	p->nargs = p->stack[0].n;
	p->stack[0].a = NULL;
	p->stack[0].n = p->stack[0].cap = 0;
	p->state = S_DONE;
	p->line_len = 0;
	return IMAP_PARSE_DONE;
}

static bool is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return c != '(' && c != ')' && c != '{' && c != '"';
}

static bool is_tag_char(unsigned char c)
{
	return is_atom_char(c) && c != '%' && c != '*' && c != '\\' && c != '+';
}

/* While skipping: remember the end of the line to spot "{n+}". */
static void tail_add(struct imap_parser *p, unsigned char c)
{
	if (c == '\r')
		return;
	if (p->tail_len == sizeof p->tail - 1) {
		memmove(p->tail, p->tail + 1, p->tail_len - 1);
		p->tail_len--;
	}
	p->tail[p->tail_len++] = (char)c;
	p->tail[p->tail_len] = '\0';
}

/* The skipped line ended: a non-synchronizing literal at its end is still
 * sent by the client and must be skipped too. */
static void skip_line_end(struct imap_parser *p)
{
	uint64_t n = 0;
	int digits = 0;
	size_t i = p->tail_len;
	if (i >= 4 && p->tail[i - 1] == '}' && p->tail[i - 2] == '+') {
		size_t j = i - 2;
		uint64_t mul = 1;
		while (j > 0 && p->tail[j - 1] >= '0' && p->tail[j - 1] <= '9' && digits < 18) {
			n += (uint64_t)(p->tail[j - 1] - '0') * mul;
			mul *= 10;
			digits++;
			j--;
		}
		if (digits > 0 && j > 0 && p->tail[j - 1] == '{') {
			p->tail_len = 0;
			p->remaining = n;
			p->state = n ? S_SKIP_LITERAL : S_SKIP_LINE;
			return;
		}
	}
	p->tail_len = 0;
	p->state = S_TAG_START;
	p->line_len = 0;
}

enum imap_parse_result imap_parser_feed(struct imap_parser *p, const void *buf, size_t len,
					size_t *used_r)
{
	const unsigned char *in = buf;
	size_t i = 0;
	enum imap_parse_result r = IMAP_PARSE_MORE;

	*used_r = 0;
	if (p->state == S_DONE)
		return IMAP_PARSE_DONE;
	if (p->state == S_LIT_WAIT)
		return IMAP_PARSE_LITERAL;

	while (i < len && r == IMAP_PARSE_MORE) {
		unsigned char c = in[i];

		if (p->state == S_LIT_DATA) {
			size_t take = len - i;
			if (take > p->remaining)
				take = (size_t)p->remaining;
			sb_add(&p->tok, in + i, take);
			i += take;
			p->remaining -= take;
			if (p->remaining == 0) {
				if (!add_arg(p, IMAP_ARG_LITERAL))
					r = fail(p, "Too many arguments", false);
				else
					p->state = S_AFTER_TOKEN;
			}
			continue;
		}
		if (p->state == S_SKIP_LITERAL) {
			size_t take = len - i;
			if (take > p->remaining)
				take = (size_t)p->remaining;
			i += take;
			p->remaining -= take;
			if (p->remaining == 0)
				p->state = S_SKIP_LINE;
			continue;
		}
		i++;
		if (p->state == S_SKIP_LINE) {
			if (c == '\n')
				skip_line_end(p);
			else
				tail_add(p, c);
			continue;
		}
		if (c == '\n')
			p->line_len = 0;
		else if (++p->line_len > IMAP_PARSER_LINE_MAX) {
			r = fail(p, "Command line too long", false);
			break;
		}
		if (p->state != S_TAG_START && ++p->text_len > IMAP_PARSER_TEXT_MAX) {
			r = fail(p, "Command too long", c == '\n');
			break;
		}

		switch (p->state) {
		case S_TAG_START:
			p->text_len = 1;
			strcpy(p->tag, "*");
			p->error = NULL;
			if (c == '\r' || c == '\n') {
				p->line_len = 0; /* blank lines are ignored */
				break;
			}
			if (!is_tag_char(c)) {
				r = fail(p, "Invalid tag", false);
				break;
			}
			sb_reset(&p->tok);
			sb_addc(&p->tok, (char)c);
			p->state = S_TAG;
			break;
		case S_TAG:
			if (c == ' ') {
				memcpy(p->tag, p->tok.s, p->tok.len + 1);
				sb_reset(&p->tok);
				p->state = S_ARG_START;
			} else if (c == '\r' || c == '\n') {
				memcpy(p->tag, p->tok.s, p->tok.len + 1);
				if (c == '\n')
					r = fail(p, "Missing command", true);
				else
					p->state = S_CR;
			} else if (!is_tag_char(c)) {
				r = fail(p, "Invalid tag", false);
			} else if (p->tok.len >= IMAP_PARSER_TAG_MAX) {
				r = fail(p, "Tag too long", false);
			} else {
				sb_addc(&p->tok, (char)c);
			}
			break;
		case S_ARG_START:
			if (c == ' ')
				break; /* lenient: repeated spaces */
			if (c == '\r') {
				p->state = S_CR;
			} else if (c == '\n') {
				r = end_command(p);
			} else if (c == '(') {
				if (!open_list(p))
					r = fail(p, p->depth >= IMAP_PARSER_DEPTH_MAX ? "Too deeply nested lists" :
						"Too many arguments", false);
			} else if (c == ')') {
				if (p->depth == 0)
					r = fail(p, "Unexpected ')'", false);
				else {
					close_list(p);
					p->state = S_AFTER_TOKEN;
				}
			} else if (c == '"') {
				sb_reset(&p->tok);
				p->state = S_QUOTED;
			} else if (c == '{') {
				p->literal_size = 0;
				p->lit_digits = 0;
				p->state = S_LIT_LEN;
			} else if (is_atom_char(c)) {
				sb_reset(&p->tok);
				sb_addc(&p->tok, (char)c);
				p->state = c == '[' ? S_ATOM_BRACKET : S_ATOM;
			} else {
				r = fail(p, "Invalid characters in argument", false);
			}
			break;
		case S_ATOM:
			if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
				if (!add_arg(p, IMAP_ARG_ATOM)) {
					r = fail(p, "Too many arguments", c == '\n');
					break;
				}
				if (c == ' ') {
					p->state = S_ARG_START;
				} else if (c == ')') {
					if (p->depth == 0)
						r = fail(p, "Unexpected ')'", false);
					else {
						close_list(p);
						p->state = S_AFTER_TOKEN;
					}
				} else if (c == '\r') {
					p->state = S_CR;
				} else {
					r = end_command(p);
				}
			} else if (is_atom_char(c)) {
				sb_addc(&p->tok, (char)c);
				if (c == '[')
					p->state = S_ATOM_BRACKET;
			} else {
				r = fail(p, "Invalid characters in atom", false);
			}
			break;
		case S_ATOM_BRACKET:
			if (c == '\r' || c == '\n' || c == '\0')
				r = fail(p, "Missing ']'", c == '\n');
			else {
				sb_addc(&p->tok, (char)c);
				if (c == ']')
					p->state = S_ATOM;
			}
			break;
		case S_QUOTED:
			if (c == '"') {
				if (!add_arg(p, IMAP_ARG_QUOTED))
					r = fail(p, "Too many arguments", false);
				else
					p->state = S_AFTER_TOKEN;
			} else if (c == '\\') {
				p->state = S_QUOTED_ESC;
			} else if (c == '\r' || c == '\n' || c == '\0') {
				r = fail(p, "Invalid characters in quoted string", c == '\n');
			} else {
				sb_addc(&p->tok, (char)c);
			}
			break;
		case S_QUOTED_ESC:
			if (c == '"' || c == '\\') {
				sb_addc(&p->tok, (char)c);
				p->state = S_QUOTED;
			} else {
				r = fail(p, "Invalid escape in quoted string", c == '\n');
			}
			break;
		case S_AFTER_TOKEN:
			if (c == ' ') {
				p->state = S_ARG_START;
			} else if (c == ')') {
				if (p->depth == 0)
					r = fail(p, "Unexpected ')'", false);
				else
					close_list(p);
			} else if (c == '\r') {
				p->state = S_CR;
			} else if (c == '\n') {
				r = end_command(p);
			} else {
				r = fail(p, "Missing space between arguments", false);
			}
			break;
		case S_LIT_LEN:
			if (c >= '0' && c <= '9') {
				if (++p->lit_digits > 18) {
					r = fail(p, "Literal size too large", false);
					break;
				}
				p->literal_size = p->literal_size * 10 + (uint64_t)(c - '0');
			} else if (c == '+' && p->lit_digits > 0) {
				p->state = S_LIT_PLUS;
			} else if (c == '}' && p->lit_digits > 0) {
				p->literal_sync = true;
				p->state = S_LIT_CR;
			} else {
				r = fail(p, "Invalid literal size", c == '\n');
			}
			break;
		case S_LIT_PLUS:
			if (c == '}') {
				p->literal_sync = false;
				p->state = S_LIT_CR;
			} else {
				r = fail(p, "Invalid literal size", c == '\n');
			}
			break;
		case S_LIT_CR:
		case S_LIT_LF:
			if (c == '\r' && p->state == S_LIT_CR) {
				p->state = S_LIT_LF;
			} else if (c == '\n') {
				p->state = S_LIT_WAIT;
				r = IMAP_PARSE_LITERAL;
			} else {
				r = fail(p, "Missing line end after literal size", false);
			}
			break;
		case S_CR:
			if (c == '\n')
				r = end_command(p);
			else
				r = fail(p, "CR without LF", false);
			break;
		default:
			r = fail(p, "Internal parser error", false);
			break;
		}
	}
	*used_r = i;
	return r;
}

void imap_parser_literal_accept(struct imap_parser *p)
{
	if (p->state != S_LIT_WAIT)
		return;
	sb_reset(&p->tok);
	p->line_len = 0;
	if (p->literal_size == 0) {
		if (!add_arg(p, IMAP_ARG_LITERAL)) {
			/* the next byte will be skipped as part of the command */
			fail(p, "Too many arguments", false);
			return;
		}
		p->state = S_AFTER_TOKEN;
		return;
	}
	sb_grow(&p->tok, (size_t)p->literal_size);
	p->remaining = p->literal_size;
	p->state = S_LIT_DATA;
}

void imap_parser_literal_refuse(struct imap_parser *p)
{
	if (p->state != S_LIT_WAIT)
		return;
	bool sync = p->literal_sync;
	uint64_t n = p->literal_size;
	fail(p, "Literal refused", sync);
	p->error = NULL;
	if (!sync) {
		p->remaining = n;
		p->state = n ? S_SKIP_LITERAL : S_SKIP_LINE;
	}
}

bool imap_arg_is_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	       a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_NIL;
}

bool imap_arg_atom_eq(const struct imap_arg *a, const char *word)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) && strcasecmp(a->str, word) == 0;
}
