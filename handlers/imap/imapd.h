/* The IMAP4rev1 handler's shared state: the session, the command being
 * run, the selected mailbox's view, and the functions the per-command
 * files (cmd-*.c) share. */
#ifndef POSTERN_IMAPD_H
#define POSTERN_IMAPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "imap-keywords.h"
#include "imap-parser.h"
#include "imap-seqset.h"
#include "io.h"
#include "maildir.h"
#include "mime.h"
#include "strbuf.h"
#include "uidlist.h"
#include "users.h"

enum imap_state {
	IMAP_ST_NOAUTH = 1 << 0,
	IMAP_ST_AUTH = 1 << 1,
	IMAP_ST_SELECTED = 1 << 2,
};
#define IMAP_ST_ANY (IMAP_ST_NOAUTH | IMAP_ST_AUTH | IMAP_ST_SELECTED)
#define IMAP_ST_LOGGED_IN (IMAP_ST_AUTH | IMAP_ST_SELECTED)

#define IMAP_MAX_AUTH_FAILURES 3
#define IMAP_MAX_BAD_IN_ROW 20
#define IMAP_MAX_COMMANDS 1000000      /* per session */
#define IMAP_LITERAL_MAX 65536        /* literals of commands other than APPEND */

/* One message as the session sees it (sequence number = index + 1). */
struct view_msg {
	uint32_t uid;
	char *name;          /* current file name in new/ or cur/ */
	bool in_new;
	unsigned flags;      /* MAILDIR_F_* */
	uint32_t keywords;   /* bit i = keyword letter 'a' + i */
	off_t size;          /* -1 when unknown */
	bool recent;
	bool expunged;       /* gone from disk, EXPUNGE not yet sent */
	bool flags_dirty;    /* changed by another process, FETCH not yet sent */
	uint64_t modseq;     /* CONDSTORE mod-sequence (modseq.c) */
};

struct mailcache;

/* What view_sync last read the disk from: new/, cur/, the uid list and
 * the modseq file as statx saw them before reading (view.c). */
struct view_stamp {
	bool valid;                  /* every time stamp older than the clock */
	struct {
		bool present;
		uint64_t ino, size, dev;
		int64_t mtime_s, ctime_s;
		uint32_t mtime_ns, ctime_ns;
	} f[4];
};

/* The selected mailbox. */
struct mailbox_view {
	char name[MAILDIR_PATH_MAX];  /* as the client named it, INBOX upper-cased */
	char dir[MAILDIR_PATH_MAX];
	bool readonly;
	uint32_t uidvalidity, uidnext;
	struct view_msg *m;
	size_t n, cap;
	struct imap_keywords kw;
	uint32_t kw_known;           /* keyword bits announced in FLAGS */
	uint64_t highestmodseq;
	struct mailcache *cache;     /* opened at the first FETCH (view_cache) */
	struct view_stamp stamp;     /* of the last full sync */
};

struct imap_session {
	struct config cfg;
	struct io io;
	struct imap_parser parser;
	int state;
	const char *peer;            /* client address (peer_address()) */
	bool tls;                    /* connection encrypted (--tls or STARTTLS) */
	bool logout;                 /* end the session after this command */
	unsigned auth_failures;
	unsigned bad_in_row;
	unsigned long commands;      /* commands run in this session */
	struct user user;
	char root[MAILDIR_PATH_MAX]; /* the user's maildir (INBOX) */
	struct mailbox_view *view;   /* selected mailbox, or NULL */
	bool condstore;              /* CONDSTORE enabled (ENABLE or first use) */
	bool qresync;                /* QRESYNC enabled: VANISHED instead of EXPUNGE */
	bool utf8;                   /* ENABLE UTF8=ACCEPT (not advertised) */
};

/* The command being run; handlers answer through cmd_reply(). */
struct imap_cmd {
	const char *tag;
	char name[32];               /* upper case; "UID FETCH" style for UID */
	bool uid;
	struct imap_arg *args;       /* after the command name */
	size_t nargs;
	bool no_expunge;             /* no EXPUNGE responses at its end (§7.4.1) */
	char result[512];            /* "OK ...", "NO ...", "BAD ..." */
	bool replied;                /* the command sent its tagged reply itself */
};

