/* postern-pop3d: one POP3 session (RFC 1939 with RFC 2449 CAPA, RFC 5034
 * AUTH and RFC 2595 STLS; --tls for POP3S) on fd 0/1. This file holds the
 * command loop, the command table with its state guard, CAPA and QUIT;
 * auth.c the AUTHORIZATION commands, stls.c STLS, cmd-transaction.c the
 * rest, maildrop.c the store. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "io.h"
#include "log.h"
#include "peer.h"
#include "pop3/pop3.h"
#include "tls.h"

static int cmd_capa(struct pop3 *s, char *args)
{
	(void)args;
	io_puts(s->io, "+OK capability list follows\r\n"
		       "TOP\r\n"
		       "UIDL\r\n"
		       "RESP-CODES\r\n"
		       "PIPELINING\r\n"
		       "AUTH-RESP-CODE\r\n"
		       /* true: no Postern program deletes mail by age */
		       "EXPIRE NEVER\r\n");
	if (s->state == POP3_AUTHORIZATION && pop3_stls_available(s))
		io_puts(s->io, "STLS\r\n");
	if (s->state == POP3_AUTHORIZATION && pop3_plaintext_allowed(s))
		io_puts(s->io, "USER\r\nSASL PLAIN\r\n");
	io_puts(s->io, "IMPLEMENTATION Postern\r\n.\r\n");
	return 0;
}

static int cmd_quit(struct pop3 *s, char *args)
{
	unsigned long failed;

	(void)args;
	s->closing = true;
	if (s->state != POP3_TRANSACTION) {
		io_puts(s->io, "+OK Postern POP3 server signing off\r\n");
		return 0;
	}
	/* UPDATE state: the only place where the maildrop changes */
	failed = pop3_maildrop_update(s);
	log_info("quit: user=%s retrieved=%lu deleted=%lu removed=%lu", s->user.name,
		 s->retrieved, s->deleted, s->deleted - failed);
	pop3_maildrop_close(s);
	if (failed)
		io_puts(s->io, "-ERR some deleted messages not removed\r\n");
	else
		io_printf(s->io, "+OK Postern POP3 server signing off (%lu messages deleted)\r\n",
			  s->deleted);
	return 0;
}

static const struct pop3_command {
	const char *name;
	unsigned states;
	pop3_cmd_fn *fn;
} commands[] = {
	{ "CAPA", POP3_AUTHORIZATION | POP3_TRANSACTION, cmd_capa },
	{ "QUIT", POP3_AUTHORIZATION | POP3_TRANSACTION, cmd_quit },
	{ "USER", POP3_AUTHORIZATION, pop3_cmd_user },
	{ "PASS", POP3_AUTHORIZATION, pop3_cmd_pass },
	{ "APOP", POP3_AUTHORIZATION, pop3_cmd_apop },
	{ "AUTH", POP3_AUTHORIZATION, pop3_cmd_auth },
	{ "STLS", POP3_AUTHORIZATION, pop3_cmd_stls },
	{ "STAT", POP3_TRANSACTION, pop3_cmd_stat },
	{ "LIST", POP3_TRANSACTION, pop3_cmd_list },
	{ "RETR", POP3_TRANSACTION, pop3_cmd_retr },
	{ "DELE", POP3_TRANSACTION, pop3_cmd_dele },
	{ "RSET", POP3_TRANSACTION, pop3_cmd_rset },
	{ "NOOP", POP3_TRANSACTION, pop3_cmd_noop },
	{ "TOP", POP3_TRANSACTION, pop3_cmd_top },
	{ "UIDL", POP3_TRANSACTION, pop3_cmd_uidl },
};

static const struct pop3_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Run one command line. Returns 0, or -1 for a bad command. */
static int dispatch(struct pop3 *s, char *line, size_t len)
{
	const struct pop3_command *cmd;
	char *args;

	if (memchr(line, '\0', len)) {
		io_puts(s->io, "-ERR unknown command\r\n");
		return -1;
	}
	args = strchr(line, ' ');
	if (args)
		*args++ = '\0';
	else
		args = line + len;
	cmd = find_command(line);
	if (!cmd) {
		io_puts(s->io, "-ERR unknown command\r\n");
		return -1;
	}
	if (!(cmd->states & s->state)) {
		if (s->state == POP3_AUTHORIZATION)
			io_printf(s->io, "-ERR %s is not valid before login\r\n", cmd->name);
		else
			io_printf(s->io, "-ERR %s is not valid after login\r\n", cmd->name);
		return -1;
	}
	return cmd->fn(s, args);
}

static void session(struct pop3 *s)
{
	char line[POP3_LINE_MAX];
	unsigned long ncommands = 0, limit;
	unsigned bad = 0;

	io_printf(s->io, "+OK POP3 server ready %s\r\n", s->timestamp);
	while (!s->closing) {
		size_t len;
		int r = io_getline(s->io, line, sizeof line, &len, NULL);

		if (r == IO_TIMEOUT) {
			log_info("idle timeout: user=%s, closing without UPDATE",
				 s->user.name[0] ? s->user.name : "-");
			io_puts(s->io, "-ERR autologout; idle for too long\r\n");
			break;
		}
		if (r == IO_EOF || r == IO_ERROR) {
			log_info("disconnected without QUIT: user=%s, nothing deleted",
				 s->user.name[0] ? s->user.name : "-");
			break;
		}
		limit = POP3_COMMANDS_BASE + POP3_COMMANDS_PER_MSG * s->nmsgs;
		if (++ncommands > limit) {
			log_warn("too many commands (%lu), closing", limit);
			io_puts(s->io, "-ERR too many commands\r\n");
			break;
		}
		if (r == IO_TOOLONG) {
			io_puts(s->io, "-ERR line too long\r\n");
			r = -1;
		} else {
			r = dispatch(s, line, len);
		}
		explicit_bzero(line, sizeof line); /* passwords */
		bad = r < 0 ? bad + 1 : 0;
		if (bad >= POP3_MAX_BAD_COMMANDS) {
			log_warn("too many bad commands in a row, closing");
			break;
		}
	}
	io_flush(s->io);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	static struct io io;
	struct pop3 s = { .cfg = &cfg, .io = &io, .state = POP3_AUTHORIZATION, .lock_fd = -1 };
	bool tls = false;

	signal(SIGPIPE, SIG_IGN); /* a vanished client is a write error, not a kill */
	log_init("pop3");
	log_set_peer(peer_address());
	if (config_from_args(&cfg, argc, argv, &tls) < 0) {
		static const char msg[] = "-ERR [SYS/TEMP] server configuration error\r\n";
		if (write(1, msg, sizeof msg - 1) < 0) {
			/* nobody to tell; the error is logged */
		}
		return 111;
	}
	snprintf(s.timestamp, sizeof s.timestamp, "<%ld.%lld@%s>", (long)getpid(),
		 (long long)time(NULL), cfg.hostname);
	io_init(&io, 0, 1, cfg.pop3_timeout);
	/* --tls: POP3S (port 995), TLS from the first byte; a failed
	 * handshake leaves no channel to say anything on */
	if (tls && tls_server_start(&io, &cfg) < 0)
		return 111;
	s.tls = tls;
	log_info("connect: peer=%s%s", peer_address(), tls ? " tls=yes" : "");
	session(&s);
	pop3_maildrop_close(&s);
	tls_end(&io);
	return 0;
}
