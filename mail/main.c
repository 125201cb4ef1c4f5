/* postern-mail: a mail user agent. Interactive when only SERVER is given,
 * scriptable with a command (send, list, read N, delete N). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "header.h"
#include "interactive.h"
#include "options.h"
#include "script.h"
#include "status.h"
#include "strbuf.h"

#define MAX_ARGS_TO 1000

static const char usage_text[] =
	"usage: postern-mail [options] SERVER                 interactive\n"
	"       postern-mail [options] SERVER send [-s SUBJECT] [-t ADDR]... [ADDR]...\n"
	"       postern-mail [options] SERVER send -t         recipients from the headers\n"
	"       postern-mail [options] SERVER list [--json]\n"
	"       postern-mail [options] SERVER read N [--raw]\n"
	"       postern-mail [options] SERVER delete N\n"
	"options:\n"
	"  --imap               manage mail over IMAP instead of POP3\n"
	"  --tls                use STARTTLS (STLS on POP3); fail if not offered\n"
	"  --tls-implicit       TLS from the first byte (default ports 465/995/993)\n"
	"  --ca-file FILE       also trust the CA certificates in FILE\n"
	"  --no-verify          do not verify the server certificate (testing only)\n"
	"  --smtp-port N        default 25\n"
	"  --pop3-port N        default 110\n"
	"  --imap-port N        default 143\n"
	"  --timeout SECONDS    give up on a silent server (default 60)\n"
	"  --user NAME          log in as NAME; the password comes from\n"
	"                       $POSTERN_PASSWORD or --password-file FILE\n"
	"  --password-file FILE read the password from the first line of FILE\n"
	"  --from ADDR          sender (send)\n"
	"  --helo NAME          name given in EHLO (default: this host's name)\n"
	"  -s, --subject TEXT   subject (send)\n"
	"  -t, --to ADDR        recipient (send; repeatable); -t alone takes the\n"
	"                       recipients from To/Cc/Bcc of the message on stdin\n"
	"  --json               list as JSON\n"
	"  --raw                read: print the message with CRLF line ends\n"
	"  -h, --help           this text\n"
	"exit status: 0 ok, 1 usage, 2 the server said no (or authentication\n"
	"failed), 3 connection or protocol failure.\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "postern-mail: %s\n", why);
	fputs(usage_text, stderr);
	return MAIL_USAGE;
}

static bool parse_port(const char *s, unsigned *p)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v == 0 || v > 65535)
		return false;
	*p = (unsigned)v;
	return true;
}

static bool parse_num(const char *s, unsigned *n)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno || v == 0 || v > 0xffffffffUL)
		return false;
	*n = (unsigned)v;
	return true;
}

/* First line of FILE, without its line end; NULL (message printed) on
 * error. */
static char *read_password_file(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "postern-mail: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	char buf[1024];
	char *p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (!p) {
		fprintf(stderr, "postern-mail: %s: empty\n", file);
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	char *r = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return r;
}

static bool clean_name(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ' ')
			return false;
	return true;
}

struct cli {
	struct mail_opts o;
	struct send_args send;
	const char *pos[3];    /* SERVER, COMMAND, N */
	size_t npos;
	const char *password_file;
	bool json, raw, help;
	bool ports_set[3];
};

static int parse_args(struct cli *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG() do { if (!next) return usage("option needs an argument"); i++; } while (0)
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			c->help = true;
		} else if (strcmp(a, "--imap") == 0) {
			c->o.imap = true;
		} else if (strcmp(a, "--tls") == 0) {
			c->o.tls = TLS_STARTTLS;
		} else if (strcmp(a, "--tls-implicit") == 0) {
			c->o.tls = TLS_IMPLICIT;
		} else if (strcmp(a, "--no-verify") == 0) {
			c->o.tls_verify = false;
		} else if (strcmp(a, "--ca-file") == 0) {
			NEED_ARG();
			c->o.ca_file = next;
		} else if (strcmp(a, "--smtp-port") == 0 || strcmp(a, "--pop3-port") == 0 ||
			   strcmp(a, "--imap-port") == 0) {
			NEED_ARG();
			int k = a[2] == 's' ? 0 : a[2] == 'p' ? 1 : 2;
			unsigned *p = k == 0 ? &c->o.smtp_port : k == 1 ? &c->o.pop3_port : &c->o.imap_port;
			if (!parse_port(next, p))
				return usage("bad port");
			c->ports_set[k] = true;
		} else if (strcmp(a, "--timeout") == 0) {
			NEED_ARG();
			if (!parse_num(next, &c->o.timeout_s))
				return usage("bad timeout");
		} else if (strcmp(a, "--user") == 0) {
			NEED_ARG();
			c->o.user = next;
		} else if (strcmp(a, "--password-file") == 0) {
			NEED_ARG();
			c->password_file = next;
		} else if (strcmp(a, "--password") == 0 || strncmp(a, "--password=", 11) == 0) {
			return usage("no password on the command line: use $POSTERN_PASSWORD or --password-file");
		} else if (strcmp(a, "--from") == 0 || strcmp(a, "-f") == 0) {
			NEED_ARG();
			c->send.from = next;
		} else if (strcmp(a, "--helo") == 0) {
			NEED_ARG();
			c->o.helo = next;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--subject") == 0) {
			NEED_ARG();
			c->send.subject = next;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--to") == 0) {
			/* "-t ADDR" names a recipient; "-t" alone means "from the
			 * headers", as sendmail -t */
			if (next && next[0] != '-' && strchr(next, '@')) {
				if (c->send.nto >= MAX_ARGS_TO)
					return usage("too many recipients");
				c->send.to[c->send.nto++] = argv[++i];
			} else if (strcmp(a, "--to") == 0) {
				return usage("--to needs an address");
			} else {
				c->send.to_from_headers = true;
			}
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--raw") == 0) {
			c->raw = true;
		} else if (strcmp(a, "--") == 0) {
			continue;
		} else if (a[0] == '-' && a[1] != '\0' && !(c->npos >= 2 && a[1] >= '0' && a[1] <= '9')) {
			fprintf(stderr, "postern-mail: unknown option %s\n", a);
			return usage(NULL);
		} else if (c->npos < 2 || (c->npos == 2 && strcmp(c->pos[1], "send") != 0)) {
			if (c->npos >= 3)
				return usage("too many arguments");
			c->pos[c->npos++] = a;
		} else if (strcmp(c->pos[1], "send") == 0) {
			/* extra arguments of send are recipients, as mail(1) */
			if (c->send.nto >= MAX_ARGS_TO)
				return usage("too many recipients");
			c->send.to[c->send.nto++] = argv[i];
		} else {
			return usage("too many arguments");
		}
