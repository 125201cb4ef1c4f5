/* stuff: the multi-line response body of RETR and TOP as a byte state
 * machine (RFC 1939 3.): a '.' at the start of a line is doubled, every
 * line ends in CRLF (a bare LF from a foreign file gets its CR), and the
 * response ends with ".\r\n" after a CRLF. For TOP it also stops after the
 * header, the empty line and N body lines. Fed in blocks of any size, so a
 * message is never held in memory as a whole. Pure: output goes through a
 * callback, which lets tests feed it byte by byte. */
#ifndef POSTERN_POP3_STUFF_H
#define POSTERN_POP3_STUFF_H

#include <stdbool.h>
#include <stddef.h>

typedef void pop3_emit_fn(void *ctx, const void *buf, size_t len);

struct pop3_stuff {
	bool bol;                 /* next byte starts a line */
	bool line_empty;          /* only a CR seen since the start of the line */
	bool prev_cr;             /* last byte was CR */
	bool in_body;             /* past the header/body separator */
	bool limited;             /* TOP: stop after lines_left body lines */
	unsigned long lines_left;
	bool done;                /* TOP limit reached; ignore the rest */
};

/* Whole message (RETR). */
void pop3_stuff_init(struct pop3_stuff *st);
/* Header plus LINES body lines (TOP). */
void pop3_stuff_init_top(struct pop3_stuff *st, unsigned long lines);

/* Feed LEN octets. Returns false once no more input is wanted (TOP done). */
bool pop3_stuff_feed(struct pop3_stuff *st, const void *in, size_t len, pop3_emit_fn *emit,
		     void *ctx);

/* End the response: CRLF when the last line was unterminated, then ".\r\n". */
void pop3_stuff_end(struct pop3_stuff *st, pop3_emit_fn *emit, void *ctx);

#endif
