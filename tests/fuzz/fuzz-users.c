/* fuzz-users: the users file (lib/users.c): name validation, look-up and
 * plain-text password checks.
 *
 * Input: line 1 is the user name to look up, line 2 the password, the
 * rest is the users file.
 * Properties: a valid name is lower-case and cannot escape a directory;
 * a found user matches the name asked for; for a plain-text secret,
 * users_authenticate accepts exactly the secret (hashed secrets are not
 * checked here: yescrypt costs too much per input). */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "users.h"

static void check_name_parts(const char *local, const char *domain)
{
	FUZZ_ASSERT(local[0] != '\0' && domain[0] != '\0');
	FUZZ_ASSERT(local[0] != '.' && domain[0] != '.');
	FUZZ_ASSERT(strchr(local, '/') == NULL && strchr(domain, '/') == NULL);
	FUZZ_ASSERT(strcmp(local, "..") != 0 && strstr(domain, "..") == NULL);
	for (const char *c = local; *c; c++)
		FUZZ_ASSERT((unsigned char)*c > ' ' && !isupper((unsigned char)*c));
	for (const char *c = domain; *c; c++)
		FUZZ_ASSERT((unsigned char)*c > ' ' && !isupper((unsigned char)*c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static bool init;
	if (!init) {
		fuzz_env_init();
		config_defaults(&cfg);
		snprintf(cfg.domains[0], sizeof cfg.domains[0], "example.org");
		snprintf(cfg.domains[1], sizeof cfg.domains[1], "Example.NET");
		cfg.ndomains = 2;
		init = true;
	}
	const uint8_t *nl1 = memchr(data, '\n', size);
	if (!nl1)
		return 0;
	const uint8_t *rest = nl1 + 1;
	const uint8_t *nl2 = memchr(rest, '\n', size - (size_t)(rest - data));
	if (!nl2)
		return 0;
	char *name = fuzz_strndup(data, (size_t)(nl1 - data));
	char *password = fuzz_strndup(rest, (size_t)(nl2 - rest));
	const uint8_t *file = nl2 + 1;
	const char *path = fuzz_tmpfile("users", file, size - (size_t)(file - data));
	snprintf(cfg.users_file, sizeof cfg.users_file, "%s", path);

	char local[USER_LOCAL_MAX + 1], domain[USER_DOMAIN_MAX + 1];
	int valid = users_parse_name(&cfg, name, local, domain);
	FUZZ_ASSERT(valid == 0 || valid == -1);
	if (valid == 0)
		check_name_parts(local, domain);

	static struct user u;
	int r = users_lookup(&cfg, name, &u);
	FUZZ_ASSERT(r == 0 || r == 1);
	if (r == 1) {
		FUZZ_ASSERT(valid == 0);
		FUZZ_ASSERT(strcmp(u.local, local) == 0 && strcmp(u.domain, domain) == 0);
		char full[USER_NAME_MAX + 2];
		snprintf(full, sizeof full, "%s@%s", local, domain);
		FUZZ_ASSERT(strcmp(u.name, full) == 0);
		FUZZ_ASSERT(memchr(u.secret, '\0', sizeof u.secret) != NULL);
		if (u.plain) {
			char secret[sizeof u.secret];
			memcpy(secret, u.secret, sizeof secret);
			bool same = strcmp(secret, password) == 0;
			FUZZ_ASSERT(users_secret_equal(secret, password) == same);
			static struct user v;
			int a = users_authenticate(&cfg, name, password, &v);
			FUZZ_ASSERT(a == ((same && strlen(password) <= 1024) ? 1 : 0));
			/* the secret itself always works */
			FUZZ_ASSERT(users_authenticate(&cfg, name, secret, NULL) ==
				    (strlen(secret) <= 1024 ? 1 : 0));
		}
	}
	free(name);
	free(password);
	return 0;
}
