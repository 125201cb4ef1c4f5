/* users: the users file, password checks and the failed-login delay.
 * The file is read afresh for every look-up: handlers live for one
 * connection, and a fresh read means `postern-user passwd` takes effect
 * at once without signals or reloads. */
#include "users.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"

#define USERS_LINE_MAX 1024

bool users_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* compare over the longer length so timing does not reveal prefixes */
	size_t n = la > lb ? la : lb;
	unsigned char diff = (unsigned char)(la != lb);
	for (size_t i = 0; i < n; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
		diff |= ca ^ cb;
	}
	return diff == 0;
}

static bool valid_local_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-=?^_`{|}~.", c) != NULL || c >= 0x80;
}

int users_parse_name(const struct config *cfg, const char *name,
		     char local_r[USER_LOCAL_MAX + 1], char domain_r[USER_DOMAIN_MAX + 1])
{
	const char *at = strrchr(name, '@');
	size_t ll = at ? (size_t)(at - name) : strlen(name);
	const char *dom = at ? at + 1 : cfg->domains[0];
	size_t dl = strlen(dom);
	if (ll == 0 || ll > USER_LOCAL_MAX || dl == 0 || dl > USER_DOMAIN_MAX)
		return -1;
	if (name[0] == '.' || dom[0] == '.' || dom[0] == '-')
		return -1;
	for (size_t i = 0; i < ll; i++) {
		if (!valid_local_char((unsigned char)name[i]) || name[i] == '@')
			return -1;
		local_r[i] = (char)tolower((unsigned char)name[i]);
	}
	local_r[ll] = '\0';
	for (size_t i = 0; i < dl; i++) {
		unsigned char c = (unsigned char)dom[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return -1;
		if (c == '.' && dom[i + 1] == '.')
			return -1;
		domain_r[i] = (char)tolower(c);
	}
	domain_r[dl] = '\0';
	if (strcmp(local_r, "..") == 0 || domain_r[dl - 1] == '.')
		return -1;
	return 0;
}

/* Split a users-file line into name and secret; 0 when it holds a user. */
static int split_line(char *line, char **name_r, char **secret_r)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return -1;
	char *name = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (!*p)
		return -1;
	*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	/* trailing blanks are not part of a secret */
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	if (!*p)
		return -1;
	*name_r = name;
	*secret_r = p;
	return 0;
}

/* A crypt(3) hash looks like "$id$...$...": the rest is plain text. */
static bool is_hash(const char *s)
{
	if (s[0] != '$')
		return false;
	int dollars = 0;
	for (const char *p = s; *p; p++)
		dollars += *p == '$';
	return dollars >= 3;
}

int users_lookup(const struct config *cfg, const char *name, struct user *u)
{
	char local[USER_LOCAL_MAX + 1], domain[USER_DOMAIN_MAX + 1];
	if (users_parse_name(cfg, name, local, domain) != 0)
		return 0;
	FILE *f = fopen(cfg->users_file, "re");
	if (!f) {
		log_err("open(%s) failed: %m", cfg->users_file);
		return -1;
	}
	char line[USERS_LINE_MAX + 2];
	int found = 0;
	unsigned lineno = 0;
	while (!found && fgets(line, sizeof line, f)) {
		lineno++;
		char *n, *s, l2[USER_LOCAL_MAX + 1], d2[USER_DOMAIN_MAX + 1];
		if (split_line(line, &n, &s) != 0)
			continue;
		if (users_parse_name(cfg, n, l2, d2) != 0) {
			log_warn("%s:%u: bad user name ignored", cfg->users_file, lineno);
			continue;
		}
		if (strcmp(l2, local) != 0 || strcmp(d2, domain) != 0)
			continue;
		if (strlen(s) >= sizeof u->secret) {
			log_warn("%s:%u: secret too long", cfg->users_file, lineno);
			continue;
		}
		memset(u, 0, sizeof *u);
		strcpy(u->local, local);
		strcpy(u->domain, domain);
		snprintf(u->name, sizeof u->name, "%s@%s", local, domain);
		strcpy(u->secret, s);
		u->plain = !is_hash(s);
		found = 1;
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	return found;
}

int users_authenticate(const struct config *cfg, const char *name, const char *password,
		       struct user *u)
{
	/* same work for unknown users: a valid yescrypt hash nobody matches */
	static const char dummy[] = "$y$j9T$Ze3kE1OHnEMRBIvlhgYUQ.$yIv7dJ65N8QNinuF8AtkfHWjfEJU9cX8uHq5.6PxsAC";
	struct user tmp;
	struct user *w = u ? u : &tmp;
	int found = users_lookup(cfg, name, w);
	if (found < 0)
		return -1;
	if (strlen(password) > 1024)
		return 0;
	const char *secret = found ? w->secret : dummy;
	bool ok;
	if (found && w->plain) {
		ok = users_secret_equal(password, secret);
	} else {
		struct crypt_data *cd = xcalloc(1, sizeof *cd);
		const char *h = crypt_r(password, secret, cd);
		ok = h && h[0] != '*' && users_secret_equal(h, secret);
		explicit_bzero(cd, sizeof *cd);
		free(cd);
	}
	if (!found)
		ok = false;
	if (!ok && u)
		explicit_bzero(u->secret, sizeof u->secret);
	explicit_bzero(tmp.secret, sizeof tmp.secret);
	return ok ? 1 : 0;
}

void users_fail_delay(unsigned n)
{
	long base_ms = 1000;
	const char *e = getenv("POSTERN_FAIL_DELAY_MS");
	if (e && *e)
		base_ms = strtol(e, NULL, 10);
	if (base_ms <= 0 || n == 0)
		return;
	long ms = base_ms * (long)(n > 5 ? 5 : n);
	if (ms > 10000)
		ms = 10000;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int users_hash_password(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt)) {
		log_err("crypt_gensalt failed: %m");
		return -1;
	}
	struct crypt_data *cd = xcalloc(1, sizeof *cd);
	const char *h = crypt_r(password, salt, cd);
	int rc = -1;
	if (h && h[0] != '*' && strlen(h) < outlen) {
		strcpy(out, h);
		rc = 0;
	} else {
		log_err("crypt failed");
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

int users_write_entry(const struct config *cfg, const struct user *u, const char *secret)
{
	char lockpath[CONFIG_PATH_MAX + 8], tmppath[CONFIG_PATH_MAX + 8];
	snprintf(lockpath, sizeof lockpath, "%s.lock", cfg->users_file);
	snprintf(tmppath, sizeof tmppath, "%s.tmp", cfg->users_file);
	if (secret && (strchr(secret, '\n') || strchr(secret, '\r') || !*secret)) {
		log_err("refusing a secret with line breaks");
		return -1;
	}
	int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0) {
		log_err("open(%s) failed: %m", lockpath);
		return -1;
	}
	if (flock(lfd, LOCK_EX) != 0) {
		log_err("flock(%s) failed: %m", lockpath);
		close(lfd);
		return -1;
	}
	struct strbuf out = STRBUF_INIT;
	int found = 0, rc = -1;
	mode_t mode = 0600;
	struct stat st;
	bool have_owner = false;
	FILE *f = fopen(cfg->users_file, "re");
	if (f) {
		if (fstat(fileno(f), &st) == 0) {
			mode = st.st_mode & 07777;
			have_owner = true;
		}
		char line[USERS_LINE_MAX + 2], copy[USERS_LINE_MAX + 2];
		while (fgets(line, sizeof line, f)) {
			char *n, *s, l2[USER_LOCAL_MAX + 1], d2[USER_DOMAIN_MAX + 1];
			memcpy(copy, line, sizeof line);
			if (split_line(copy, &n, &s) == 0 && users_parse_name(cfg, n, l2, d2) == 0 &&
			    strcmp(l2, u->local) == 0 && strcmp(d2, u->domain) == 0) {
				found = 1;
				if (secret)
					sb_printf(&out, "%s %s\n", n, secret);
				continue;
			}
			sb_adds(&out, line);
			if (out.len && out.s[out.len - 1] != '\n')
				sb_addc(&out, '\n');
		}
		explicit_bzero(line, sizeof line);
		explicit_bzero(copy, sizeof copy);
		fclose(f);
	} else if (errno != ENOENT) {
		log_err("open(%s) failed: %m", cfg->users_file);
		goto out;
	}
	if (!found && !secret) {
		rc = 0;
		goto out;
	}
	if (!found) {
		if (strcmp(u->domain, cfg->domains[0]) == 0)
			sb_printf(&out, "%s %s\n", u->local, secret);
		else
			sb_printf(&out, "%s %s\n", u->name, secret);
	}
	int fd = open(tmppath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		log_err("open(%s) failed: %m", tmppath);
		goto out;
	}
	/* root editing the file must not take it away from the handlers' user */
	if (have_owner && fchown(fd, st.st_uid, st.st_gid) != 0 && geteuid() == 0)
		log_warn("fchown(%s) failed: %m", tmppath);
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(fd, out.s + off, out.len - off);
		if (w <= 0) {
			log_err("write(%s) failed: %m", tmppath);
			close(fd);
			unlink(tmppath);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		log_err("fsync(%s) failed: %m", tmppath);
		unlink(tmppath);
		goto out;
	}
	if (rename(tmppath, cfg->users_file) != 0) {
		log_err("rename(%s, %s) failed: %m", tmppath, cfg->users_file);
		unlink(tmppath);
		goto out;
	}
	rc = 1;
out:
	if (out.s)
		explicit_bzero(out.s, out.len);
	sb_free(&out);
	close(lfd);
	return rc;
}
