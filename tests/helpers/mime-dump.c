/* mime-dump FILE...: for each message file, print its ENVELOPE,
 * BODYSTRUCTURE and BODY as lib/ formats them, each as "E|S|B <length>\n"
 * followed by the octets and "\n". Used by tests/mime/fuzz-dovecot.py to
 * compare with Dovecot; not a test by itself. */
#include <stdio.h>
#include <stdlib.h>

#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "mime.h"
#include "strbuf.h"

static void put(char tag, const struct strbuf *s)
{
	printf("%c %zu\n", tag, s->len);
	fwrite(s->s ? s->s : "", 1, s->len, stdout);
	putchar('\n');
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 111;
		}
		struct strbuf m = STRBUF_INIT, o = STRBUF_INIT;
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			sb_add(&m, buf, n);
		fclose(f);
		sb_grow(&m, 0);
		struct mime_part *root;
		mime_parse(m.s, m.len, &root);
		imap_envelope_write(&o, m.s + root->hdr_off, root->hdr_len);
		put('E', &o);
		sb_reset(&o);
		imap_bodystructure_write(&o, m.s, root, true);
		put('S', &o);
		sb_reset(&o);
		imap_bodystructure_write(&o, m.s, root, false);
		put('B', &o);
		mime_free(root);
		sb_free(&o);
		sb_free(&m);
	}
	return 0;
}
