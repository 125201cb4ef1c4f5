/* imap-envelope: collect the ten envelope fields from the header, then
 * write them. As in Dovecot: for the string fields the last occurrence
 * wins, address fields that occur twice are concatenated, and Sender and
 * Reply-To fall back to From. */
#include "imap-envelope.h"

#include <stdlib.h>
#include <string.h>

#include "imap-quote.h"
#include "rfc822-address.h"
#include "rfc822.h"

enum env_field { ENV_DATE, ENV_SUBJECT, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_NSTRINGS };
enum env_addr { ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO, ENV_CC, ENV_BCC, ENV_NADDRS };

static const char *const string_names[ENV_NSTRINGS] = { "Date", "Subject", "In-Reply-To",
							"Message-ID" };
static const char *const addr_names[ENV_NADDRS] = { "From", "Sender", "Reply-To",
						    "To", "Cc", "Bcc" };

struct envelope {
	char *str[ENV_NSTRINGS];
	size_t str_len[ENV_NSTRINGS];
	struct rfc822_addr *addr[ENV_NADDRS], *addr_last[ENV_NADDRS];
};

static void add_field(struct envelope *env, const struct rfc822_field *f)
{
	for (int i = 0; i < ENV_NSTRINGS; i++) {
		if (rfc822_field_is(f, string_names[i])) {
			free(env->str[i]);
			/* the subject keeps its folding: a folded subject is
			 * written as a cleaned literal, as Dovecot does */
			env->str[i] = rfc822_field_text(f, i == ENV_SUBJECT, &env->str_len[i]);
			return;
		}
	}
	for (int i = 0; i < ENV_NADDRS; i++) {
		if (!rfc822_field_is(f, addr_names[i]))
			continue;
		size_t len;
		/* folded, as Dovecot parses it: a comment that is cut short
		 * still names the address with the text of its first lines */
		char *v = rfc822_field_folded_value(f, &len);
		struct rfc822_addr *list = rfc822_addr_parse(v, len);
		free(v);
		if (!list)
			return;
		if (env->addr_last[i])
			env->addr_last[i]->next = list;
		else
			env->addr[i] = list;
		while (list->next)
			list = list->next;
		env->addr_last[i] = list;
		return;
	}
}

/* nstring without CR/LF (a folded value may still hold a bare CR) */
static void write_nolf(struct strbuf *out, const char *s, size_t len)
{
	if (!s || (!memchr(s, '\r', len) && !memchr(s, '\n', len))) {
		imap_quote_write(out, s, len);
		return;
	}
	struct strbuf tmp = STRBUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			sb_addc(&tmp, s[i]);
	}
	imap_quote_write(out, tmp.s ? tmp.s : "", tmp.len);
	sb_free(&tmp);
}

static void write_addresses(struct strbuf *out, const struct rfc822_addr *a)
{
	if (!a) {
		sb_adds(out, "NIL");
		return;
	}
	sb_addc(out, '(');
	for (; a; a = a->next) {
		sb_addc(out, '(');
		if (a->name)
			imap_quote_write_human(out, a->name, strlen(a->name));
		else
			sb_adds(out, "NIL");
		sb_addc(out, ' ');
		imap_quote_writes(out, a->route);
		sb_addc(out, ' ');
		imap_quote_writes(out, a->mailbox);
		sb_addc(out, ' ');
		imap_quote_writes(out, a->host);
		sb_addc(out, ')');
	}
	sb_addc(out, ')');
}

void imap_envelope_write(struct strbuf *out, const char *hdr, size_t hdr_len)
{
	struct envelope env;
	struct rfc822_field f;
	size_t pos = 0;

	memset(&env, 0, sizeof(env));
	while (rfc822_header_next(hdr, hdr_len, &pos, &f))
		add_field(&env, &f);

	sb_addc(out, '(');
	write_nolf(out, env.str[ENV_DATE], env.str_len[ENV_DATE]);
	sb_addc(out, ' ');
	imap_quote_write_human(out, env.str[ENV_SUBJECT], env.str_len[ENV_SUBJECT]);
	for (int i = 0; i < ENV_NADDRS; i++) {
		const struct rfc822_addr *a = env.addr[i];
		if (!a && (i == ENV_SENDER || i == ENV_REPLY_TO))
			a = env.addr[ENV_FROM];
		sb_addc(out, ' ');
		write_addresses(out, a);
	}
	sb_addc(out, ' ');
	write_nolf(out, env.str[ENV_IN_REPLY_TO], env.str_len[ENV_IN_REPLY_TO]);
	sb_addc(out, ' ');
	write_nolf(out, env.str[ENV_MESSAGE_ID], env.str_len[ENV_MESSAGE_ID]);
	sb_addc(out, ')');

	for (int i = 0; i < ENV_NSTRINGS; i++)
		free(env.str[i]);
	for (int i = 0; i < ENV_NADDRS; i++)
		rfc822_addr_free(env.addr[i]);
}