#undef NEED_ARG
	}
	return MAIL_OK;
}

static int run(struct cli *c)
{
	const char *cmd = c->npos >= 2 ? c->pos[1] : NULL;
	if (c->o.user && !clean_name(c->o.user))
		return usage("bad user name");
	for (size_t i = 0; i < c->send.nto; i++)
		if (!addr_valid(c->send.to[i])) {
			fprintf(stderr, "postern-mail: bad recipient address: %s\n", c->send.to[i]);
			return MAIL_USAGE;
		}
	if (!cmd)
		return interactive_run(&c->o);
	bool is_send = strcmp(cmd, "send") == 0, is_list = strcmp(cmd, "list") == 0;
	bool is_read = strcmp(cmd, "read") == 0, is_delete = strcmp(cmd, "delete") == 0;
	if (!is_send && !is_list && !is_read && !is_delete)
		return usage("unknown command");
	unsigned num = 0;
	if (is_read || is_delete) {
		if (c->npos != 3 || !parse_num(c->pos[2], &num))
			return usage("give a message number (1, 2, ...)");
	} else if (c->npos != 2 && !is_send) {
		return usage("too many arguments");
	}
	if (!is_send && !c->o.user)
		return usage("give --user (the password in $POSTERN_PASSWORD or --password-file)");
	if (c->o.pass && has_ctl(c->o.pass)) {
		fprintf(stderr, "postern-mail: the password holds control characters\n");
		return MAIL_USAGE;
	}
	if (c->o.user && !c->o.pass) {
		fprintf(stderr, "postern-mail: --user needs $POSTERN_PASSWORD or --password-file\n");
		return MAIL_USAGE;
	}
	if (is_send) {
		if (!c->send.to_from_headers && c->send.nto == 0)
			return usage("give a recipient with -t ADDR, or -t alone for the headers' recipients");
		return script_send(&c->o, &c->send);
	}
	if (is_list)
		return script_list(&c->o, c->json);
	if (is_read)
		return script_read(&c->o, num, c->raw);
	return script_delete(&c->o, num);
}

int main(int argc, char **argv)
{
	/* a server that hangs up must not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	char host[256];
	if (gethostname(host, sizeof host) != 0 || !host[0] || !clean_name(host))
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	struct cli c = {
		.o = { .smtp_port = 25, .pop3_port = 110, .imap_port = 143, .tls_verify = true,
		       .timeout_s = 60, .helo = host },
	};
	c.send.to = xcalloc(MAX_ARGS_TO, sizeof *c.send.to);
	int rc = parse_args(&c, argc, argv);
	char *pass = NULL;
	if (rc != MAIL_OK)
		goto out;
	if (c.help) {
		fputs(usage_text, stdout);
		goto out;
	}
	if (c.npos < 1) {
		rc = usage("give the SERVER");
		goto out;
	}
	c.o.server = c.pos[0];
	if (c.o.tls == TLS_IMPLICIT) {
		if (!c.ports_set[0])
			c.o.smtp_port = 465;
		if (!c.ports_set[1])
			c.o.pop3_port = 995;
		if (!c.ports_set[2])
			c.o.imap_port = 993;
	}
	if (c.o.helo != host && !clean_name(c.o.helo)) {
		rc = usage("bad --helo name");
		goto out;
	}
	if (c.password_file) {
		pass = read_password_file(c.password_file);
		if (!pass) {
			rc = MAIL_USAGE;
			goto out;
		}
		c.o.pass = pass;
	} else if (getenv("POSTERN_PASSWORD")) {
		c.o.pass = getenv("POSTERN_PASSWORD");
	}
	rc = run(&c);
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	free(c.send.to);
	if (fflush(stdout) != 0 && rc == 0)
		rc = MAIL_FAILED;
	return rc;
}
