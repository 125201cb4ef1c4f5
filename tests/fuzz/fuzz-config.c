/* fuzz-config: config_load (lib/config.c) over an arbitrary config file.
 * Properties: on error the message names the file; on success the
 * domain and route counts are in bounds, every string is NUL-terminated
 * within its array, every configured domain is local, and loading the
 * same file twice gives the same result. */
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define TERMINATED(a) FUZZ_ASSERT(memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		fuzz_env_init();
		init = true;
	}
	const char *file = fuzz_tmpfile("postern.conf", data, size);
	static struct config cfg, again;
	char err[512] = "";
	config_defaults(&cfg);
	int r = config_load(&cfg, file, err, sizeof err);
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r < 0) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(strncmp(err, file, strlen(file)) == 0);
		return 0;
	}
	FUZZ_ASSERT(cfg.ndomains >= 1 && cfg.ndomains <= CONFIG_MAX_DOMAINS);
	FUZZ_ASSERT(cfg.nroutes <= CONFIG_MAX_ROUTES);
	TERMINATED(cfg.path);
	TERMINATED(cfg.hostname);
	TERMINATED(cfg.mail_root);
	TERMINATED(cfg.users_file);
	TERMINATED(cfg.aliases_file);
	TERMINATED(cfg.queue_dir);
	TERMINATED(cfg.tls_cert);
	TERMINATED(cfg.tls_key);
	TERMINATED(cfg.resolver);
	for (size_t i = 0; i < cfg.ndomains; i++) {
		TERMINATED(cfg.domains[i]);
		FUZZ_ASSERT(config_is_local_domain(&cfg, cfg.domains[i]));
	}
	for (size_t i = 0; i < cfg.nroutes; i++) {
		TERMINATED(cfg.routes[i].domain);
		TERMINATED(cfg.routes[i].host);
		FUZZ_ASSERT(cfg.routes[i].port <= 65535);
	}
	config_defaults(&again);
	FUZZ_ASSERT(config_load(&again, file, err, sizeof err) == 0);
	FUZZ_ASSERT(cfg.ndomains == again.ndomains && cfg.nroutes == again.nroutes);
	FUZZ_ASSERT(strcmp(cfg.mail_root, again.mail_root) == 0);
	FUZZ_ASSERT(cfg.max_message_size == again.max_message_size);
	return 0;
}
