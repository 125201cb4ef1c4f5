/* mailbox: the user's INBOX on the server, over POP3 (pop3.c) or IMAP
 * (imap.c), behind one interface so the user interface does not care.
 * Messages are numbered 1..count in the server's order. */
#ifndef POSTERN_MAIL_MAILBOX_H
#define POSTERN_MAIL_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conn.h"
#include "options.h"
#include "status.h"
#include "strbuf.h"

#define MAILBOX_MAX_MESSAGES 100000
#define MAILBOX_MAX_MESSAGE_SIZE (256u * 1024 * 1024)

struct mail_summary {
	unsigned num;
	char uid[128];          /* POP3 UIDL or IMAP UID */
	char from[256];         /* sender's addr-spec, "" when none */
	time_t date;            /* received (POP3: Received:, else Date:) */
	bool has_date;
	char *subject;          /* decoded to UTF-8, never NULL */
	size_t size;
};

struct mailbox {
	const struct mail_opts *o;
	struct conn c;
	bool open;
	unsigned count;
	unsigned imap_tag;
	char err[MAIL_ERR_MAX];
};

/* Connect, authenticate and open the INBOX. */
enum mail_status mailbox_open(struct mailbox *mb, const struct mail_opts *o);
/* Summaries of every message (caller frees with mailbox_free_list). */
enum mail_status mailbox_list(struct mailbox *mb, struct mail_summary **list_r, size_t *n_r);
void mailbox_free_list(struct mail_summary *list, size_t n);
/* The whole message NUM (1-based) as the server stores it (CRLF). */
enum mail_status mailbox_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg);
/* Delete message NUM and commit (POP3 DELE + QUIT, IMAP STORE \Deleted +
 * EXPUNGE + LOGOUT). The session is closed afterwards either way. */
enum mail_status mailbox_delete(struct mailbox *mb, unsigned num);
/* Log out (QUIT / LOGOUT) and close. Safe on a closed mailbox. */
void mailbox_close(struct mailbox *mb);

/* Summary fields from a message header (POP3 TOP n 0). */
void mailbox_summary_from_header(struct mail_summary *s, const char *hdr, size_t len);

/* Protocol back ends. */
enum mail_status pop3_open(struct mailbox *mb);
enum mail_status pop3_list(struct mailbox *mb, struct mail_summary *list);
enum mail_status pop3_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg);
enum mail_status pop3_delete(struct mailbox *mb, unsigned num);
void pop3_close(struct mailbox *mb);
enum mail_status imap_open(struct mailbox *mb);
enum mail_status imap_list(struct mailbox *mb, struct mail_summary *list);
enum mail_status imap_fetch(struct mailbox *mb, unsigned num, struct strbuf *msg);
enum mail_status imap_delete(struct mailbox *mb, unsigned num);
void imap_close(struct mailbox *mb);

#endif
