/* postern-user: manage the users file.
 *   postern-user [-c FILE] add NAME      (password from the terminal or stdin)
 *   postern-user [-c FILE] passwd NAME
 *   postern-user [-c FILE] del NAME
 *   postern-user [-c FILE] list
 * Passwords are never taken from argv (ps shows it); they are hashed with
 * yescrypt. `add` also creates the user's maildir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "maildir.h"
#include "users.h"

#define EXIT_USAGE 1
#define EXIT_FAIL 111

static void usage(void)
{
	fputs("usage: postern-user [-c FILE] add|passwd|del NAME\n"
	      "       postern-user [-c FILE] list\n"
	      "The password is read from the terminal (twice) or from the first line of stdin.\n",
	      stderr);
}

/* One line from stdin, echo off when it is a terminal. */
static int read_line(const char *prompt, char *buf, size_t len)
{
	bool tty = isatty(0);
	struct termios old, quiet;
	if (tty) {
		fputs(prompt, stderr);
		if (tcgetattr(0, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(0, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	char *r = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!r)
		return -1;
	size_t n = strlen(buf);
	if (n == len - 1 && buf[n - 1] != '\n')
		return -1;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n ? 0 : -1;
}

static int get_password(char *out, size_t len)
{
	char again[1024];
	if (read_line("Password: ", out, len) != 0) {
		fputs("postern-user: no password given\n", stderr);
		return -1;
	}
	if (isatty(0)) {
		if (read_line("Again: ", again, sizeof again) != 0 || strcmp(out, again) != 0) {
			explicit_bzero(again, sizeof again);
			fputs("postern-user: passwords differ\n", stderr);
			return -1;
		}
		explicit_bzero(again, sizeof again);
	}
	return 0;
}

static int set_password(const struct config *cfg, const struct user *u)
{
	char pw[1024], hash[512];
	if (get_password(pw, sizeof pw) != 0)
		return EXIT_USAGE;
	int rc = users_hash_password(pw, hash, sizeof hash);
	explicit_bzero(pw, sizeof pw);
	if (rc != 0 || users_write_entry(cfg, u, hash) != 1) {
		fputs("postern-user: cannot write the users file (see the log)\n", stderr);
		return EXIT_FAIL;
	}
	return 0;
}

/* Run as root, hand the new maildir to the owner of mail_root (the user the
 * handlers run as), or they could not deliver into it. */
static void give_to_mail_owner(const struct config *cfg, const char *domain, const char *dir)
{
	struct stat root;
	if (geteuid() != 0 || stat(cfg->mail_root, &root) != 0 || root.st_uid == 0)
		return;
	char path[CONFIG_PATH_MAX + USER_DOMAIN_MAX + 8];
	const char *subs[] = { "", "/cur", "/new", "/tmp" };
	snprintf(path, sizeof path, "%s/%s", cfg->mail_root, domain);
	if (lchown(path, root.st_uid, root.st_gid) != 0)
		log_warn("lchown(%s) failed: %m", path);
	for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
		snprintf(path, sizeof path, "%s%s", dir, subs[i]);
		if (lchown(path, root.st_uid, root.st_gid) != 0)
			log_warn("lchown(%s) failed: %m", path);
	}
}

static int cmd_list(const struct config *cfg)
{
	FILE *f = fopen(cfg->users_file, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "postern-user: %s: %s\n", cfg->users_file, strerror(errno));
		return EXIT_FAIL;
	}
	char line[2048];
	while (fgets(line, sizeof line, f)) {
		char *p = line, local[USER_LOCAL_MAX + 1], domain[USER_DOMAIN_MAX + 1];
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || *p == '\n')
			continue;
		p[strcspn(p, " \t\r\n")] = '\0';
		if (users_parse_name(cfg, p, local, domain) == 0)
			printf("%s@%s\n", local, domain);
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	int i = 1;
	if (getenv("POSTERN_LOG") == NULL)
		setenv("POSTERN_LOG", "stderr", 1);
	log_init("user");
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		conf = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage();
		return EXIT_USAGE;
	}
	const char *cmd = argv[i++];
	struct config cfg;
	char cfgargs0[] = "postern-user", cflag[] = "-c";
	char *cargv[3] = { cfgargs0, cflag, (char *)conf };
	if (config_from_args(&cfg, conf ? 3 : 1, cargv, NULL) != 0)
		return EXIT_FAIL;
	if (strcmp(cmd, "list") == 0 && i == argc)
		return cmd_list(&cfg);
	if (i + 1 != argc) {
		usage();
		return EXIT_USAGE;
	}
	struct user u;
	memset(&u, 0, sizeof u);
	if (users_parse_name(&cfg, argv[i], u.local, u.domain) != 0) {
		fprintf(stderr, "postern-user: bad user name: %s\n", argv[i]);
		return EXIT_USAGE;
	}
	snprintf(u.name, sizeof u.name, "%s@%s", u.local, u.domain);
	struct user existing;
	int found = users_lookup(&cfg, u.name, &existing);
	explicit_bzero(&existing, sizeof existing);
	if (found < 0 && strcmp(cmd, "add") != 0)
		return EXIT_FAIL;
	if (strcmp(cmd, "add") == 0) {
		if (found == 1) {
			fprintf(stderr, "postern-user: %s already exists\n", u.name);
			return EXIT_USAGE;
		}
		if (!config_is_local_domain(&cfg, u.domain))
			fprintf(stderr, "postern-user: warning: %s is not in domains of %s\n", u.domain,
				cfg.path);
		int rc = set_password(&cfg, &u);
		if (rc != 0)
			return rc;
		char dir[MAILDIR_PATH_MAX];
		if (maildir_user_path(&cfg, u.local, u.domain, dir, sizeof dir) != 0 ||
		    maildir_check_user_dir(&cfg, dir) != 0 || maildir_create(dir) != 0) {
			fprintf(stderr, "postern-user: user added, but the maildir could not be created\n");
			return EXIT_FAIL;
		}
		give_to_mail_owner(&cfg, u.domain, dir);
		printf("added %s (maildir %s)\n", u.name, dir);
		return 0;
	}
	if (found != 1) {
		fprintf(stderr, "postern-user: no such user: %s\n", u.name);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "passwd") == 0) {
		int rc = set_password(&cfg, &u);
		if (rc == 0)
			printf("password changed for %s\n", u.name);
		return rc;
	}
	if (strcmp(cmd, "del") == 0) {
		if (users_write_entry(&cfg, &u, NULL) != 1)
			return EXIT_FAIL;
		printf("deleted %s (the maildir is kept)\n", u.name);
		return 0;
	}
	usage();
	return EXIT_USAGE;
}
