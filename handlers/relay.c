/* postern-relay: the queue runner. Takes the due messages of the queue
 * (cfg->queue_dir, lib/queue.h) and passes them to the next hop over SMTP,
 * retrying with backoff and bouncing what fails (handlers/relay/).
 *   postern-relay [-c FILE] [--once]   one pass over the due messages
 *   postern-relay [-c FILE] --flush    one pass, every pending recipient
 *   postern-relay [-c FILE] --list     show the queue
 * Exit codes: 0 done, 111 temporary trouble (queue unreadable), 100 usage. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "relay/relay.h"

int main(int argc, char **argv)
{
	bool list = false, flush = false;
	/* our own options are taken out; the rest is the common -c FILE */
	char *rest[8];
	int nrest = 0;
	rest[nrest++] = argv[0];
	log_init("relay");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0)
			list = true;
		else if (strcmp(argv[i], "--flush") == 0)
			flush = true;
		else if (strcmp(argv[i], "--once") == 0)
			; /* the default: one pass, then exit */
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && nrest < 6) {
			rest[nrest++] = argv[i];
			rest[nrest++] = argv[++i];
		} else {
			log_err("usage: postern-relay [-c FILE] [--once | --flush | --list]");
			return 100;
		}
	}
	rest[nrest] = NULL;
	static struct config cfg;
	if (config_from_args(&cfg, nrest, rest, NULL) < 0)
		return 111;
	if (list)
		return relay_list(&cfg) == 0 ? 0 : 111;
	return relay_run(&cfg, flush) == 0 ? 0 : 111;
}
