#include "show.h"

#include <string.h>
#include <strings.h>

#include "codec.h"
#include "date.h"
#include "header.h"

static void put_clean(FILE *out, const char *s, size_t n, bool newlines)
{
	struct strbuf t = STRBUF_INIT;
	sanitize_text(&t, s, n, newlines);
	fwrite(t.s ? t.s : "", 1, t.len, out);
	sb_free(&t);
}

void show_list(FILE *out, const struct mail_summary *list, size_t n)
{
	fprintf(out, "Sl. No. <Sender> <Received DD/MM/YYYY : HH : MM> <Subject>\n");
	if (n == 0)
		fprintf(out, "(no mail)\n");
	for (size_t i = 0; i < n; i++) {
		const struct mail_summary *s = &list[i];
		char d[64];
		if (s->has_date)
			date_format_list(s->date, d, sizeof d);
		else
			snprintf(d, sizeof d, "--/--/---- : -- : --");
		fprintf(out, "%u ", s->num);
		put_clean(out, s->from[0] ? s->from : "(unknown)", strlen(s->from[0] ? s->from : "(unknown)"), false);
		fprintf(out, " %s ", d);
		put_clean(out, s->subject, strlen(s->subject), false);
		fputc('\n', out);
	}
}

static void show_field(FILE *out, const char *msg, size_t len, const char *name)
{
	struct strbuf v = STRBUF_INIT, d = STRBUF_INIT;
	if (hdr_get(msg, len, name, &v))
		rfc2047_decode(&d, v.s, v.len);
	fprintf(out, "%s: ", name);
	put_clean(out, d.s ? d.s : "", d.len, false);
	fputc('\n', out);
	sb_free(&v);
	sb_free(&d);
}

void show_message(FILE *out, const char *msg, size_t len)
{
	show_field(out, msg, len, "From");
	show_field(out, msg, len, "To");
	show_field(out, msg, len, "Subject");
	struct strbuf v = STRBUF_INIT;
	time_t t;
	bool have = (hdr_get(msg, len, "Received", &v) && date_parse_received(v.s, &t)) ||
		    (hdr_get(msg, len, "Date", &v) && date_parse_rfc5322(v.s, &t));
	char d[64] = "unknown";
	if (have)
		date_format_list(t, d, sizeof d);
	fprintf(out, "Received: %s\n\n", d);

	size_t off = hdr_body_offset(msg, len);
	const char *body = msg + off;
	size_t blen = len - off;
	struct strbuf dec = STRBUF_INIT, lf = STRBUF_INIT;
	bool multipart = hdr_get(msg, len, "Content-Type", &v) && strncasecmp(v.s, "multipart/", 10) == 0;
	if (!multipart && hdr_get(msg, len, "Content-Transfer-Encoding", &v) &&
	    strcasecmp(v.s, "quoted-printable") == 0) {
		qp_decode(&dec, body, blen, false);
	} else if (!multipart && hdr_get(msg, len, "Content-Transfer-Encoding", &v) &&
		   strcasecmp(v.s, "base64") == 0 && b64_decode(&dec, body, blen) == 0) {
		/* decoded */
	} else {
		sb_reset(&dec);
		sb_add(&dec, body, blen);
	}
	/* CRLF -> LF for the terminal */
	for (size_t i = 0; i < dec.len; i++)
		if (!(dec.s[i] == '\r' && i + 1 < dec.len && dec.s[i + 1] == '\n'))
			sb_addc(&lf, dec.s[i]);
	put_clean(out, lf.s ? lf.s : "", lf.len, true);
	if (lf.len && lf.s[lf.len - 1] != '\n')
		fputc('\n', out);
	sb_free(&v);
	sb_free(&dec);
	sb_free(&lf);
}
