/* Message contents for FETCH sections and SEARCH: imap_msg_load() reads
 * and parses a message file. Dates, sizes, ENVELOPE and BODYSTRUCTURE are
 * answered by the per-mailbox cache instead (mailcache_fill in
 * cmd-fetch.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"

#define MSG_READ_MAX ((off_t)1 << 30) /* refuse to slurp absurd files */

int imap_msg_load(struct mailbox_view *v, struct view_msg *m, unsigned what, struct imap_msg *msg)
{
	if (what & MSG_MIME)
		what |= MSG_DATA;
	if ((!(what & MSG_DATA) || msg->data) && (!(what & MSG_MIME) || msg->mime) && msg->mtime)
		return 1;
	if (msg->data && msg->mtime && !msg->mime) {
		/* the octets are here: parse them, no need to open the file again */
		mime_parse(msg->data, msg->len, &msg->mime);
		return 1;
	}
	char name[MAILDIR_NAME_MAX];
	bool in_new = m->in_new;
	snprintf(name, sizeof name, "%s", m->name);
	int fd = maildir_open_msg(v->dir, name, sizeof name, &in_new);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_err("open(%s/%s) failed: %m", v->dir, name);
		return -1;
	}
	if (strcmp(name, m->name) != 0) {
		free(m->name);
		m->name = xstrdup(name);
	}
	m->in_new = in_new;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		log_err("fstat(%s) failed: %m", name);
		close(fd);
		return -1;
	}
	msg->mtime = st.st_mtime;
	if (m->size < 0)
		m->size = st.st_size;
	if ((what & MSG_DATA) && !msg->data) {
		if (st.st_size > MSG_READ_MAX) {
			log_err("message %s too large to read (%lld octets)", name, (long long)st.st_size);
			close(fd);
			return -1;
		}
		size_t len = (size_t)st.st_size, got = 0;
		char *buf = xmalloc(len + 1);
		while (got < len) {
			ssize_t n = read(fd, buf + got, len - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				log_err("read(%s) failed: %m", name);
				free(buf);
				close(fd);
				return -1;
			}
			if (n == 0)
				break; /* shrank under us: use what is there */
			got += (size_t)n;
		}
		buf[got] = '\0';
		msg->data = buf;
		msg->len = got;
	}
	close(fd);
	if ((what & MSG_MIME) && !msg->mime)
		mime_parse(msg->data, msg->len, &msg->mime);
	return 1;
}

void imap_msg_free(struct imap_msg *msg)
{
	if (msg->mime)
		mime_free(msg->mime);
	free(msg->data);
	memset(msg, 0, sizeof *msg);
}

size_t imap_header_len(const char *msg, size_t len)
{
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	if (len >= 1 && msg[0] == '\n')
		return 1;
	for (size_t i = 1; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (msg[i - 1] == '\n') /* LF LF */
			return i + 1;
		if (i >= 3 && msg[i - 1] == '\r' && msg[i - 2] == '\n' && msg[i - 3] == '\r')
			return i + 1; /* CRLF CRLF */
	}
	return len;
}
