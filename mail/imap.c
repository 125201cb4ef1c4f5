/* IMAP back end of mailbox.h (RFC 3501): LOGIN, SELECT INBOX, FETCH
 * (UID RFC822.SIZE INTERNALDATE ENVELOPE) for the list, FETCH BODY[],
 * STORE +FLAGS (\Deleted) + EXPUNGE, LOGOUT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "date.h"
#include "imapresp.h"
#include "mailbox.h"
#include "client-tls.h"

/* Called for each untagged response of a command. */
typedef void (*untagged_fn)(struct mailbox *mb, struct imap_resp *r, void *ctx);

static void set_text_err(struct mailbox *mb, const char *s, size_t len)
{
	struct strbuf t = STRBUF_INIT;
	size_t l = strcspn(s, "\r\n");
	sanitize_text(&t, s, l < len ? l : len, false);
	snprintf(mb->err, sizeof mb->err, "%s", t.s ? t.s : "");
	sb_free(&t);
}

/* Read responses until the tagged one for TAG (NULL: the greeting). */
static enum mail_status wait_tagged(struct mailbox *mb, const char *tag, untagged_fn fn, void *ctx)
{
	struct imap_resp r = { 0 };
	enum mail_status st = MAIL_FAILED;
	size_t tl = tag ? strlen(tag) : 0;
	for (;;) {
		int rc = imapresp_read(&mb->c, &r, MAILBOX_MAX_MESSAGE_SIZE);
		if (rc != CONN_OK) {
			snprintf(mb->err, sizeof mb->err, "%s", conn_strerror(rc));
			break;
		}
		const char *s = r.raw.s;
		if (!tag) {
			if (strncasecmp(s, "* OK", 4) == 0 || strncasecmp(s, "* PREAUTH", 9) == 0) {
				st = MAIL_OK;
			} else {
				set_text_err(mb, s, r.raw.len);
				st = strncasecmp(s, "* BYE", 5) == 0 ? MAIL_REFUSED : MAIL_FAILED;
			}
			break;
		}
		if (strncmp(s, tag, tl) == 0 && s[tl] == ' ') {
			const char *t = s + tl + 1;
			if (strncasecmp(t, "OK", 2) == 0) {
				st = MAIL_OK;
			} else if (strncasecmp(t, "NO", 2) == 0 || strncasecmp(t, "BAD", 3) == 0) {
				set_text_err(mb, t, r.raw.len - tl - 1);
				st = MAIL_REFUSED;
			} else {
				set_text_err(mb, s, r.raw.len);
				st = MAIL_FAILED;
			}
			break;
		}
		if (s[0] == '*' && s[1] == ' ') {
			if (strncasecmp(s, "* BYE", 5) == 0)
				set_text_err(mb, s, r.raw.len);
			else if (fn && imapresp_parse(&r) == 0)
				fn(mb, &r, ctx);
			continue;
		}
		/* "+" continuations are never asked for: we send no literals */
		struct strbuf t = STRBUF_INIT;
		sb_adds(&t, "unexpected IMAP response: ");
		sanitize_text(&t, s, strcspn(s, "\r\n"), false);
		snprintf(mb->err, sizeof mb->err, "%s", t.s);
		sb_free(&t);
		break;
	}
	imapresp_free(&r);
	return st;
}

/* Send "<tag> <command>" and wait for its completion. The command text
 * is passed whole (callers quote their arguments). */
static enum mail_status command(struct mailbox *mb, const char *text, untagged_fn fn, void *ctx)
{
	char tag[16];
	snprintf(tag, sizeof tag, "a%u", ++mb->imap_tag);
	conn_printf(&mb->c, "%s ", tag);
	conn_puts(&mb->c, text);
	conn_puts(&mb->c, "\r\n");
	return wait_tagged(mb, tag, fn, ctx);
}

/* Append an IMAP quoted string (s holds no CR, LF or 8-bit octets). */
static void add_quoted(struct strbuf *out, const char *s)
{
	sb_addc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_addc(out, '\\');
		sb_addc(out, *s);
	}
	sb_addc(out, '"');
}

static void capability_cb(struct mailbox *mb, struct imap_resp *r, void *ctx)
{
	bool *starttls = ctx;
	(void)mb;
	if (r->n < 2 || strcasecmp(iv_str(r, 1), "CAPABILITY") != 0)
		return;
	for (size_t i = 2; i < r->n; i++)
		if (r->v[i].type == IV_ATOM && strcasecmp(iv_str(r, i), "STARTTLS") == 0)
			*starttls = true;
}

