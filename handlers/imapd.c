/* postern-imapd: one IMAP4rev1 session on fd 0/1.
 *
 * The loop reads one command through the incremental parser (literals are
 * checked against their limit before "+" is sent), looks it up in the
 * command table (state guard), runs it, then — at the command boundary —
 * brings the selected mailbox's view up to date with the disk and sends the
 * untagged changes before the tagged reply. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/imapd.h"
#include "log.h"
#include "peer.h"
#include "tls.h"

struct command {
	const char *name;
	int states;
	void (*fn)(struct imap_session *s, struct imap_cmd *c);
	unsigned flags;
};

enum {
	CMD_UID = 1 << 0,        /* also as "UID <name>" */
	CMD_NO_EXPUNGE = 1 << 1, /* no EXPUNGE responses at its end */
};

static const struct command commands[] = {
	{ "CAPABILITY", IMAP_ST_ANY, cmd_capability, 0 },
	{ "NOOP", IMAP_ST_ANY, cmd_noop, 0 },
	{ "LOGOUT", IMAP_ST_ANY, cmd_logout, 0 },
	{ "ID", IMAP_ST_ANY, cmd_id, 0 },
	{ "STARTTLS", IMAP_ST_NOAUTH, cmd_starttls, 0 },
	{ "LOGIN", IMAP_ST_NOAUTH, cmd_login, 0 },
	{ "AUTHENTICATE", IMAP_ST_NOAUTH, cmd_authenticate, 0 },
	{ "NAMESPACE", IMAP_ST_LOGGED_IN, cmd_namespace, 0 },
	{ "SELECT", IMAP_ST_LOGGED_IN, cmd_select, 0 },
	{ "EXAMINE", IMAP_ST_LOGGED_IN, cmd_select, 0 },
	{ "CREATE", IMAP_ST_LOGGED_IN, cmd_create, 0 },
	{ "DELETE", IMAP_ST_LOGGED_IN, cmd_delete, 0 },
	{ "RENAME", IMAP_ST_LOGGED_IN, cmd_rename, 0 },
	{ "SUBSCRIBE", IMAP_ST_LOGGED_IN, cmd_subscribe, 0 },
	{ "UNSUBSCRIBE", IMAP_ST_LOGGED_IN, cmd_subscribe, 0 },
	{ "LIST", IMAP_ST_LOGGED_IN, cmd_list, 0 },
	{ "LSUB", IMAP_ST_LOGGED_IN, cmd_list, 0 },
	{ "STATUS", IMAP_ST_LOGGED_IN, cmd_status, 0 },
	{ "APPEND", IMAP_ST_LOGGED_IN, cmd_append, 0 },
	{ "CHECK", IMAP_ST_SELECTED, cmd_noop, 0 },
	{ "CLOSE", IMAP_ST_SELECTED, cmd_close, 0 },
	{ "UNSELECT", IMAP_ST_SELECTED, cmd_unselect, 0 },
	{ "EXPUNGE", IMAP_ST_SELECTED, cmd_expunge, CMD_UID },
	{ "SEARCH", IMAP_ST_SELECTED, cmd_search, CMD_UID | CMD_NO_EXPUNGE },
	{ "FETCH", IMAP_ST_SELECTED, cmd_fetch, CMD_UID | CMD_NO_EXPUNGE },
	{ "STORE", IMAP_ST_SELECTED, cmd_store, CMD_UID | CMD_NO_EXPUNGE },
	{ "COPY", IMAP_ST_SELECTED, cmd_copy, CMD_UID },
	{ "MOVE", IMAP_ST_SELECTED, cmd_move, CMD_UID },
	{ "IDLE", IMAP_ST_LOGGED_IN, cmd_idle, 0 },
	{ "ENABLE", IMAP_ST_LOGGED_IN, cmd_enable, 0 },
};

/* Strings may hold NUL only in APPEND's message literal (the last
 * argument); anywhere else a NUL would silently cut a name short. */
