/* LIST and LSUB: the folder names (plus INBOX and every implied parent,
 * which gets \Noselect) matched against reference + pattern, where '*'
 * matches anything and '%' anything but the '/' delimiter. Matching is a
 * dynamic program over pattern × name, so hostile patterns like
 * "*a*a*a*a*b" cost O(len²), never exponential time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"

#define LIST_PATTERN_MAX 1024

struct entry {
	char *name;
	bool exists;
	bool children;
};

static bool match(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);
	if (pl > LIST_PATTERN_MAX || nl > MAILDIR_PATH_MAX)
		return false;
	bool *prev = xcalloc(nl + 1, sizeof *prev), *cur = xcalloc(nl + 1, sizeof *cur);
	prev[0] = true;
	for (size_t i = 1; i <= pl; i++) {
		char pc = pat[i - 1];
		cur[0] = prev[0] && (pc == '*' || pc == '%');
		for (size_t j = 1; j <= nl; j++) {
			if (pc == '*')
				cur[j] = prev[j] || cur[j - 1];
			else if (pc == '%')
				cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != '/');
			else
				cur[j] = prev[j - 1] && pc == name[j - 1];
		}
		bool *t = prev;
		prev = cur;
		cur = t;
	}
	bool r = prev[nl];
	free(prev);
	free(cur);
	return r;
}

/* INBOX matches its pattern case-insensitively. */
static bool match_name(const char *pat, const char *name)
{
	if (strcmp(name, "INBOX") == 0 && strncasecmp(pat, "INBOX", 5) == 0) {
		char *p = xstrdup(pat);
		memcpy(p, "INBOX", 5);
		bool r = match(p, name);
		free(p);
		return r;
	}
	return match(pat, name);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static struct entry *find(struct entry *e, size_t n, const char *name)
{
	struct entry key = { .name = (char *)name };
	return bsearch(&key, e, n, sizeof *e, cmp_entry);
}

/* Every name, its parents (\Noselect when absent), sorted; children noted. */
static struct entry *collect(char **names, size_t n, size_t *n_r)
{
	size_t cap = n + 1, cnt = 0;
	struct entry *e = xcalloc(cap, sizeof *e);
	e[cnt++] = (struct entry){ xstrdup("INBOX"), true, false };
	for (size_t i = 0; i < n; i++) {
		if (imap_is_inbox(names[i]))
			continue;
		if (cnt == cap)
			e = xrealloc(e, (cap *= 2) * sizeof *e);
		e[cnt++] = (struct entry){ xstrdup(names[i]), true, false };
	}
	qsort(e, cnt, sizeof *e, cmp_entry);
	size_t real = cnt;
	for (size_t i = 0; i < real; i++) {
		char *name = xstrdup(e[i].name);
		for (char *slash = strrchr(name, '/'); slash; slash = strrchr(name, '/')) {
			*slash = '\0';
			struct entry *parent = find(e, real, name);
			if (parent) {
				parent->children = true;
				continue;
			}
			bool dup = false;
			for (size_t k = real; k < cnt; k++)
				if (strcmp(e[k].name, name) == 0)
					dup = true;
			if (!dup) {
				if (cnt == cap)
					e = xrealloc(e, (cap *= 2) * sizeof *e);
				e[cnt++] = (struct entry){ xstrdup(name), false, true };
			}
		}
		free(name);
	}
	qsort(e, cnt, sizeof *e, cmp_entry);
	*n_r = cnt;
	return e;
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static void send_entry(struct imap_session *s, const char *verb, const char *attrs, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "* %s (%s) \"/\" ", verb, attrs);
	imap_write_astring(&sb, name);
	sb_adds(&sb, "\r\n");
	io_write(&s->io, sb.s, sb.len);
	sb_free(&sb);
}

static bool in_names(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* LSUB: the subscribed names that match; when only a parent of a
 * subscribed name matches (a '%' pattern), that parent is listed once, as
 * \Noselect (RFC 3501 §6.3.9). */
static void send_lsub(struct imap_session *s, const char *pat, char **names, size_t n)
{
	char **parents = NULL;
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = imap_is_inbox(names[i]) ? "INBOX" : names[i];
		if (match_name(pat, name)) {
			send_entry(s, "LSUB", "", name);
			continue;
		}
		char *up = xstrdup(name);
		for (char *slash = strrchr(up, '/'); slash; slash = strrchr(up, '/')) {
			*slash = '\0';
			if (!match_name(pat, up) || in_names(names, n, up) || in_names(parents, np, up))
				continue;
			send_entry(s, "LSUB", "\\Noselect", up);
			parents = xrealloc(parents, (np + 1) * sizeof *parents);
			parents[np++] = xstrdup(up);
		}
		free(up);
	}
	maildir_names_free(parents, np);
}

void cmd_list(struct imap_session *s, struct imap_cmd *c)
{
	bool lsub = strcmp(c->name, "LSUB") == 0;
	if (c->nargs != 2 || !imap_arg_is_astring(&c->args[0]) || !imap_arg_is_astring(&c->args[1])) {
		cmd_reply(c, "BAD %s needs a reference and a pattern", c->name);
		return;
	}
	const char *ref = c->args[0].str, *pat = c->args[1].str;
	if (!*pat) {
		if (!lsub)
			imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
		return;
	}
	if (strlen(ref) + strlen(pat) > LIST_PATTERN_MAX) {
		cmd_reply(c, "BAD Pattern too long");
		return;
	}
	struct strbuf full = STRBUF_INIT;
	sb_adds(&full, ref);
	if (full.len && full.s[full.len - 1] == '/' && pat[0] == '/')
		pat++;
	sb_adds(&full, pat);

	char **names = NULL;
	size_t n = 0;
	int r = lsub ? maildir_subscriptions_read(s->root, &names, &n)
		     : maildir_folder_list(s->root, &names, &n);
	if (r < 0) {
		sb_free(&full);
		cmd_reply(c, "NO [SERVERBUG] Cannot list mailboxes");
		return;
	}
	if (lsub) {
		send_lsub(s, full.s, names, n);
	} else {
		size_t ne;
		struct entry *e = collect(names, n, &ne);
		for (size_t i = 0; i < ne; i++) {
			if (!match_name(full.s, e[i].name))
				continue;
			char attrs[64];
			const char *use = e[i].exists ? imap_special_use(e[i].name) : NULL;
			snprintf(attrs, sizeof attrs, "%s%s%s%s", e[i].exists ? "" : "\\Noselect ",
				 e[i].children ? "\\HasChildren" : "\\HasNoChildren", use ? " " : "",
				 use ? use : "");
			send_entry(s, "LIST", attrs, e[i].name);
		}
		free_entries(e, ne);
	}
	maildir_names_free(names, n);
	sb_free(&full);
}
