/* LIST and LSUB: the folder names (plus INBOX and every implied parent,
 * which gets \Noselect) matched against reference + pattern, where '*'
 * matches anything and '%' anything but the '/' delimiter. Matching is a
 * dynamic program over pattern × name, so hostile patterns like
 * "*a*a*a*a*b" cost O(len²), never exponential time. LIST-EXTENDED
 * (RFC 5258): selection options SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE,
 * REMOTE, several patterns, RETURN (SUBSCRIBED CHILDREN SPECIAL-USE
 * STATUS (...)) — the last is LIST-STATUS (RFC 5819). */
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

/* LIST-EXTENDED (RFC 5258) options, LIST-STATUS (RFC 5819). */
struct list_opts {
	bool extended;              /* selection or return options given */
	bool sel_subscribed, sel_special, recursive;
	bool ret_subscribed, ret_status;
	const struct imap_arg *status_items;
	size_t nstatus;
	const char **pats;          /* one or more patterns */
	size_t npats;
};

static int parse_extended(struct imap_cmd *c, struct list_opts *o)
{
	const struct imap_arg *a = c->args;
	size_t n = c->nargs, pos = 0;
	if (n && a[0].type == IMAP_ARG_LIST) {
		o->extended = true;
		for (size_t i = 0; i < a[0].list_n; i++) {
			const struct imap_arg *x = &a[0].list[i];
			if (imap_arg_atom_eq(x, "SUBSCRIBED"))
				o->sel_subscribed = true;
			else if (imap_arg_atom_eq(x, "SPECIAL-USE"))
				o->sel_special = true;
			else if (imap_arg_atom_eq(x, "RECURSIVEMATCH"))
				o->recursive = true;
			else if (!imap_arg_atom_eq(x, "REMOTE"))
				return -1;
		}
		/* RECURSIVEMATCH needs another selection option (§3) */
		if (o->recursive && !o->sel_subscribed && !o->sel_special)
			return -1;
		pos = 1;
	}
	if (pos + 2 > n || !imap_arg_is_astring(&a[pos]))
		return -1;
	pos++; /* the reference: the caller reads it */
	const struct imap_arg *p = &a[pos++];
	if (p->type == IMAP_ARG_LIST) {
		o->extended = true;
		if (p->list_n == 0)
			return -1;
		o->pats = xcalloc(p->list_n, sizeof *o->pats);
		for (size_t i = 0; i < p->list_n; i++) {
			if (!imap_arg_is_astring(&p->list[i]))
				return -1;
			o->pats[o->npats++] = p->list[i].str;
		}
	} else if (imap_arg_is_astring(p)) {
		o->pats = xcalloc(1, sizeof *o->pats);
		o->pats[o->npats++] = p->str;
	} else {
		return -1;
	}
	if (pos < n) {
		if (pos + 2 != n || !imap_arg_atom_eq(&a[pos], "RETURN") || a[pos + 1].type != IMAP_ARG_LIST)
			return -1;
		o->extended = true;
		const struct imap_arg *r = &a[pos + 1];
		for (size_t i = 0; i < r->list_n; i++) {
			const struct imap_arg *x = &r->list[i];
			if (imap_arg_atom_eq(x, "SUBSCRIBED"))
				o->ret_subscribed = true;
			else if (imap_arg_atom_eq(x, "CHILDREN") || imap_arg_atom_eq(x, "SPECIAL-USE"))
				; /* always sent */
			else if (imap_arg_atom_eq(x, "STATUS") && i + 1 < r->list_n &&
				 r->list[i + 1].type == IMAP_ARG_LIST &&
				 imap_status_items_valid(r->list[i + 1].list, r->list[i + 1].list_n)) {
				o->ret_status = true;
				o->status_items = r->list[i + 1].list;
				o->nstatus = r->list[i + 1].list_n;
				i++;
			} else {
				return -1;
			}
		}
	}
	return (int)(pos > 0 && a[0].type == IMAP_ARG_LIST ? 1 : 0);
}

static bool match_any(const struct list_opts *o, const char *ref, const char *name)
{
	for (size_t i = 0; i < o->npats; i++) {
		struct strbuf full = STRBUF_INIT;
		const char *pat = o->pats[i];
		sb_adds(&full, ref);
		if (full.len && full.s[full.len - 1] == '/' && pat[0] == '/')
			pat++;
		sb_adds(&full, pat);
		bool m = full.len <= LIST_PATTERN_MAX && match_name(full.s, name);
		sb_free(&full);
		if (m)
			return true;
	}
	return false;
}

