/* TRANSACTION state commands (RFC 1939 5., RFC 2449 TOP/UIDL). Each
 * writes exactly one reply; multi-line replies go through stuff.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "pop3.h"
#include "stuff.h"

/* The one argument of a command, or NULL after replying -ERR. */
static char *one_arg(struct pop3 *s, char **args, const char *syntax)
{
	char *a = pop3_next_arg(args);

	if (!a || pop3_next_arg(args)) {
		io_printf(s->io, "-ERR syntax: %s\r\n", syntax);
		return NULL;
	}
	return a;
}

int pop3_cmd_stat(struct pop3 *s, char *args)
{
	unsigned long n;
	unsigned long long octets;

	if (pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: STAT\r\n");
		return -1;
	}
	pop3_maildrop_stat(s, &n, &octets);
	io_printf(s->io, "+OK %lu %llu\r\n", n, octets);
	return 0;
}

/* LIST and UIDL: one line per message, or the whole list. */
static int list_or_uidl(struct pop3 *s, char *args, bool uidl)
{
	char *arg = pop3_next_arg(&args);
	const char *err;
	struct pop3_msg *m;
	size_t i;

	if (pop3_next_arg(&args)) {
		io_puts(s->io, uidl ? "-ERR syntax: UIDL [msg]\r\n" : "-ERR syntax: LIST [msg]\r\n");
		return -1;
	}
	if (arg) {
		m = pop3_msg_lookup(s, arg, &err);
		if (!m) {
			io_printf(s->io, "%s\r\n", err);
			return -1;
		}
		if (uidl)
			io_printf(s->io, "+OK %zu %08X%08X\r\n", (size_t)(m - s->msgs) + 1, m->uid,
				  s->uidvalidity);
		else
			io_printf(s->io, "+OK %zu %lld\r\n", (size_t)(m - s->msgs) + 1,
				  (long long)m->size);
		return 0;
	}
	if (uidl) {
		io_puts(s->io, "+OK unique-id listing follows\r\n");
	} else {
		unsigned long n;
		unsigned long long octets;

		pop3_maildrop_stat(s, &n, &octets);
		io_printf(s->io, "+OK %lu messages (%llu octets)\r\n", n, octets);
	}
	for (i = 0; i < s->nmsgs; i++) {
		m = &s->msgs[i];
		if (m->deleted)
			continue;
		/* UIDL: Dovecot's default %08Xu%08Xv, stable and shared with IMAP */
		if (uidl)
			io_printf(s->io, "%zu %08X%08X\r\n", i + 1, m->uid, s->uidvalidity);
		else
			io_printf(s->io, "%zu %lld\r\n", i + 1, (long long)m->size);
	}
	io_puts(s->io, ".\r\n");
	return 0;
}

int pop3_cmd_list(struct pop3 *s, char *args)
{
	return list_or_uidl(s, args, false);
}

int pop3_cmd_uidl(struct pop3 *s, char *args)
{
	return list_or_uidl(s, args, true);
}

static void emit_io(void *ctx, const void *buf, size_t len)
{
	io_write(ctx, buf, len);
}

/* Stream message M through the stuffer st after the +OK line. A read
 * error after +OK cannot be reported in the protocol: the session ends
 * without the terminating dot, so the client never takes a truncated
 * message for a whole one. */
static bool send_message(struct pop3 *s, struct pop3_msg *m, struct pop3_stuff *st,
			 const char *ok)
{
	char buf[65536];
	int fd = pop3_msg_open(s, m);

	if (fd < 0) {
		if (errno == ENOENT)
			io_puts(s->io, "-ERR message was removed by another session\r\n");
		else
			io_puts(s->io, "-ERR [SYS/TEMP] cannot read message\r\n");
		return false;
	}
	io_printf(s->io, "%s\r\n", ok);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("read(%s) failed: %m", m->name);
			s->closing = true;
			close(fd);
			return true;
		}
		if (n == 0 || !pop3_stuff_feed(st, buf, (size_t)n, emit_io, s->io))
			break;
		if (s->io->write_failed)
			break;
	}
	close(fd);
	pop3_stuff_end(st, emit_io, s->io);
	return true;
}

int pop3_cmd_retr(struct pop3 *s, char *args)
{
	char *arg = one_arg(s, &args, "RETR msg");
	struct pop3_stuff st;
	struct pop3_msg *m;
	const char *err;
	char ok[64];

	if (!arg)
		return -1;
	m = pop3_msg_lookup(s, arg, &err);
	if (!m) {
		io_printf(s->io, "%s\r\n", err);
		return -1;
	}
	snprintf(ok, sizeof ok, "+OK %lld octets", (long long)m->size);
	pop3_stuff_init(&st);
	if (send_message(s, m, &st, ok) && !m->retrieved) {
		m->retrieved = true;
		s->retrieved++;
	}
	return 0;
}

int pop3_cmd_top(struct pop3 *s, char *args)
{
	char *arg = pop3_next_arg(&args), *lines_arg = pop3_next_arg(&args);
	unsigned long lines;
	struct pop3_stuff st;
	struct pop3_msg *m;
	const char *err;

	if (!lines_arg || pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: TOP msg lines\r\n");
		return -1;
	}
	m = pop3_msg_lookup(s, arg, &err);
	if (!m) {
		io_printf(s->io, "%s\r\n", err);
		return -1;
	}
	if (!pop3_parse_ulong(lines_arg, 0, ~0UL, &lines)) {
		io_puts(s->io, "-ERR invalid number of lines\r\n");
		return -1;
	}
	pop3_stuff_init_top(&st, lines);
	send_message(s, m, &st, "+OK top of message follows");
	return 0;
}

int pop3_cmd_dele(struct pop3 *s, char *args)
{
	char *arg = one_arg(s, &args, "DELE msg");
	struct pop3_msg *m;
	const char *err;

	if (!arg)
		return -1;
	m = pop3_msg_lookup(s, arg, &err);
	if (!m) {
		io_printf(s->io, "%s\r\n", err);
		return -1;
	}
	m->deleted = true;
	s->deleted++;
	io_printf(s->io, "+OK message %zu deleted\r\n", (size_t)(m - s->msgs) + 1);
	return 0;
}

int pop3_cmd_rset(struct pop3 *s, char *args)
{
	unsigned long n;
	unsigned long long octets;
	size_t i;

	if (pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: RSET\r\n");
		return -1;
	}
	for (i = 0; i < s->nmsgs; i++)
		s->msgs[i].deleted = false;
	s->deleted = 0;
	pop3_maildrop_stat(s, &n, &octets);
	io_printf(s->io, "+OK maildrop has %lu messages (%llu octets)\r\n", n, octets);
	return 0;
}

int pop3_cmd_noop(struct pop3 *s, char *args)
{
	if (pop3_next_arg(&args)) {
		io_puts(s->io, "-ERR syntax: NOOP\r\n");
		return -1;
	}
	io_puts(s->io, "+OK\r\n");
	return 0;
}
