#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "compose.h"
#include "date.h"
#include "mailbox.h"
#include "smtp.h"

#define STDIN_MAX (64u * 1024 * 1024)

static void fail(const char *err)
{
	fprintf(stderr, "postern-mail: %s\n", err);
}

/* Read all of stdin, at most STDIN_MAX octets. */
static int read_stdin(struct strbuf *out)
{
	char buf[65536];
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r < 0) {
			fail("cannot read the message from stdin");
			return -1;
		}
		if (r == 0)
			return 0;
		if (out->len + (size_t)r > STDIN_MAX) {
			fail("message too large");
			return -1;
		}
		sb_add(out, buf, (size_t)r);
	}
}

enum mail_status script_send(const struct mail_opts *o, const struct send_args *a)
{
	struct strbuf in = STRBUF_INIT;
	if (read_stdin(&in) < 0) {
		sb_free(&in);
		return MAIL_USAGE;
	}
	struct outgoing m;
	char err[MAIL_ERR_MAX];
	int r;
	if (a->to_from_headers)
		r = compose_from_message(&m, in.s ? in.s : "", in.len, a->from, a->to, a->nto, true,
					 err, sizeof err);
	else if (!a->from)
		r = (snprintf(err, sizeof err, "give the sender with --from"), -1);
	else
		r = compose_simple(&m, a->from, a->to, a->nto, a->subject ? a->subject : "",
				   in.s ? in.s : "", in.len, err, sizeof err);
	sb_free(&in);
	if (r < 0) {
		fail(err);
		return MAIL_USAGE;
	}
	enum mail_status st = smtp_send(o, &m, err, sizeof err);
	if (st != MAIL_OK)
		fprintf(stderr, "postern-mail: Error in sending mail: %s\n", err);
	outgoing_free(&m);
	return st;
}

static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t l = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 :
		   (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (l == 0 || l > n || !utf8_valid((const char *)p, l))
		return 0;
	return l;
}

void json_string(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	sb_addc(out, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			sb_addc(out, '\\');
			sb_addc(out, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(out, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			sb_addc(out, (char)c);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				sb_adds(out, "\xef\xbf\xbd");
				i++;
			} else {
				sb_add(out, p + i, l);
				i += l;
			}
		}
	}
	sb_addc(out, '"');
}

static void print_list(const struct mail_summary *l, size_t n, bool json)
{
	struct strbuf o = STRBUF_INIT;
	if (json)
		sb_adds(&o, "[");
	for (size_t i = 0; i < n; i++) {
		char d[64] = "";
		if (l[i].has_date)
			date_format_iso(l[i].date, d, sizeof d);
		if (json) {
			sb_printf(&o, "%s\n {\"number\": %u, \"uid\": ", i ? "," : "", l[i].num);
			json_string(&o, l[i].uid);
			sb_adds(&o, ", \"from\": ");
			json_string(&o, l[i].from);
			sb_adds(&o, ", \"date\": ");
			if (l[i].has_date)
				json_string(&o, d);
			else
				sb_adds(&o, "null");
			sb_printf(&o, ", \"size\": %zu, \"subject\": ", l[i].size);
			json_string(&o, l[i].subject);
			sb_adds(&o, "}");
		} else {
			/* tab-separated: number, uid, from, date, subject */
			sb_printf(&o, "%u\t", l[i].num);
			sanitize_text(&o, l[i].uid, strlen(l[i].uid), false);
			sb_addc(&o, '\t');
			sanitize_text(&o, l[i].from, strlen(l[i].from), false);
			sb_printf(&o, "\t%s\t", l[i].has_date ? d : "-");
			sanitize_text(&o, l[i].subject, strlen(l[i].subject), false);
			sb_addc(&o, '\n');
		}
	}
	if (json)
		sb_adds(&o, n ? "\n]\n" : "]\n");
	fwrite(o.s ? o.s : "", 1, o.len, stdout);
	sb_free(&o);
}

enum mail_status script_list(const struct mail_opts *o, bool json)
{
	struct mailbox mb;
	enum mail_status st = mailbox_open(&mb, o);
	if (st == MAIL_OK) {
		struct mail_summary *l;
		size_t n;
		st = mailbox_list(&mb, &l, &n);
		if (st == MAIL_OK)
			print_list(l, n, json);
		mailbox_free_list(l, n);
	}
	if (st != MAIL_OK)
		fail(mb.err);
	mailbox_close(&mb);
	return st;
}

enum mail_status script_read(const struct mail_opts *o, unsigned num, bool raw)
{
	struct mailbox mb;
	struct strbuf msg = STRBUF_INIT;
	enum mail_status st = mailbox_open(&mb, o);
	if (st == MAIL_OK)
		st = mailbox_fetch(&mb, num, &msg);
	if (st == MAIL_OK) {
		if (raw) {
			fwrite(msg.s ? msg.s : "", 1, msg.len, stdout);
		} else {
			/* Unix text: CRLF -> LF */
			for (size_t i = 0; i < msg.len; i++)
				if (!(msg.s[i] == '\r' && i + 1 < msg.len && msg.s[i + 1] == '\n'))
					putchar(msg.s[i]);
		}
		if (fflush(stdout) != 0) {
			snprintf(mb.err, sizeof mb.err, "cannot write to stdout");
			st = MAIL_FAILED;
		}
	}
	if (st != MAIL_OK)
		fail(mb.err);
	mailbox_close(&mb);
	sb_free(&msg);
	return st;
}

enum mail_status script_delete(const struct mail_opts *o, unsigned num)
{
	struct mailbox mb;
	enum mail_status st = mailbox_open(&mb, o);
	if (st == MAIL_OK)
		st = mailbox_delete(&mb, num);
	if (st != MAIL_OK)
		fail(mb.err);
	mailbox_close(&mb);
	return st;
}