static bool has_nul(const struct imap_arg *a, size_t n, bool allow_last)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST && has_nul(a[i].list, a[i].list_n, false))
			return true;
		if (a[i].str && strlen(a[i].str) != a[i].len && !(allow_last && i == n - 1))
			return true;
	}
	return false;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void bye(struct imap_session *s, const char *why)
{
	io_printf(&s->io, "* BYE %s\r\n", why);
	io_flush(&s->io);
}

/* Run one parsed command. */
static void dispatch(struct imap_session *s)
{
	struct imap_parser *p = &s->parser;
	struct imap_cmd c;
	memset(&c, 0, sizeof c);
	c.tag = p->tag;
	const struct imap_arg *name = &p->args[0];
	const struct command *cmd = NULL;
	c.args = p->args + 1;
	c.nargs = p->nargs - 1;

	if (name->type != IMAP_ARG_ATOM) {
		cmd_reply(&c, "BAD Invalid command name");
	} else if (strcasecmp(name->str, "UID") == 0) {
		if (c.nargs == 0 || c.args[0].type != IMAP_ARG_ATOM) {
			cmd_reply(&c, "BAD UID needs a command");
		} else {
			cmd = find_command(c.args[0].str);
			if (!cmd || !(cmd->flags & CMD_UID)) {
				cmd_reply(&c, "BAD Unknown UID command");
				cmd = NULL;
			} else {
				c.uid = true;
				snprintf(c.name, sizeof c.name, "UID %s", cmd->name);
				c.args++;
				c.nargs--;
			}
		}
	} else {
		cmd = find_command(name->str);
		if (!cmd)
			cmd_reply(&c, "BAD Unknown command");
		else
			snprintf(c.name, sizeof c.name, "%s", cmd->name);
	}
	if (cmd && !(cmd->states & s->state)) {
		cmd_reply(&c, "BAD %s", s->state == IMAP_ST_NOAUTH ? "Log in first" :
				 cmd->states == IMAP_ST_SELECTED ? "No mailbox selected" :
								  "Already logged in");
		cmd = NULL;
	}
	if (cmd && has_nul(c.args, c.nargs, cmd->fn == cmd_append)) {
		cmd_reply(&c, "BAD NUL octet in a string argument");
		cmd = NULL;
	}
	if (cmd) {
		c.no_expunge = (cmd->flags & CMD_NO_EXPUNGE) != 0;
		/* commands that go through many messages of the selected
		 * mailbox open its new/ and cur/ once, not per message */
		bool hold = s->view && (cmd->fn == cmd_fetch || cmd->fn == cmd_store ||
					cmd->fn == cmd_search);
		if (hold)
			maildir_hold_dirs(s->view->dir);
		cmd->fn(s, &c);
		if (hold)
			maildir_hold_dirs(NULL);
	}
	if (!c.result[0])
		cmd_reply(&c, "OK %s completed.", c.name);
	if (s->view && !s->logout && strncmp(c.result, "BAD", 3) != 0)
		view_sync(s, !c.no_expunge);
	if (s->view)
		view_cache_flush(s->view);
	if (strncmp(c.result, "BAD", 3) == 0)
		s->bad_in_row++;
	else
		s->bad_in_row = 0;
	if (!c.replied)
		io_printf(&s->io, "%s %s\r\n", c.tag, c.result);
	if (s->bad_in_row >= IMAP_MAX_BAD_IN_ROW) {
		bye(s, "Too many invalid commands.");
		s->logout = true;
	} else if (++s->commands >= IMAP_MAX_COMMANDS && !s->logout) {
		bye(s, "Too many commands in one session; please reconnect.");
		s->logout = true;
	}
}

static bool is_append(const struct imap_parser *p)
{
	return p->stack[0].n > 0 && p->stack[0].a[0].type == IMAP_ARG_ATOM &&
	       strcasecmp(p->stack[0].a[0].str, "APPEND") == 0;
}

/* Bound a literal by the command it belongs to; all literals of one
 * command together get one more literal's worth on top. */
