/* imap-parser: an incremental parser for IMAP4rev1 client commands
 * (RFC 3501 §9): tag, then arguments — atoms, quoted strings, synchronizing
 * {n} and non-synchronizing {n+} literals (RFC 7888), NIL and parenthesised
 * lists. Input is fed in any chunks (down to one byte); the parser is an
 * explicit state machine that never looks back, with a bound on every
 * line, on list nesting and on the number of arguments.
 *
 * Atoms containing '[' are read up to the matching ']' including spaces and
 * parentheses, so FETCH items such as BODY[HEADER.FIELDS (From To)]<0.10>
 * arrive as one atom (as Dovecot does it); the command parses them further.
 *
 * Protocol of use:
 *   feed() -> IMAP_PARSE_MORE: feed more input.
 *          -> IMAP_PARSE_LITERAL: a literal header {n} or {n+} ended its
 *             line. The caller checks literal_size against its limit and
 *             calls imap_parser_literal_accept() (then, for a synchronizing
 *             literal, sends "+ Ready") or imap_parser_literal_refuse()
 *             (after replying tagged NO/BAD).
 *          -> IMAP_PARSE_DONE: tag and args hold a whole command; handle
 *             it and call imap_parser_reset() before feeding again.
 *          -> IMAP_PARSE_ERROR: error names the problem; reply
 *             "<tag> BAD <error>" and keep feeding: the parser skips the
 *             rest of the command (including non-synchronizing literals)
 *             and then starts over with the next one. */
#ifndef POSTERN_IMAP_PARSER_H
#define POSTERN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

#define IMAP_PARSER_LINE_MAX 65536   /* octets per line (between literals) */
#define IMAP_PARSER_DEPTH_MAX 32     /* list nesting */
#define IMAP_PARSER_ARGS_MAX 65536   /* arguments in all lists of one command */
#define IMAP_PARSER_TAG_MAX 128
#define IMAP_PARSER_TEXT_MAX (1024 * 1024) /* octets of one command outside literals */

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	char *str;   /* NUL-terminated contents (literals may also hold NULs: len) */
	size_t len;
	struct imap_arg *list; /* IMAP_ARG_LIST: the elements */
	size_t list_n;
};

enum imap_parse_result {
	IMAP_PARSE_MORE,
	IMAP_PARSE_LITERAL,
	IMAP_PARSE_DONE,
	IMAP_PARSE_ERROR,
};

/* One level of the list stack while a command is being read. */
struct imap_parser_level {
	struct imap_arg *a;
	size_t n, cap;
};

struct imap_parser {
	int state;
	char tag[IMAP_PARSER_TAG_MAX + 1]; /* "*" until a tag was read */
	size_t tag_len;
	/* the command: args[0] is normally the command name atom */
	struct imap_arg *args;
	size_t nargs;
	const char *error;         /* set with IMAP_PARSE_ERROR */
	uint64_t literal_size;     /* set with IMAP_PARSE_LITERAL */
	bool literal_sync;         /* {n} rather than {n+} */

	/* private */
	struct imap_parser_level stack[IMAP_PARSER_DEPTH_MAX + 1];
	size_t depth;
	size_t total_args;
	size_t line_len;
	size_t text_len;           /* octets of this command outside literals */
	struct strbuf tok;
	uint64_t remaining;        /* literal octets still to come */
	int lit_digits;
	char tail[24];             /* while skipping: the end of the line */
	size_t tail_len;
};

void imap_parser_init(struct imap_parser *p);
/* Forget the current command (args freed) and expect a new one. */
void imap_parser_reset(struct imap_parser *p);
void imap_parser_free(struct imap_parser *p);

/* Consume up to LEN octets of BUF; *used_r says how many were used (the
 * parser stops right after a command, a literal header or an error). */
enum imap_parse_result imap_parser_feed(struct imap_parser *p, const void *buf, size_t len,
					size_t *used_r);

/* After IMAP_PARSE_LITERAL: read the literal's octets as the next input. */
void imap_parser_literal_accept(struct imap_parser *p);
/* After IMAP_PARSE_LITERAL: the command is given up. A synchronizing
 * literal's octets will not come (the client waits for "+"), so the next
 * input is a new command; a non-synchronizing literal's octets and the rest
 * of its command are read and discarded. */
void imap_parser_literal_refuse(struct imap_parser *p);

/* True when the parser is between commands (nothing of a new one read). */
bool imap_parser_idle(const struct imap_parser *p);

/* Helpers for commands. */
/* A string argument: atom (NIL included), quoted string or literal
 * ("astring"). */
bool imap_arg_is_astring(const struct imap_arg *a);
/* Atom equal to WORD, case-insensitively. */
bool imap_arg_atom_eq(const struct imap_arg *a, const char *word);
void imap_args_free(struct imap_arg *a, size_t n);

#endif
