/* fuzz-aliases: alias expansion (lib/aliases.c) over an arbitrary
 * aliases file.
 *
 * Input: line 1 is the address to expand, the rest the aliases file.
 * Properties: expansion ends (loops and fan-out are bounded); an alias
 * gives at most ALIASES_MAX_TARGETS targets (none for a loop), each
 * "local@domain", NUL-terminated, never twice; a non-alias adds nothing. */
#include <string.h>

#include "aliases.h"
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static bool init;
	if (!init) {
		fuzz_env_init();
		config_defaults(&cfg);
		snprintf(cfg.domains[0], sizeof cfg.domains[0], "example.org");
		snprintf(cfg.domains[1], sizeof cfg.domains[1], "example.net");
		cfg.ndomains = 2;
		static const uint8_t users[] = "alice wonderland\nbob@example.net builder\n";
		snprintf(cfg.users_file, sizeof cfg.users_file, "%s",
			 fuzz_tmpfile("users", users, sizeof users - 1));
		init = true;
	}
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	char *addr = fuzz_strndup(data, (size_t)(nl - data));
	const uint8_t *file = nl + 1;
	snprintf(cfg.aliases_file, sizeof cfg.aliases_file, "%s",
		 fuzz_tmpfile("aliases", file, size - (size_t)(file - data)));

	static struct alias_targets t;
	t.n = 0;
	int r = aliases_expand(&cfg, addr, &t);
	FUZZ_ASSERT(r >= -1 && r <= 1);
	FUZZ_ASSERT(t.n <= ALIASES_MAX_TARGETS);
	if (r == 0)
		FUZZ_ASSERT(t.n == 0);
	if (r == 1) {
		/* a pure loop ("a: b", "b: a") is an alias with no target
		 * (tests/unit/test-users.c loop1): callers refuse it */
		for (size_t i = 0; i < t.n; i++) {
			FUZZ_ASSERT(memchr(t.addr[i], '\0', ALIASES_ADDR_MAX) != NULL);
			FUZZ_ASSERT(strchr(t.addr[i], '@') != NULL);
			for (size_t j = 0; j < i; j++)
				FUZZ_ASSERT(strcmp(t.addr[i], t.addr[j]) != 0);
		}
	}
	free(addr);
	return 0;
}