static void exists_cb(struct mailbox *mb, struct imap_resp *r, void *ctx)
{
	(void)ctx;
	if (r->n >= 3 && strcasecmp(iv_str(r, 2), "EXISTS") == 0) {
		char *end;
		unsigned long n = strtoul(iv_str(r, 1), &end, 10);
		if (*end == '\0' && n <= MAILBOX_MAX_MESSAGES)
			mb->count = (unsigned)n;
	}
}

/* Wait for the "+" that asks for a synchronizing literal; a tagged reply
 * instead is a refusal. */
static enum mail_status wait_continuation(struct mailbox *mb, const char *tag)
{
	struct imap_resp r = { 0 };
	enum mail_status st = MAIL_FAILED;
	size_t tl = strlen(tag);
	for (;;) {
		int rc = imapresp_read(&mb->c, &r, 0);
		if (rc != CONN_OK) {
			snprintf(mb->err, sizeof mb->err, "%s", conn_strerror(rc));
			break;
		}
		const char *s = r.raw.s;
		if (s[0] == '+') {
			st = MAIL_OK;
			break;
		}
		if (s[0] == '*')
			continue;
		if (strncmp(s, tag, tl) == 0 && s[tl] == ' ') {
			set_text_err(mb, s + tl + 1, r.raw.len - tl - 1);
			st = MAIL_REFUSED;
		} else {
			set_text_err(mb, s, r.raw.len);
		}
		break;
	}
	imapresp_free(&r);
	return st;
}

/* LOGIN with quoted strings, or with literals when the name or password
 * holds octets a quoted string may not carry (8-bit, CR, LF). */
static enum mail_status login(struct mailbox *mb)
{
	const char *user = mb->o->user, *pass = mb->o->pass ? mb->o->pass : "";
	bool literal = has_8bit(user, strlen(user)) || has_8bit(pass, strlen(pass)) ||
		       strpbrk(user, "\r\n") || strpbrk(pass, "\r\n");
	if (!literal) {
		struct strbuf cmd = STRBUF_INIT;
		sb_adds(&cmd, "LOGIN ");
		add_quoted(&cmd, user);
		sb_addc(&cmd, ' ');
		add_quoted(&cmd, pass);
		enum mail_status st = command(mb, cmd.s, NULL, NULL);
		explicit_bzero(cmd.s, cmd.len);
		sb_free(&cmd);
		return st;
	}
	char tag[16];
	snprintf(tag, sizeof tag, "a%u", ++mb->imap_tag);
	conn_printf(&mb->c, "%s LOGIN {%zu}\r\n", tag, strlen(user));
	enum mail_status st = wait_continuation(mb, tag);
	if (st != MAIL_OK)
		return st;
	conn_puts(&mb->c, user);
	conn_printf(&mb->c, " {%zu}\r\n", strlen(pass));
	st = wait_continuation(mb, tag);
	if (st != MAIL_OK)
		return st;
	conn_puts(&mb->c, pass);
	conn_puts(&mb->c, "\r\n");
	return wait_tagged(mb, tag, NULL, NULL);
}

enum mail_status imap_open(struct mailbox *mb)
{
	const struct mail_opts *o = mb->o;
	if (client_connect(&mb->c, o, o->imap_port, mb->err, sizeof mb->err) < 0)
		return MAIL_FAILED;
	enum mail_status st = wait_tagged(mb, NULL, NULL, NULL);
	if (st != MAIL_OK)
		return st;
	if (o->tls == TLS_STARTTLS) {
		bool starttls = false;
		st = command(mb, "CAPABILITY", capability_cb, &starttls);
		if (st != MAIL_OK)
			return st;
		if (!starttls) {
			snprintf(mb->err, sizeof mb->err, "the server does not offer STARTTLS");
			return MAIL_FAILED;
		}
		st = command(mb, "STARTTLS", NULL, NULL);
		if (st != MAIL_OK)
			return st;
		if (client_tls_start(&mb->c, o, mb->err, sizeof mb->err) < 0)
			return MAIL_FAILED;
	}
	st = login(mb);
	if (mb->c.wbuf.s)
		explicit_bzero(mb->c.wbuf.s, mb->c.wbuf.cap);
	if (st != MAIL_OK)
		return st;
	return command(mb, "SELECT INBOX", exists_cb, NULL);
}

