/* config: the one `key = value` configuration file shared by every program.
 * Unknown keys and bad values are errors naming file and line. */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_DOMAINS 64
#define CONFIG_MAX_ROUTES 64
#define CONFIG_PATH_MAX 1024

struct config_route {
	char domain[256];
	char host[256];  /* name, IPv4 or IPv6 literal without brackets */
	unsigned port;
};

struct config {
	char path[CONFIG_PATH_MAX];      /* the file that was loaded */
	char hostname[256];
	char domains[CONFIG_MAX_DOMAINS][256]; /* domains[0] is the default */
	size_t ndomains;
	char mail_root[CONFIG_PATH_MAX];
	char users_file[CONFIG_PATH_MAX];
	char aliases_file[CONFIG_PATH_MAX];
	char queue_dir[CONFIG_PATH_MAX];
	size_t max_message_size;        /* octets, default 25 MiB */
	size_t max_recipients;          /* default 100 */
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	bool allow_plaintext_auth;
	struct config_route routes[CONFIG_MAX_ROUTES];
	size_t nroutes;
	char resolver[256];             /* "host:port" or empty */
	unsigned smtp_timeout;          /* seconds idle, default 300 */
	unsigned pop3_timeout;          /* default 600 */
	unsigned imap_timeout;          /* default 1800 */
	unsigned queue_lifetime;        /* seconds, default 5 days */
	/* from the command line, not the file */
	bool submission;                /* --submission: SMTP on 587/465, AUTH required */
};

/* Fill *cfg with defaults (hostname from gethostname(), paths relative to
 * nothing). */
void config_defaults(struct config *cfg);

/* Load FILE over the defaults. Relative paths in the file are resolved
 * against the file's directory. Returns 0, or -1 with a message
 * "FILE:LINE: what is wrong" in err. */
int config_load(struct config *cfg, const char *file, char *err, size_t errlen);

/* Parse the common command line of a handler: `-c FILE` or $POSTERN_CONF,
 * `--tls` and `--submission` (sets cfg->submission). Loads the config; on error logs it and returns -1.
 * *tls_r (may be NULL) is set when --tls was given. */
int config_from_args(struct config *cfg, int argc, char **argv, bool *tls_r);

/* True when DOMAIN (case-insensitive, trailing dot ignored) is local. */
bool config_is_local_domain(const struct config *cfg, const char *domain);

/* Parse "yes/no/true/false/1/0/on/off"; -1 when none of them. */
int config_parse_bool(const char *s);

#endif