static bool literal_ok(const struct imap_session *s, uint64_t so_far)
{
	const struct imap_parser *p = &s->parser;
	uint64_t limit = is_append(p) ? s->cfg.max_message_size : IMAP_LITERAL_MAX;
	return p->literal_size <= limit && so_far + p->literal_size <= limit + IMAP_LITERAL_MAX;
}

/* Read and run commands until LOGOUT, EOF or a fatal condition. */
static void session_loop(struct imap_session *s)
{
	struct imap_parser *p = &s->parser;
	static char chunk[65536];
	uint64_t literals = 0; /* octets of literals in this command */
	while (!s->logout) {
		int ch = io_getc(&s->io);
		if (ch == IO_TIMEOUT) {
			bye(s, "Autologout; idle for too long");
			log_info("timeout");
			return;
		}
		if (ch < 0) {
			log_info("disconnected");
			return;
		}
		unsigned char b = (unsigned char)ch;
		size_t used;
		enum imap_parse_result r = imap_parser_feed(p, &b, 1, &used);
		switch (r) {
		case IMAP_PARSE_MORE:
			if (imap_parser_idle(p))
				literals = 0;
			break;
		case IMAP_PARSE_ERROR:
			io_printf(&s->io, "%s BAD %s\r\n", p->tag, p->error);
			if (++s->bad_in_row >= IMAP_MAX_BAD_IN_ROW) {
				bye(s, "Too many invalid commands.");
				return;
			}
			break;
		case IMAP_PARSE_LITERAL:
			if (!literal_ok(s, literals)) {
				if (is_append(p))
					io_printf(&s->io, "%s NO [TOOBIG] Message too large\r\n", p->tag);
				else
					io_printf(&s->io, "%s BAD Literal too large\r\n", p->tag);
				imap_parser_literal_refuse(p);
				break;
			}
			literals += p->literal_size;
			imap_parser_literal_accept(p);
			if (p->literal_sync) {
				io_puts(&s->io, "+ Ready for literal data\r\n");
				io_flush(&s->io);
			}
			/* The octets go straight into the parser. */
			for (uint64_t left = p->literal_size; left > 0;) {
				size_t n = left > sizeof chunk ? sizeof chunk : (size_t)left;
				int rr = io_read_exact(&s->io, chunk, n);
				if (rr == IO_TIMEOUT) {
					bye(s, "Autologout; idle for too long");
					return;
				}
				if (rr != IO_OK) {
					log_info("disconnected in a literal");
					return;
				}
				if (imap_parser_feed(p, chunk, n, &used) == IMAP_PARSE_ERROR)
					io_printf(&s->io, "%s BAD %s\r\n", p->tag, p->error);
				left -= n;
			}
			break;
		case IMAP_PARSE_DONE:
			dispatch(s);
			imap_parser_reset(p);
			literals = 0;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static struct imap_session sess;
	struct imap_session *s = &sess;
	bool tls = false;

	log_init("imap");
	config_defaults(&s->cfg);
	if (config_from_args(&s->cfg, argc, argv, &tls) < 0)
		return 111;
	const char *peer = peer_address();
	s->peer = peer;
	log_set_peer(peer);
	io_init(&s->io, 0, 1, s->cfg.imap_timeout);
	if (tls && tls_server_start(&s->io, &s->cfg) < 0)
		return 111;
	s->tls = tls;
	s->state = IMAP_ST_NOAUTH;
	imap_parser_init(&s->parser);
	log_info("connect from %s", peer);

	struct strbuf caps = STRBUF_INIT;
	imap_capabilities(s, &caps);
	io_printf(&s->io, "* OK [CAPABILITY %s] %s Postern IMAP ready.\r\n", caps.s, s->cfg.hostname);
	sb_free(&caps);

	session_loop(s);

	io_flush(&s->io);
	tls_end(&s->io);
	if (s->view)
		view_free(s->view);
	imap_parser_free(&s->parser);
	log_info("session end in=%llu out=%llu", s->io.bytes_in, s->io.bytes_out);
	return 0;
}
