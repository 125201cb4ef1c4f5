#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_LEN 4096

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	if (gethostname(cfg->hostname, sizeof cfg->hostname - 1) != 0 || !cfg->hostname[0])
		strcpy(cfg->hostname, "localhost");
	strcpy(cfg->domains[0], "localhost");
	cfg->ndomains = 1;
	strcpy(cfg->mail_root, "/var/mail/postern");
	strcpy(cfg->users_file, "/etc/postern/users");
	strcpy(cfg->aliases_file, "/etc/postern/aliases");
	strcpy(cfg->queue_dir, "/var/spool/postern");
	cfg->max_message_size = 25u * 1024 * 1024;
	cfg->max_recipients = 100;
	cfg->smtp_timeout = 300;
	cfg->pop3_timeout = 600;
	cfg->imap_timeout = 1800;
	cfg->queue_lifetime = 5 * 24 * 3600;
}

int config_parse_bool(const char *s)
{
	static const char *yes[] = { "yes", "true", "1", "on" };
	static const char *no[] = { "no", "false", "0", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* A host name or domain: letters, digits, '-', '.', bounded. */
static int valid_domain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return 0;
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			return 0;
	}
	return 1;
}

static int set_path(char *dst, const char *dir, const char *val)
{
	int n;
	if (val[0] == '/' || !dir[0])
		n = snprintf(dst, CONFIG_PATH_MAX, "%s", val);
	else
		n = snprintf(dst, CONFIG_PATH_MAX, "%s/%s", dir, val);
	return (n < 0 || n >= CONFIG_PATH_MAX) ? -1 : 0;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned long long mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ULL * 1024 * 1024, end++;
	if (errno || *end || __builtin_mul_overflow(v, mult, &v) || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "domain=host:port" with host possibly "[v6]". */
static int parse_route(const char *item, struct config_route *r)
{
	const char *eq = strchr(item, '=');
	if (!eq || (size_t)(eq - item) >= sizeof r->domain || eq == item)
		return -1;
	memcpy(r->domain, item, (size_t)(eq - item));
	r->domain[eq - item] = '\0';
	if (!valid_domain(r->domain))
		return -1;
	const char *h = eq + 1, *colon;
	size_t hl;
	if (*h == '[') {
		const char *close = strchr(h, ']');
		if (!close)
			return -1;
		h++;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (*colon && *colon != ':')
			return -1;
	} else {
		colon = strrchr(h, ':');
		hl = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (hl == 0 || hl >= sizeof r->host)
		return -1;
	memcpy(r->host, h, hl);
	r->host[hl] = '\0';
	r->port = 25;
	if (colon && *colon == ':') {
		unsigned long long p;
		if (parse_uint(colon + 1, 65535, &p) || p == 0)
			return -1;
		r->port = (unsigned)p;
	}
	for (char *p = r->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, errlen, "%s:%u: %s", file, line, msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
	return -1;
}

static int set_key(struct config *cfg, const char *dir, const char *key, char *val,
		   const char **why)
{
	unsigned long long n;
	*why = "bad value";
	if (strcmp(key, "hostname") == 0) {
		if (!valid_domain(val))
			return -1;
		snprintf(cfg->hostname, sizeof cfg->hostname, "%s", val);
	} else if (strcmp(key, "domains") == 0) {
		cfg->ndomains = 0;
		for (char *save = NULL, *d = strtok_r(val, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			d = trim(d);
			/* stored without the root's trailing dot, as compared */
			size_t dl = strlen(d);
			if (dl > 1 && d[dl - 1] == '.')
				d[--dl] = '\0';
			/* also a directory name under mail_root: no empty labels */
			if (!valid_domain(d) || d[0] == '.' || d[dl - 1] == '.' || strstr(d, ".."))
				return -1;
			if (cfg->ndomains == CONFIG_MAX_DOMAINS) {
				*why = "too many domains";
				return -1;
			}
			char *out = cfg->domains[cfg->ndomains++];
			snprintf(out, 256, "%s", d);
			for (char *p = out; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		}
		if (cfg->ndomains == 0)
			return -1;
	} else if (strcmp(key, "mail_root") == 0) {
		return set_path(cfg->mail_root, dir, val);
	} else if (strcmp(key, "users_file") == 0) {
		return set_path(cfg->users_file, dir, val);
	} else if (strcmp(key, "aliases_file") == 0) {
		return set_path(cfg->aliases_file, dir, val);
	} else if (strcmp(key, "queue_dir") == 0) {
		return set_path(cfg->queue_dir, dir, val);
	} else if (strcmp(key, "tls_cert") == 0) {
		return set_path(cfg->tls_cert, dir, val);
	} else if (strcmp(key, "tls_key") == 0) {
		return set_path(cfg->tls_key, dir, val);
	} else if (strcmp(key, "max_message_size") == 0) {
		if (parse_uint(val, (unsigned long long)1 << 40, &n) || n < 1024)
			return -1;
		cfg->max_message_size = (size_t)n;
	} else if (strcmp(key, "max_recipients") == 0) {
		if (parse_uint(val, 100000, &n) || n == 0)
			return -1;
		cfg->max_recipients = (size_t)n;
	} else if (strcmp(key, "allow_plaintext_auth") == 0) {
		int b = config_parse_bool(val);
		if (b < 0)
			return -1;
		cfg->allow_plaintext_auth = b;
	} else if (strcmp(key, "routes") == 0) {
		cfg->nroutes = 0;
		for (char *save = NULL, *r = strtok_r(val, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
			r = trim(r);
			if (!*r)
				continue;
			if (cfg->nroutes == CONFIG_MAX_ROUTES) {
				*why = "too many routes";
				return -1;
			}
			if (parse_route(r, &cfg->routes[cfg->nroutes]) != 0) {
				*why = "bad route (want domain=host:port)";
				return -1;
			}
			cfg->nroutes++;
		}
	} else if (strcmp(key, "resolver") == 0) {
		if (strlen(val) >= sizeof cfg->resolver)
			return -1;
		snprintf(cfg->resolver, sizeof cfg->resolver, "%s", val);
	} else if (strcmp(key, "smtp_timeout") == 0 || strcmp(key, "pop3_timeout") == 0 ||
		   strcmp(key, "imap_timeout") == 0 || strcmp(key, "queue_lifetime") == 0) {
		if (parse_uint(val, 365ULL * 24 * 3600, &n) || n == 0)
			return -1;
		if (key[0] == 's')
			cfg->smtp_timeout = (unsigned)n;
		else if (key[0] == 'p')
			cfg->pop3_timeout = (unsigned)n;
		else if (key[0] == 'i')
			cfg->imap_timeout = (unsigned)n;
		else
			cfg->queue_lifetime = (unsigned)n;
	} else {
		*why = "unknown key";
		return -1;
	}
	return 0;
}

int config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
	char dir[CONFIG_PATH_MAX] = "";
	const char *slash = strrchr(file, '/');
	if (slash) {
		size_t dl = (size_t)(slash - file);
		if (dl >= sizeof dir)
			return fail(err, errlen, file, 0, "path too long");
		memcpy(dir, file, dl);
		dir[dl] = '\0';
		if (dl == 0)
			strcpy(dir, "/");
	}
	if (dir[0] != '/') {
		/* make relative paths absolute, so handlers may chdir */
		char cwd[CONFIG_PATH_MAX], tmp[CONFIG_PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return fail(err, errlen, file, 0, "getcwd failed: %s", strerror(errno));
		int n = dir[0] ? snprintf(tmp, sizeof tmp, "%s/%s", cwd, dir)
			       : snprintf(tmp, sizeof tmp, "%s", cwd);
		if (n < 0 || (size_t)n >= sizeof tmp)
			return fail(err, errlen, file, 0, "path too long");
		memcpy(dir, tmp, sizeof dir);
	}
	FILE *f = fopen(file, "re");
	if (!f)
		return fail(err, errlen, file, 0, "cannot open: %s", strerror(errno));
	snprintf(cfg->path, sizeof cfg->path, "%s", file);
	char line[LINE_MAX_LEN + 2];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			rc = fail(err, errlen, file, lineno, "line too long");
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = fail(err, errlen, file, lineno, "expected key = value");
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		const char *why;
		char keycopy[64];
		snprintf(keycopy, sizeof keycopy, "%s", key);
		if (set_key(cfg, dir, key, val, &why) != 0) {
			rc = fail(err, errlen, file, lineno, "%s: %s", keycopy, why);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, file, lineno, "read error");
	fclose(f);
	return rc;
}

int config_from_args(struct config *cfg, int argc, char **argv, bool *tls_r)
{
	const char *file = getenv("POSTERN_CONF");
	bool submission = false;
	if (tls_r)
		*tls_r = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--tls") == 0) {
			if (tls_r)
				*tls_r = true;
		} else if (strcmp(argv[i], "--submission") == 0) {
			submission = true;
		} else {
			log_err("unknown argument: %s", argv[i]);
			return -1;
		}
	}
	config_defaults(cfg);
	if (!file || !*file)
		file = "/etc/postern/postern.conf";
	char err[1024];
	if (config_load(cfg, file, err, sizeof err) != 0) {
		log_err("config: %s", err);
		return -1;
	}
	cfg->submission = submission;
	return 0;
}

bool config_is_local_domain(const struct config *cfg, const char *domain)
{
	size_t n = strlen(domain);
	if (n && domain[n - 1] == '.')
		n--;
	for (size_t i = 0; i < cfg->ndomains; i++) {
		if (strlen(cfg->domains[i]) == n && strncasecmp(cfg->domains[i], domain, n) == 0)
			return true;
	}
	return false;
}
