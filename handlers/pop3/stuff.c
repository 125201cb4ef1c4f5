#include "stuff.h"

void pop3_stuff_init(struct pop3_stuff *st)
{
	*st = (struct pop3_stuff){ .bol = true, .line_empty = true };
}

void pop3_stuff_init_top(struct pop3_stuff *st, unsigned long lines)
{
	pop3_stuff_init(st);
	st->limited = true;
	st->lines_left = lines;
}

/* A line just ended (its LF was emitted): count it for TOP. */
static void line_done(struct pop3_stuff *st)
{
	if (!st->in_body) {
		if (st->line_empty) {
			st->in_body = true;
			if (st->limited && st->lines_left == 0)
				st->done = true;
		}
	} else if (st->limited && --st->lines_left == 0) {
		st->done = true;
	}
	st->bol = true;
	st->line_empty = true;
}

bool pop3_stuff_feed(struct pop3_stuff *st, const void *in, size_t len, pop3_emit_fn *emit,
		     void *ctx)
{
	const unsigned char *p = in;
	size_t i, run = 0; /* p[run..i) is pending verbatim output */

	if (st->done)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (st->bol && c == '.') {
			if (i > run)
				emit(ctx, p + run, i - run);
			emit(ctx, ".", 1);
			run = i; /* the dot itself goes out with the run */
		}
		if (c == '\n') {
			if (!st->prev_cr) {
				if (i > run)
					emit(ctx, p + run, i - run);
				emit(ctx, "\r", 1);
				run = i;
			}
			st->prev_cr = false;
			line_done(st);
			if (st->done) {
				emit(ctx, p + run, i + 1 - run);
				return false;
			}
			continue;
		}
		st->bol = false;
		if (c != '\r')
			st->line_empty = false;
		st->prev_cr = c == '\r';
	}
	if (len > run)
		emit(ctx, p + run, len - run);
	return true;
}

void pop3_stuff_end(struct pop3_stuff *st, pop3_emit_fn *emit, void *ctx)
{
	if (!st->bol) {
		/* the file ended inside a line (or after a bare CR) */
		emit(ctx, st->prev_cr ? "\n" : "\r\n", st->prev_cr ? 1 : 2);
		st->bol = true;
	}
	emit(ctx, ".\r\n", 3);
}
