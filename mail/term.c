#include "term.h"

#include <stdbool.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

int term_read_line(struct strbuf *line, size_t max)
{
	sb_reset(line);
	bool toolong = false;
	for (;;) {
		int c = getchar();
		if (c == EOF) {
			if (line->len == 0 && !toolong)
				return TERM_EOF;
			break;
		}
		if (c == '\n')
			break;
		if (line->len < max)
			sb_addc(line, (char)c);
		else
			toolong = true;
	}
	if (line->len > 0 && line->s[line->len - 1] == '\r')
		line->s[--line->len] = '\0';
	return toolong ? TERM_TOOLONG : TERM_OK;
}

int term_read_password(struct strbuf *line, size_t max)
{
	struct termios old, quiet;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	int r = term_read_line(line, max);
	if (tty)
		tcsetattr(0, TCSAFLUSH, &old);
	return r;
}

int term_read_key(void)
{
	struct termios old, raw;
	fflush(stdout);
	if (isatty(0) && tcgetattr(0, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(0, TCSANOW, &raw);
		int c = getchar();
		tcsetattr(0, TCSANOW, &old);
		putchar('\n');
		return c == EOF ? -1 : c;
	}
	/* a pipe: the key is the first character of the next line */
	struct strbuf l = STRBUF_INIT;
	int r = term_read_line(&l, 64);
	int c = r == TERM_EOF ? -1 : l.len ? (unsigned char)l.s[0] : '\n';
	sb_free(&l);
	return c;
}
