/* FETCH items: what the client asked for, parsed once per command. */
#ifndef POSTERN_IMAP_FETCH_H
#define POSTERN_IMAP_FETCH_H

#include "imapd.h"

#define FETCH_PATH_MAX 32

enum fetch_kind {
	F_FLAGS,
	F_INTERNALDATE,
	F_SIZE,
	F_ENVELOPE,
	F_BODY,
	F_BODYSTRUCTURE,
	F_UID,
	F_RFC822,
	F_RFC822_HEADER,
	F_RFC822_TEXT,
	F_SECTION,
	F_MODSEQ,
};

enum fetch_spec {
	SP_ALL,          /* BODY[] or BODY[1.2] */
	SP_HEADER,
	SP_FIELDS,
	SP_FIELDS_NOT,
	SP_MIME,
	SP_TEXT,
};

struct fetch_item {
	enum fetch_kind kind;
	bool peek;
	unsigned path[FETCH_PATH_MAX];
	size_t depth;
	enum fetch_spec spec;
	char **fields;
	size_t nfields;
	bool partial;
	uint64_t off, cnt;
	char *label;     /* the name in the response, e.g. "BODY[HEADER]<0>" */
};

/* Parse "BODY[...]<o.c>" / "BODY.PEEK[...]" (the whole atom). 0 or -1. */
int fetch_section_parse(const char *atom, struct fetch_item *it);

/* The octets of IT's section of MSG (loaded with data; with mime when
 * it->depth > 0). Built results (header field lists) go into TMP.
 * Returns 0, or -1 when the section does not exist (NIL). */
int fetch_section_data(const struct imap_msg *msg, const struct fetch_item *it, struct strbuf *tmp,
		       const char **data_r, size_t *len_r);

#endif