/* The extended LIST: every existing or subscribed name once, filtered by
 * the selection options, with the attributes and STATUS asked for. */
static void list_extended(struct imap_session *s, struct imap_cmd *c, const char *ref,
			  const struct list_opts *o)
{
	char **names = NULL, **subs = NULL;
	size_t n = 0, nsubs = 0;
	if (maildir_folder_list(s->root, &names, &n) < 0 ||
	    maildir_subscriptions_read(s->root, &subs, &nsubs) < 0) {
		maildir_names_free(names, n);
		cmd_reply(c, "NO [SERVERBUG] Cannot list mailboxes");
		return;
	}
	for (size_t i = 0; i < nsubs; i++)
		if (imap_is_inbox(subs[i])) {
			free(subs[i]);
			subs[i] = xstrdup("INBOX");
		}
	/* with (SUBSCRIBED), subscribed names that do not exist are listed
	 * too (\NonExistent) */
	char **all = xcalloc(n + nsubs + 1, sizeof *all);
	size_t na = 0;
	for (size_t i = 0; i < n; i++)
		all[na++] = names[i];
	for (size_t i = 0; i < nsubs && o->sel_subscribed; i++)
		if (!in_names(names, n, subs[i]) && !imap_is_inbox(subs[i]))
			all[na++] = subs[i];
	size_t ne;
	struct entry *e = collect(all, na, &ne);
	free(all);
	for (size_t i = 0; i < ne; i++) {
		bool exists = e[i].exists && (in_names(names, n, e[i].name) || strcmp(e[i].name, "INBOX") == 0);
		bool sub = in_names(subs, nsubs, e[i].name);
		const char *use = exists ? imap_special_use(e[i].name) : NULL;
		bool childinfo = false;
		if (o->recursive && o->sel_subscribed && !sub) {
			/* a parent with a subscribed descendant (§3, CHILDINFO) */
			size_t l = strlen(e[i].name);
			for (size_t k = 0; k < nsubs && !childinfo; k++)
				childinfo = strncmp(subs[k], e[i].name, l) == 0 && subs[k][l] == '/';
		}
		if (!match_any(o, ref, e[i].name))
			continue;
		if (o->sel_subscribed && !sub && !childinfo)
			continue;
		if (o->sel_special && !use)
			continue;
		struct strbuf attrs = STRBUF_INIT;
		if (!e[i].exists && !sub)
			sb_adds(&attrs, "\\Noselect ");
		else if (!exists)
			sb_adds(&attrs, "\\NonExistent ");
		sb_adds(&attrs, e[i].children ? "\\HasChildren" : "\\HasNoChildren");
		if (sub && (o->sel_subscribed || o->ret_subscribed))
			sb_adds(&attrs, " \\Subscribed");
		if (use)
			sb_printf(&attrs, " %s", use);
		struct strbuf sb = STRBUF_INIT;
		sb_printf(&sb, "* LIST (%s) \"/\" ", attrs.s);
		imap_write_astring(&sb, e[i].name);
		if (childinfo)
			sb_adds(&sb, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		sb_adds(&sb, "\r\n");
		io_write(&s->io, sb.s, sb.len);
		sb_free(&sb);
		sb_free(&attrs);
		if (o->ret_status && exists) {
			char canon[MAILDIR_PATH_MAX], dir[MAILDIR_PATH_MAX];
			struct imap_cmd sub_c;
			memset(&sub_c, 0, sizeof sub_c);
			if (imap_mailbox_dir(s, &sub_c, e[i].name, canon, dir) == 0)
				imap_status_send(s, canon, dir, o->status_items, o->nstatus);
		}
	}
	free_entries(e, ne);
	maildir_names_free(names, n);
	maildir_names_free(subs, nsubs);
}

void cmd_list(struct imap_session *s, struct imap_cmd *c)
{
	bool lsub = strcmp(c->name, "LSUB") == 0;
	if (!lsub) {
		struct list_opts o;
		memset(&o, 0, sizeof o);
		int r = parse_extended(c, &o);
		if (r < 0) {
			free(o.pats);
			cmd_reply(c, "BAD Invalid LIST arguments");
			return;
		}
		if (o.extended) {
			const char *ref = c->args[r].str;
			if (strlen(ref) > LIST_PATTERN_MAX)
				cmd_reply(c, "BAD Pattern too long");
			else if (o.npats == 1 && !*o.pats[0] && !o.sel_subscribed && !o.sel_special)
				imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
			else
				list_extended(s, c, ref, &o);
			free(o.pats);
			return;
		}
		free(o.pats);
	}
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
