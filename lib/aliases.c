/* aliases: expansion of forwarding rules, read afresh per look-up so edits
 * take effect at once. Expansion is depth-first with a visited set: an
 * address seen twice is expanded once (so "a: b" + "b: a" ends, with no
 * target), and depth is bounded. */
#include "aliases.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "users.h"

#define ALIASES_LINE_MAX 8192
#define ALIASES_MAX_DEPTH 10
#define ALIASES_MAX_VISITED 1000

struct rule {
	char *name;   /* "local@domain" or "@domain", lower-case */
	char *targets; /* raw comma-separated list */
};

struct rules {
	struct rule *r;
	size_t n;
};

/* Normalise an address: default domain when absent, domain lower-case,
 * local part lower-case when the domain is local. */
static int normalise(const struct config *cfg, const char *in, char *out, size_t outlen)
{
	while (*in == ' ' || *in == '\t')
		in++;
	size_t len = strlen(in);
	while (len && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= ALIASES_ADDR_MAX)
		return -1;
	char buf[ALIASES_ADDR_MAX];
	memcpy(buf, in, len);
	buf[len] = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == ',' || *p == '/')
			return -1;
	char *at = strrchr(buf, '@');
	const char *dom = at ? at + 1 : cfg->domains[0];
	if (at)
		*at = '\0';
	if (!*dom)
		return -1;
	int n = snprintf(out, outlen, "%s@%s", buf, dom);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	bool local = config_is_local_domain(cfg, dom);
	char *oat = strrchr(out, '@');
	for (char *p = local ? out : oat; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static void rules_free(struct rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].name);
		free(rs->r[i].targets);
	}
	free(rs->r);
}

/* 0 loaded (possibly empty), -1 error. */
static int rules_load(const struct config *cfg, struct rules *rs)
{
	rs->r = NULL;
	rs->n = 0;
	if (!cfg->aliases_file[0])
		return 0;
	FILE *f = fopen(cfg->aliases_file, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		log_err("open(%s) failed: %m", cfg->aliases_file);
		return -1;
	}
	char line[ALIASES_LINE_MAX + 2];
	unsigned lineno = 0;
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *colon = strchr(p, ':');
		if (!colon) {
			log_warn("%s:%u: expected \"alias: target, ...\"", cfg->aliases_file, lineno);
			continue;
		}
		*colon = '\0';
		char name[ALIASES_ADDR_MAX];
		if (p[0] == '@') {
			size_t dl = strlen(p);
			while (dl && (p[dl - 1] == ' ' || p[dl - 1] == '\t'))
				p[--dl] = '\0';
			if (dl < 2 || dl >= sizeof name) {
				log_warn("%s:%u: bad catch-all", cfg->aliases_file, lineno);
				continue;
			}
			for (size_t i = 0; i <= dl; i++)
				name[i] = (char)tolower((unsigned char)p[i]);
		} else if (normalise(cfg, p, name, sizeof name) != 0) {
			log_warn("%s:%u: bad alias name", cfg->aliases_file, lineno);
			continue;
		}
		if (rs->n == cap) {
			cap = cap ? cap * 2 : 16;
			rs->r = xrealloc(rs->r, cap * sizeof *rs->r);
		}
		rs->r[rs->n].name = xstrdup(name);
		rs->r[rs->n].targets = xstrdup(colon + 1);
		rs->n++;
	}
	fclose(f);
	return 0;
}

static const struct rule *find_rule(const struct rules *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].name, name) == 0)
			return &rs->r[i];
	return NULL;
}

struct walk {
	const struct config *cfg;
	const struct rules *rs;
	struct alias_targets *t;
	char (*visited)[ALIASES_ADDR_MAX];
	size_t nvisited;
};

static int add_target(struct alias_targets *t, const char *addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->addr[i], addr) == 0)
			return 0;
	if (t->n == ALIASES_MAX_TARGETS) {
		log_err("alias expansion exceeds %d targets", ALIASES_MAX_TARGETS);
		return -1;
	}
	snprintf(t->addr[t->n++], ALIASES_ADDR_MAX, "%s", addr);
	return 0;
}

static int expand(struct walk *w, const char *addr, unsigned depth);

/* The rule that applies to ADDR: exact, else the catch-all of its domain
 * when ADDR is not a real user. */
static const struct rule *rule_for(struct walk *w, const char *addr)
{
	const struct rule *r = find_rule(w->rs, addr);
	if (r)
		return r;
	const char *at = strrchr(addr, '@');
	if (!at || !config_is_local_domain(w->cfg, at + 1))
		return NULL;
	struct user u;
	if (users_lookup(w->cfg, addr, &u) == 1) {
		explicit_bzero(u.secret, sizeof u.secret);
		return NULL;
	}
	return find_rule(w->rs, at);
}

static int expand_rule(struct walk *w, const struct rule *r, unsigned depth)
{
	char *list = xstrdup(r->targets), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(list, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		char norm[ALIASES_ADDR_MAX];
		while (*t == ' ' || *t == '\t')
			t++;
		if (!*t)
			continue;
		if (normalise(w->cfg, t, norm, sizeof norm) != 0) {
			log_warn("%s: bad target \"%s\" in rule for %s", w->cfg->aliases_file, t, r->name);
			continue;
		}
		rc = expand(w, norm, depth + 1);
	}
	free(list);
	return rc;
}

static int expand(struct walk *w, const char *addr, unsigned depth)
{
	if (depth > ALIASES_MAX_DEPTH) {
		log_err("alias expansion of %s too deep", addr);
		return -1;
	}
	for (size_t i = 0; i < w->nvisited; i++)
		if (strcmp(w->visited[i], addr) == 0)
			return 0;
	if (w->nvisited == ALIASES_MAX_VISITED)
		return -1;
	snprintf(w->visited[w->nvisited++], ALIASES_ADDR_MAX, "%s", addr);
	const struct rule *r = rule_for(w, addr);
	if (!r)
		return add_target(w->t, addr);
	return expand_rule(w, r, depth);
}

int aliases_expand(const struct config *cfg, const char *addr, struct alias_targets *t)
{
	char norm[ALIASES_ADDR_MAX];
	if (normalise(cfg, addr, norm, sizeof norm) != 0)
		return 0;
	struct rules rs;
	if (rules_load(cfg, &rs) != 0)
		return -1;
	struct walk w = { cfg, &rs, t, NULL, 0 };
	const struct rule *r = rule_for(&w, norm);
	int rc = 0;
	if (r) {
		w.visited = xcalloc(ALIASES_MAX_VISITED, sizeof *w.visited);
		snprintf(w.visited[w.nvisited++], ALIASES_ADDR_MAX, "%s", norm);
		rc = expand_rule(&w, r, 0) == 0 ? 1 : -1;
		free(w.visited);
	}
	rules_free(&rs);
	return rc;
}
