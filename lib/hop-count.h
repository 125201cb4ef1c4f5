/* hop-count: counts the Received: fields in a message's header section as
 * the content streams by (a byte state machine, no line buffer), for mail
 * loop detection (RFC 5321 §6.3: a hop count over a limit means a loop). */
#ifndef POSTERN_HOP_COUNT_H
#define POSTERN_HOP_COUNT_H

#include <stdbool.h>
#include <stddef.h>

#define HOP_COUNT_MAX 30 /* more Received: fields than this: a loop */

struct hop_count {
	int state;
	size_t matched;   /* octets of "received:" matched at a line start */
	unsigned hops;
	bool body;        /* the empty line ending the header was seen */
};

void hop_count_init(struct hop_count *h);
/* Feed content octets (CRLF or LF line ends). */
void hop_count_feed(struct hop_count *h, const void *buf, size_t len);
/* More than HOP_COUNT_MAX Received: fields so far. */
bool hop_count_looping(const struct hop_count *h);

#endif
