#include "interactive.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "compose.h"
#include "header.h"
#include "mailbox.h"
#include "show.h"
#include "smtp.h"
#include "term.h"

#define LINE_MAX_INPUT 4096        /* menu answers, credentials */
#define BODY_LINE_MAX 65536        /* one typed body line */
#define BODY_MAX (16u * 1024 * 1024)

enum { RUN_ON, RUN_QUIT };

static void prompt(const char *p)
{
	fputs(p, stdout);
	fflush(stdout);
}

/* "Field:" then blanks then the value with trailing blanks cut. */
static const char *field_value(const char *line, const char *field)
{
	size_t n = strlen(field);
	if (strncmp(line, field, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static bool copy_address(const char *v, char *out, size_t cap)
{
	size_t l = strlen(v);
	while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
		l--;
	if (l == 0 || l >= cap)
		return false;
	memcpy(out, v, l);
	out[l] = '\0';
	return addr_valid(out);
}

bool interactive_check_mail(char *const *lines, size_t n, char *from, char *to, size_t cap,
			    const char **subject)
{
	if (n < 3)
		return false;
	const char *f = field_value(lines[0], "From:");
	const char *t = field_value(lines[1], "To:");
	const char *s = field_value(lines[2], "Subject:");
	if (!f || !t || !s)
		return false;
	if (!copy_address(f, from, cap) || !copy_address(t, to, cap))
		return false;
	*subject = s;
	return true;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static int send_mail(struct mail_opts *o)
{
	printf("Type the mail: From:, To: and Subject: lines, then the body;\n"
	       "end it with a line holding a single '.'.\n");
	fflush(stdout);
	char **lines = NULL;
	size_t n = 0, total = 0;
	bool ended = false, toolong = false;
	struct strbuf l = STRBUF_INIT;
	for (;;) {
		int r = term_read_line(&l, BODY_LINE_MAX);
		if (r == TERM_EOF)
			break;
		if (r == TERM_TOOLONG)
			toolong = true;
		if (l.len == 1 && l.s[0] == '.') {
			ended = true;
			break;
		}
		total += l.len + 1;
		if (total > BODY_MAX) {
			toolong = true;
			continue;
		}
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = sb_steal(&l);
	}
	sb_free(&l);
	char from[256], to[256];
	const char *subject;
	if (!ended) {
		free_lines(lines, n);
		return RUN_QUIT;
	}
	if (toolong || !interactive_check_mail(lines, n, from, to, sizeof from, &subject)) {
		printf("Incorrect format\n");
		free_lines(lines, n);
		return RUN_ON;
	}
	struct strbuf body = STRBUF_INIT;
	for (size_t i = 3; i < n; i++) {
		sb_adds(&body, lines[i]);
		sb_addc(&body, '\n');
	}
	struct outgoing m;
	char err[MAIL_ERR_MAX];
	char *rcpt = to;
	if (compose_simple(&m, from, &rcpt, 1, subject, body.s ? body.s : "", body.len, err, sizeof err) < 0) {
		printf("Incorrect format\n");
	} else if (smtp_send(o, &m, err, sizeof err) == MAIL_OK) {
		printf("Mail sent successfully\n");
	} else {
		printf("Error in sending mail: %s\n", err);
	}
	outgoing_free(&m);
	sb_free(&body);
	free_lines(lines, n);
	return RUN_ON;
}

/* Parse a typed mail number; false when it is not an integer. */
static bool parse_number(const char *s, long *v)
{
	char *end;
	while (*s == ' ')
		s++;
	errno = 0;
	long n = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	if (end == s || *end != '\0' || errno == ERANGE)
		return false;
	*v = n;
	return true;
}

static void print_error(const char *what, const char *err)
{
	printf("%s: %s\n", what, err);
}

/* Read, show and maybe delete; RUN_QUIT at end of input. */
static int manage_mail(struct mail_opts *o)
{
	struct mailbox mb;
	enum mail_status st = mailbox_open(&mb, o);
	if (st != MAIL_OK) {
		print_error(st == MAIL_REFUSED ? "Login failed" : "Error", mb.err);
		return RUN_ON;
	}
	struct strbuf in = STRBUF_INIT, msg = STRBUF_INIT;
	int run = RUN_ON;
	bool reopen = false;
	for (;;) {
		if (reopen) {
			st = mailbox_open(&mb, o);
			reopen = false;
			if (st != MAIL_OK) {
				print_error("Error", mb.err);
				break;
			}
		}
		struct mail_summary *list;
		size_t n;
		st = mailbox_list(&mb, &list, &n);
		if (st != MAIL_OK) {
			print_error("Error", mb.err);
			break;
		}
		show_list(stdout, list, n);
		mailbox_free_list(list, n);
		long num = 0;
		for (;;) {
			prompt("Enter mail no. to see: ");
			int r = term_read_line(&in, LINE_MAX_INPUT);
			if (r == TERM_EOF) {
				run = RUN_QUIT;
				break;
			}
			if (r == TERM_OK && parse_number(in.s, &num) &&
			    (num == -1 || (num >= 1 && (unsigned long)num <= n)))
				break;
			printf("Mail no. out of range, give again\n");
		}
		if (run == RUN_QUIT || num == -1)
			break;
		st = mailbox_fetch(&mb, (unsigned)num, &msg);
		if (st != MAIL_OK) {
			print_error("Error", mb.err);
			break;
		}
		show_message(stdout, msg.s ? msg.s : "", msg.len);
		prompt("Press d to delete this mail, any other key to see the list: ");
		int key = term_read_key();
		if (key < 0) {
			run = RUN_QUIT;
			break;
		}
		if (key == 'd') {
			st = mailbox_delete(&mb, (unsigned)num);
			if (st != MAIL_OK) {
				print_error("Error in deleting mail", mb.err);
				break;
			}
			printf("Mail deleted\n");
			reopen = true;
		}
	}
	mailbox_close(&mb);
	sb_free(&in);
	sb_free(&msg);
	return run;
}

int interactive_run(struct mail_opts *o)
{
	struct strbuf user = STRBUF_INIT, pass = STRBUF_INIT, in = STRBUF_INIT;
	int rc = 0;
	prompt("Username: ");
	if (term_read_line(&user, LINE_MAX_INPUT) != TERM_OK)
		goto out;
	prompt("Password: ");
	if (term_read_password(&pass, LINE_MAX_INPUT) != TERM_OK)
		goto out;
	o->user = user.s ? user.s : "";
	o->pass = pass.s ? pass.s : "";
	if (!user.len || strchr(o->user, ' ') || has_ctl(o->user) || has_ctl(o->pass)) {
		printf("Invalid username or password\n");
		rc = MAIL_USAGE;
		goto out;
	}
	for (;;) {
		prompt("1. Manage Mail\n2. Send Mail\n3. Quit\nEnter your choice: ");
		int r = term_read_line(&in, LINE_MAX_INPUT);
		if (r == TERM_EOF)
			break;
		int run;
		if (r == TERM_OK && strcmp(in.s, "1") == 0)
			run = manage_mail(o);
		else if (r == TERM_OK && strcmp(in.s, "2") == 0)
			run = send_mail(o);
		else if (r == TERM_OK && strcmp(in.s, "3") == 0)
			run = RUN_QUIT;
		else {
			printf("Invalid choice, give 1, 2 or 3\n");
			run = RUN_ON;
		}
		if (run == RUN_QUIT)
			break;
	}
out:
	if (pass.s)
		explicit_bzero(pass.s, pass.cap);
	o->user = o->pass = NULL;
	sb_free(&user);
	sb_free(&pass);
	sb_free(&in);
	fflush(stdout);
	return rc;
}
