/* queue-env: the envelope file's text, one record a line, fields
 * separated by TAB (addresses may hold spaces inside quotes, never a TAB
 * or a control character; diagnostics from remote servers are cleaned):
 *   V	1
 *   I	<id>
 *   F	<sender, empty for the null sender>
 *   T	<creation time>
 *   B	8bitmime | smtputf8       (optional, one line each: MAIL parameters)
 *   R	<state>	<attempts>	<next try>	<address>	<last error>
 * Parsing is strict: an unknown record or a bad field is a corrupt file. */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static const char *const state_names[] = { "pending", "done", "failed", "bounced" };

void queue_env_add(struct queue_env *env, const char *addr)
{
	env->rcpt = xrealloc(env->rcpt, (env->nrcpt + 1) * sizeof *env->rcpt);
	struct queue_rcpt *r = &env->rcpt[env->nrcpt++];
	memset(r, 0, sizeof *r);
	r->state = QUEUE_PENDING;
	snprintf(r->addr, sizeof r->addr, "%s", addr);
}

void queue_env_free(struct queue_env *env)
{
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

/* Diagnostics come from remote servers: keep them on one line. */
static void add_clean(struct strbuf *sb, const char *s)
{
	for (; *s; s++)
		sb_addc(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

char *queue_env_format(const struct queue_env *env, size_t *len_r)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "V\t1\nI\t%s\nF\t", env->id);
	add_clean(&sb, env->sender);
	sb_printf(&sb, "\nT\t%lld\n", (long long)env->created);
	if (env->body_8bit)
		sb_adds(&sb, "B\t8bitmime\n");
	if (env->smtputf8)
		sb_adds(&sb, "B\tsmtputf8\n");
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpt[i];
		sb_printf(&sb, "R\t%s\t%u\t%lld\t", state_names[r->state], r->attempts,
			  (long long)r->next_try);
		add_clean(&sb, r->addr);
		sb_addc(&sb, '\t');
		add_clean(&sb, r->diag);
		sb_addc(&sb, '\n');
	}
	*len_r = sb.len;
	return sb_steal(&sb);
}

static int parse_num(const char *s, long long *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int copy_field(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n >= dstlen)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* One "R" line's fields after the tag. */
static int parse_rcpt(char **f, size_t nf, struct queue_env *env)
{
	if (nf != 5 || env->nrcpt >= QUEUE_MAX_RCPTS)
		return -1;
	struct queue_rcpt r;
	memset(&r, 0, sizeof r);
	size_t st;
	for (st = 0; st < sizeof state_names / sizeof state_names[0]; st++)
		if (strcmp(f[0], state_names[st]) == 0)
			break;
	long long attempts, next;
	if (st == sizeof state_names / sizeof state_names[0] || parse_num(f[1], &attempts) < 0 ||
	    parse_num(f[2], &next) < 0 || attempts > 1000000 || !f[3][0] ||
	    copy_field(r.addr, sizeof r.addr, f[3]) < 0)
		return -1;
	snprintf(r.diag, sizeof r.diag, "%s", f[4]); /* cut, not an error */
	r.state = (enum queue_state)st;
	r.attempts = (unsigned)attempts;
	r.next_try = (time_t)next;
	env->rcpt = xrealloc(env->rcpt, (env->nrcpt + 1) * sizeof *env->rcpt);
	env->rcpt[env->nrcpt++] = r;
	return 0;
}

int queue_env_parse(const char *text, size_t len, struct queue_env *env)
{
	memset(env, 0, sizeof *env);
	char *copy = xstrndup(text, len);
	char *line, *rest = copy;
	bool have_v = false, have_i = false, have_f = false, have_t = false;
	int rc = 0;
	while (rc == 0 && (line = strsep(&rest, "\n")) != NULL) {
		if (!*line)
			continue;
		char *f[6];
		size_t nf = 0;
		char *p = line, *tok;
		while (nf < 6 && (tok = strsep(&p, "\t")) != NULL)
			f[nf++] = tok;
		if (p) /* more fields than any record has */
			rc = -1;
		else if (strcmp(f[0], "V") == 0)
			rc = nf == 2 && strcmp(f[1], "1") == 0 ? (have_v = true, 0) : -1;
		else if (strcmp(f[0], "I") == 0)
			rc = nf == 2 && queue_id_valid(f[1]) ?
				(have_i = true, copy_field(env->id, sizeof env->id, f[1])) : -1;
		else if (strcmp(f[0], "F") == 0)
			rc = nf == 2 ? (have_f = true, copy_field(env->sender, sizeof env->sender, f[1])) : -1;
		else if (strcmp(f[0], "T") == 0) {
			long long t;
			rc = nf == 2 && parse_num(f[1], &t) == 0 ? (have_t = true, env->created = (time_t)t, 0) : -1;
		} else if (strcmp(f[0], "B") == 0 && nf == 2 && strcmp(f[1], "8bitmime") == 0)
			env->body_8bit = true;
		else if (strcmp(f[0], "B") == 0 && nf == 2 && strcmp(f[1], "smtputf8") == 0)
			env->smtputf8 = true;
		else if (strcmp(f[0], "R") == 0)
			rc = parse_rcpt(f + 1, nf - 1, env);
		else
			rc = -1;
	}
	free(copy);
	if (rc == 0 && !(have_v && have_i && have_f && have_t && env->nrcpt > 0))
		rc = -1;
	if (rc < 0)
		queue_env_free(env);
	return rc;
}