/* reply.c */
void cmd_reply(struct imap_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Write a string as an IMAP astring/quoted/literal (mailbox names). */
void imap_write_astring(struct strbuf *out, const char *s);
/* "(\Seen \Answered kw...)" for the given flags. */
void imap_write_flags(struct strbuf *out, const struct mailbox_view *v, const struct view_msg *m);
/* "\Answered \Flagged \Deleted \Seen \Draft" plus the mailbox's keywords. */
void imap_write_flag_names(struct strbuf *out, const struct mailbox_view *v);
/* The capability list for the current state. */
void imap_capabilities(const struct imap_session *s, struct strbuf *out);
/* Plaintext passwords may be used: TLS, a loopback peer, or
 * allow_plaintext_auth (as SMTP and POP3 decide). */
bool imap_plaintext_ok(const struct imap_session *s);

/* mailbox.c: mailbox names */
/* Validate a client mailbox name and map it to a directory. "INBOX" in any
 * case becomes "INBOX" in canon_r. Returns 0, or -1 with a tagged NO set. */
int imap_mailbox_dir(struct imap_session *s, struct imap_cmd *c, const char *name,
		     char canon_r[MAILDIR_PATH_MAX], char dir_r[MAILDIR_PATH_MAX]);
bool imap_mailbox_exists(const char *dir);
bool imap_is_inbox(const char *name);

/* search-decode.c: a header value with RFC 2047 encoded words decoded
 * to UTF-8, appended to OUT (what SEARCH compares against). */
void imap_decode_header(const char *s, size_t len, struct strbuf *out);
/* The text parts of PART (of MSG) with transfer encodings undone and
 * charsets converted to UTF-8, appended to OUT; non-text parts skipped,
 * headers of attached messages included (decoded). */
void imap_decode_body(const char *msg, const struct mime_part *part, struct strbuf *out);

/* special-use.c */
/* "\Sent" etc. for the special folder NAME, or NULL. */
const char *imap_special_use(const char *name);
/* Create and subscribe the special folders (a new user's first login). */
void imap_special_use_create(const char *root);

/* view.c */
/* Open NAME (directory DIR). Sends nothing. 0 or -1 (logged). */
int view_open(struct imap_session *s, const char *name, const char *dir, bool readonly,
	      struct mailbox_view **v_r);
void view_free(struct mailbox_view *v);
/* Bring the view up to date with the disk and send the untagged
 * EXPUNGE / EXISTS / RECENT / FETCH FLAGS / FLAGS responses.
 * allow_expunge false: vanished messages stay (marked) for now. */
void view_sync(struct imap_session *s, bool allow_expunge);
/* Remove the message at index I from the view (its EXPUNGE was sent). */
void view_remove(struct mailbox_view *v, size_t i);
size_t view_count_recent(const struct mailbox_view *v);
/* Messages of a sequence set (UID set when uid) as a bitmap of indexes.
 * Returns 0, or -1 with a BAD/NO reply set on c (invalid set). */
int view_select_set(struct imap_session *s, struct imap_cmd *c, const char *set, bool uid,
		    bool **sel_r);
/* Re-read modseqs after this session changed flags: every message's
 * modseq and the view's highest are updated, nothing is sent. */
void view_refresh_modseq(struct mailbox_view *v);
/* The mailbox's cache (lib/mailcache.h), opened on first use and told
 * which UIDs the view holds. Never NULL. */
struct mailcache *view_cache(struct mailbox_view *v);
/* Write what the cache holds pending (end of a command). */
void view_cache_flush(struct mailbox_view *v);
/* Change flags of message I on disk and in the view. 1 done, 0 gone, -1 error. */
int view_set_flags(struct mailbox_view *v, size_t i, unsigned flags, uint32_t keywords);

/* recent.c: \Recent — the first session that sees a message gets it. */
/* The highest UID already given out as recent in DIR; with claim, raise it
 * to upto (under a lock) and return the previous value. */
uint32_t recent_claim(const char *dir, uint32_t upto, bool claim);

/* message.c: a message's contents. The one place that reads and parses
 * message files, so a cache can be put behind it later. */
struct imap_msg {
	char *data;                  /* whole message (NULL until loaded) */
	size_t len;
	time_t mtime;                /* internal date */
	struct mime_part *mime;      /* parsed when asked for */
};
enum { MSG_STAT = 1, MSG_DATA = 2, MSG_MIME = 4 };
/* Load what WHAT asks for (MSG_MIME implies MSG_DATA). 1 ok, 0 message
 * gone, -1 error (logged). */
int imap_msg_load(struct mailbox_view *v, struct view_msg *m, unsigned what, struct imap_msg *msg);
void imap_msg_free(struct imap_msg *msg);
/* Length of the header of MSG including the blank line that ends it (all
 * of MSG when there is none). */
size_t imap_header_len(const char *msg, size_t len);

/* date.c */
/* "dd-Mon-yyyy hh:mm:ss +zzzz" in local time. */
void imap_date_time_write(struct strbuf *out, time_t t);
/* Parse date-time (APPEND); -1 when invalid. */
int imap_date_time_parse(const char *s, time_t *t_r);
/* Parse a SEARCH date "d-Mon-yyyy" into days since 1970-01-01. */
int imap_date_parse(const char *s, long *days_r);
/* Days since 1970-01-01 of the local date of T. */
long imap_local_days(time_t t);
/* Days since 1970 of the date in an RFC 5322 Date: value (its own zone);
 * -1 when unparseable. */
int rfc5322_date_days(const char *s, size_t len, long *days_r);

/* flags.c: flag lists of STORE/APPEND. */
/* Parse flags from args (a list or atoms); keywords are added to the
 * mailbox DIR's keyword file when ADD_KW. Returns 0, or -1 with a reply
 * set on c. */
int imap_flags_parse(struct imap_cmd *c, const struct imap_arg *args, size_t n, const char *dir,
		     struct imap_keywords *kw, bool add_kw, unsigned *flags_r, uint32_t *kw_r);

/* modseq.c: CONDSTORE mod-sequences, detected per mailbox (design note
 * in modseq.c). */
struct modseq_rec {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	uint32_t keywords;
};
struct modseq_state {
	uint32_t uidvalidity;
	uint64_t highest;
	uint64_t floor;              /* VANISHED history complete above this */
	struct modseq_rec *recs;     /* ascending uid, as the uid list */
	size_t n;
	struct modseq_rec *gone;     /* expunged uids, ascending modseq */
	size_t ngone;
};
/* uidlist_sync DIR into *ul and bring the modseq file up to date with it
 * (zero both before the first call). 0, or -1 (logged) with both empty. */
int modseq_sync(const char *dir, struct uidlist *ul, struct modseq_state *ms);
/* The same with the modseq lock already held (modseq_lock). */
int modseq_sync_locked(const char *dir, struct uidlist *ul, struct modseq_state *ms);
/* Serialise modseq changes of DIR: a lock fd, or -1 (logged). */
int modseq_lock(const char *dir);
void modseq_unlock(int fd);
const struct modseq_rec *modseq_find(const struct modseq_state *ms, uint32_t uid);
void modseq_free(struct modseq_state *ms);
/* Append to OUT the UIDs (a uid-set, ascending) expunged after modseq
 * SINCE, limited to KNOWN when not NULL; may be empty. */
void modseq_vanished(const struct modseq_state *ms, const struct uidlist *ul, uint64_t since,
		     const struct imap_seqset *known, struct strbuf *out);
int imap_uid_cmp(const void *a, const void *b);

/* Turn CONDSTORE on for the session; the first time with a mailbox
 * selected, tell the client its HIGHESTMODSEQ (RFC 7162 §3.1). */
void imap_enable_condstore(struct imap_session *s);
/* Report expunged message at index I of the view (EXPUNGE, or VANISHED
 * with QRESYNC) and remove it. */
void view_expunged(struct imap_session *s, size_t i);

/* cmd-status.c: STATUS items known (MESSAGES ... SIZE). */
bool imap_status_items_valid(const struct imap_arg *items, size_t nitems);
/* Send "* STATUS name (...)" for DIR. 0, or -1 (nothing sent). */
int imap_status_send(struct imap_session *s, const char *canon, const char *dir,
		     const struct imap_arg *items, size_t nitems);

/* Command handlers. */
void cmd_capability(struct imap_session *s, struct imap_cmd *c);
void cmd_noop(struct imap_session *s, struct imap_cmd *c);
void cmd_logout(struct imap_session *s, struct imap_cmd *c);
void cmd_namespace(struct imap_session *s, struct imap_cmd *c);
void cmd_id(struct imap_session *s, struct imap_cmd *c);
void cmd_login(struct imap_session *s, struct imap_cmd *c);
void cmd_authenticate(struct imap_session *s, struct imap_cmd *c);
void cmd_select(struct imap_session *s, struct imap_cmd *c);
void cmd_close(struct imap_session *s, struct imap_cmd *c);
void cmd_unselect(struct imap_session *s, struct imap_cmd *c);
void cmd_create(struct imap_session *s, struct imap_cmd *c);
void cmd_delete(struct imap_session *s, struct imap_cmd *c);
void cmd_rename(struct imap_session *s, struct imap_cmd *c);
void cmd_subscribe(struct imap_session *s, struct imap_cmd *c);
void cmd_list(struct imap_session *s, struct imap_cmd *c);
void cmd_status(struct imap_session *s, struct imap_cmd *c);
void cmd_append(struct imap_session *s, struct imap_cmd *c);
void cmd_expunge(struct imap_session *s, struct imap_cmd *c);
void cmd_fetch(struct imap_session *s, struct imap_cmd *c);
void cmd_store(struct imap_session *s, struct imap_cmd *c);
void cmd_copy(struct imap_session *s, struct imap_cmd *c);
void cmd_move(struct imap_session *s, struct imap_cmd *c);
void cmd_search(struct imap_session *s, struct imap_cmd *c);
void cmd_idle(struct imap_session *s, struct imap_cmd *c);
void cmd_starttls(struct imap_session *s, struct imap_cmd *c);
void cmd_enable(struct imap_session *s, struct imap_cmd *c);

/* cmd-append.c: the UID the uid list gives the file NAME in DIR (0 when
 * it cannot be told), and the list's UIDVALIDITY. */
uint32_t imap_uid_of(const char *dir, const char *name, uint32_t *uidvalidity_r);

/* Expunge \Deleted messages (of SEL when not NULL); send EXPUNGE responses
 * when report. Returns 0 or -1. */
int imap_expunge_deleted(struct imap_session *s, const bool *sel, bool report);

#endif