/* Fill a summary from the items of "* n FETCH (...)". */
static void fetch_summary_cb(struct mailbox *mb, struct imap_resp *r, void *ctx)
{
	struct mail_summary *list = ctx;
	if (r->n < 4 || strcasecmp(iv_str(r, 2), "FETCH") != 0 || r->v[3].type != IV_LIST)
		return;
	unsigned long n = strtoul(iv_str(r, 1), NULL, 10);
	if (n < 1 || n > mb->count)
		return;
	struct mail_summary *s = &list[n - 1];
	time_t env_date = 0;
	bool have_env_date = false;
	for (size_t k = 0;; k += 2) {
		size_t name = iv_child(r, 3, k), val = iv_child(r, 3, k + 1);
		if (name == (size_t)-1 || val == (size_t)-1)
			break;
		const char *key = iv_str(r, name);
		const struct ival *v = &r->v[val];
		if (strcasecmp(key, "UID") == 0 && v->type == IV_ATOM) {
			snprintf(s->uid, sizeof s->uid, "%s", iv_str(r, val));
		} else if (strcasecmp(key, "RFC822.SIZE") == 0 && v->type == IV_ATOM) {
			s->size = strtoul(iv_str(r, val), NULL, 10);
		} else if (strcasecmp(key, "INTERNALDATE") == 0 && v->type == IV_STRING) {
			s->has_date = date_parse_imap(iv_str(r, val), &s->date);
		} else if (strcasecmp(key, "ENVELOPE") == 0 && v->type == IV_LIST) {
			size_t date = iv_child(r, val, 0), subj = iv_child(r, val, 1);
			size_t from = iv_child(r, val, 2);
			if (date != (size_t)-1 && r->v[date].type == IV_STRING)
				have_env_date = date_parse_rfc5322(iv_str(r, date), &env_date);
			if (subj != (size_t)-1 && r->v[subj].type == IV_STRING) {
				struct strbuf d = STRBUF_INIT;
				rfc2047_decode(&d, iv_str(r, subj), r->v[subj].len);
				free(s->subject);
				s->subject = sb_steal(&d);
			}
			size_t a = from != (size_t)-1 ? iv_child(r, from, 0) : (size_t)-1;
			size_t mbx = iv_child(r, a, 2), host = iv_child(r, a, 3);
			if (mbx != (size_t)-1 && host != (size_t)-1 && r->v[mbx].type == IV_STRING &&
			    r->v[host].type == IV_STRING)
				snprintf(s->from, sizeof s->from, "%s@%s", iv_str(r, mbx), iv_str(r, host));
		}
	}
	if (!s->has_date && have_env_date) {
		s->date = env_date;
		s->has_date = true;
	}
}

enum mail_status imap_list(struct mailbox *mb, struct mail_summary *list)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "FETCH 1:%u (UID RFC822.SIZE INTERNALDATE ENVELOPE)", mb->count);
	return command(mb, cmd, fetch_summary_cb, list);
}

struct body_ctx {
	unsigned num;
	struct strbuf *msg;
	bool found;
};

static void fetch_body_cb(struct mailbox *mb, struct imap_resp *r, void *ctx)
{
	struct body_ctx *b = ctx;
	(void)mb;
	if (r->n < 4 || strcasecmp(iv_str(r, 2), "FETCH") != 0 || r->v[3].type != IV_LIST ||
	    strtoul(iv_str(r, 1), NULL, 10) != b->num)
		return;
	for (size_t k = 0;; k += 2) {
		size_t name = iv_child(r, 3, k), val = iv_child(r, 3, k + 1);
		if (name == (size_t)-1 || val == (size_t)-1)
			break;
		if (strcasecmp(iv_str(r, name), "BODY[]") == 0 && r->v[val].type == IV_STRING) {
			sb_reset(b->msg);
			sb_add(b->msg, iv_str(r, val), r->v[val].len);
			b->found = true;
		}
	}
}

enum mail_status imap_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg)
{
	char cmd[64];
	struct body_ctx b = { num, msg, false };
	snprintf(cmd, sizeof cmd, "FETCH %u BODY[]", num);
	enum mail_status st = command(mb, cmd, fetch_body_cb, &b);
	if (st == MAIL_OK && !b.found) {
		snprintf(mb->err, sizeof mb->err, "the server sent no message %u", num);
		return MAIL_FAILED;
	}
	return st;
}

enum mail_status imap_delete(struct mailbox *mb, unsigned num)
{
	char cmd[64];
	snprintf(cmd, sizeof cmd, "STORE %u +FLAGS (\\Deleted)", num);
	enum mail_status st = command(mb, cmd, NULL, NULL);
	if (st == MAIL_OK)
		st = command(mb, "EXPUNGE", NULL, NULL);
	if (st == MAIL_OK)
		(void)command(mb, "LOGOUT", NULL, NULL);
	return st;
}

void imap_close(struct mailbox *mb)
{
	(void)command(mb, "LOGOUT", NULL, NULL);
}
