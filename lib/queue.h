/* queue: the outgoing mail queue under cfg->queue_dir.
 *
 * Layout (all on one file system, so rename() is atomic):
 *   tmp/<id>, tmp/<id>.env   being written
 *   msg/<id>                 the content (our Received: + the message, CRLF),
 *                            never changed once written
 *   env/<id>                 the envelope (text, see queue.c), replaced
 *                            atomically: tmp + fsync + rename + fsync env/
 *   lock/<id>                flock()ed by whoever works on the message, so
 *                            concurrent runners never deliver it twice; the
 *                            lock dies with its process (SIGKILL included)
 *   new/<id>                 empty marker "something was queued": watched by
 *                            the systemd .path unit, cleared by the runner
 * A message exists once env/<id> exists; msg/<id> is in place (and
 * fsync'd) before that. Removal goes env, msg, lock, so a crash leaves at
 * worst an orphan msg/ file that no envelope names (swept by the runner). */
#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"

#define QUEUE_ID_MAX 64
#define QUEUE_ADDR_MAX 321   /* "local@domain" as sent, quotes kept */
#define QUEUE_DIAG_MAX 512
#define QUEUE_MAX_RCPTS 10000
#define QUEUE_ENV_MAX (4 << 20) /* an envelope file larger than this is corrupt */

enum queue_state {
	QUEUE_PENDING, /* to be tried at next_try */
	QUEUE_DONE,    /* accepted by the next hop */
	QUEUE_FAILED,  /* permanently failed, bounce not yet sent */
	QUEUE_BOUNCED, /* permanently failed and reported (or not reportable) */
};

struct queue_rcpt {
	enum queue_state state;
	unsigned attempts;
	time_t next_try;                 /* seconds since the epoch */
	char addr[QUEUE_ADDR_MAX];
	char diag[QUEUE_DIAG_MAX];       /* last error ("550 5.1.1 ..."), may be "" */
};

struct queue_env {
	char id[QUEUE_ID_MAX];
	char sender[QUEUE_ADDR_MAX];     /* "" for the null sender */
	time_t created;
	bool body_8bit;                  /* received with BODY=8BITMIME */
	bool smtputf8;                   /* received with SMTPUTF8 */
	struct queue_rcpt *rcpt;
	size_t nrcpt;
};

/* Seconds since the epoch: $POSTERN_NOW when set (tests), else time(). */
time_t queue_now(void);

/* True when ID is a queue id we would have made (letters, digits, '-',
 * '.', '_', not starting with '.'; shorter than QUEUE_ID_MAX). */
bool queue_id_valid(const char *id);

/* Create queue_dir and its subdirectories (0700); idempotent. 0 or -1. */
int queue_dirs_create(const struct config *cfg);

/* Append a recipient (addr copied, state pending, due at once). */
void queue_env_add(struct queue_env *env, const char *addr);
void queue_env_free(struct queue_env *env);
/* Serialise / parse an envelope (the on-disk text). parse: 0 or -1. */
char *queue_env_format(const struct queue_env *env, size_t *len_r);
int queue_env_parse(const char *text, size_t len, struct queue_env *env);

/* A message being queued. */
struct queue_new {
	const struct config *cfg;
	int fd;
	char id[QUEUE_ID_MAX];
	char tmp_path[CONFIG_PATH_MAX + 96];
	char env_tmp[CONFIG_PATH_MAX + 96];
	char msg_path[CONFIG_PATH_MAX + 96];
	bool prepared;                   /* msg/<id> and the env tmp are on disk */
	bool failed;
	int err;
	off_t size;
};

/* Open tmp/<ID> (O_EXCL). Whatever it returns, queue_new_abort is safe.
 * 0 or -1 (errno, logged). */
int queue_new_open(const struct config *cfg, struct queue_new *q, const char *id);
/* Append content; errors are remembered and reported by prepare. */
void queue_new_write(struct queue_new *q, const void *buf, size_t len);
/* fsync + close the content, rename it to msg/<id>, fsync msg/, and write
 * ENV (id set from q) to tmp/<id>.env, fsync'd. Nothing is visible to the
 * runner yet. 0 or -1 (errno, logged). */
int queue_new_prepare(struct queue_new *q, struct queue_env *env);
/* Make the message visible: rename the envelope into env/, fsync env/,
 * create the new/ marker. 0 or -1 (errno, logged; nothing visible). */
int queue_new_publish(struct queue_new *q);
/* Remove whatever exists of a message not yet published. */
void queue_new_abort(struct queue_new *q);

/* Enqueue a whole message in memory (bounces). ID may be NULL (one is
 * made). 0 or -1 (logged). */
int queue_enqueue(const struct config *cfg, const char *id, const char *sender,
		  const char *const *rcpts, size_t nrcpt, const void *msg, size_t len);

/* Read env/<ID>: 1 read, 0 gone, -1 error (logged). */
int queue_env_read(const struct config *cfg, const char *id, struct queue_env *env);
/* Replace env/<id> atomically. 0 or -1 (logged). */
int queue_env_write(const struct config *cfg, const struct queue_env *env);
/* Open msg/<ID> for reading: fd or -1 (errno). */
int queue_msg_open(const struct config *cfg, const char *id);
/* Remove the message (env, msg, lock files). 0 or -1. */
int queue_remove(const struct config *cfg, const char *id);

/* flock lock/<ID>: the fd (close to unlock) or -1 (EWOULDBLOCK when held
 * and !wait). */
int queue_lock(const struct config *cfg, const char *id, bool wait);

/* The ids in env/, sorted (oldest first: ids start with the time). *ids_r
 * is a malloc'd array of malloc'd strings; free with queue_ids_free. */
int queue_list(const struct config *cfg, char ***ids_r, size_t *n_r);
void queue_ids_free(char **ids, size_t n);

/* Files left by a crash: tmp/ files, and msg/ files no envelope names,
 * older than QUEUE_STALE_AGE (by mtime, against queue_now()). */
#define QUEUE_STALE_AGE (36 * 3600)
void queue_sweep(const struct config *cfg);

/* Remove the new/ markers (the runner is about to scan env/). */
void queue_markers_clear(const struct config *cfg);

/* A fresh queue id: "<hex time>.<16 hex random>". */
void queue_make_id(char *out, size_t outlen);

/* Start a detached `postern-relay --once` (double fork, setsid, stdio on
 * /dev/null) from the directory of the running program, with the same
 * config. Never waits for it. Skipped under systemd ($INVOCATION_ID: the
 * .path unit starts the runner) or when $POSTERN_RELAY_SPAWN is "0". */
void queue_kick(const struct config *cfg);

#endif
