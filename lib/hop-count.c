#include "hop-count.h"

#include <ctype.h>
#include <string.h>

enum { HC_LINE_START, HC_NAME, HC_REST, HC_CR_AT_START };

static const char field[] = "received:";

void hop_count_init(struct hop_count *h)
{
	memset(h, 0, sizeof *h);
	h->state = HC_LINE_START;
}

void hop_count_feed(struct hop_count *h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < len && !h->body; i++) {
		unsigned char c = p[i];
		switch (h->state) {
		case HC_LINE_START:
			if (c == '\n') {
				h->body = true;
			} else if (c == '\r') {
				h->state = HC_CR_AT_START;
			} else if (tolower(c) == field[0]) {
				h->matched = 1;
				h->state = HC_NAME;
			} else {
				h->state = c == '\n' ? HC_LINE_START : HC_REST;
			}
			break;
		case HC_CR_AT_START:
			if (c == '\n')
				h->body = true; /* empty line: end of header */
			else
				h->state = HC_REST;
			break;
		case HC_NAME:
			if (c == '\n') {
				h->state = HC_LINE_START;
			} else if (tolower(c) == field[h->matched]) {
				if (++h->matched == sizeof field - 1) {
					h->hops++;
					h->state = HC_REST;
				}
			} else {
				h->state = HC_REST;
			}
			break;
		case HC_REST:
			if (c == '\n')
				h->state = HC_LINE_START;
			break;
		}
	}
}

bool hop_count_looping(const struct hop_count *h)
{
	return h->hops > HOP_COUNT_MAX;
}
