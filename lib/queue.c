/* queue: enqueueing, reading, rewriting, locking and removing messages
 * (the layout and the crash-safety argument are in queue.h; the envelope
 * text format in queue-env.c). */
#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "maildir.h"
#include "strbuf.h"

static const char *const subdirs[] = { "tmp", "msg", "env", "lock", "new" };

time_t queue_now(void)
{
	return fs_now();
}

bool queue_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= QUEUE_ID_MAX || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return false;
	return true;
}

int queue_dirs_create(const struct config *cfg)
{
	char p[CONFIG_PATH_MAX + 16];
	if (mkdir(cfg->queue_dir, 0700) < 0 && errno != EEXIST) {
		log_err("mkdir(%s) failed: %m", cfg->queue_dir);
		return -1;
	}
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		if (fs_pathf(p, sizeof p, "%s/%s", cfg->queue_dir, subdirs[i]) < 0)
			return -1;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			log_err("mkdir(%s) failed: %m", p);
			return -1;
		}
	}
	return 0;
}

void queue_make_id(char *out, size_t outlen)
{
	unsigned long long r = 0;
	static unsigned counter;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned long long)getpid() << 20 ^ (unsigned long long)time(NULL);
	snprintf(out, outlen, "%010llx.%016llx%x", (unsigned long long)queue_now(), r, counter++ & 0xf);
}

/* --- files --- */

static int fsync_dir(const struct config *cfg, const char *sub)
{
	char p[CONFIG_PATH_MAX + 16];
	if (fs_pathf(p, sizeof p, "%s/%s", cfg->queue_dir, sub) < 0)
		return -1;
	return maildir_fsync_dir(p);
}

/* Write DATA to PATH (new file), fsync, close. 0 or -1 (logged). */
static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("open(%s) failed: %m", path);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		log_err("write(%s) failed: %m", path);
		int e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		log_err("close(%s) failed: %m", path);
		unlink(path);
		return -1;
	}
	return 0;
}

int queue_new_open(const struct config *cfg, struct queue_new *q, const char *id)
{
	memset(q, 0, sizeof *q);
	q->cfg = cfg;
	q->fd = -1;
	if (id)
		snprintf(q->id, sizeof q->id, "%s", id);
	else
		queue_make_id(q->id, sizeof q->id);
	if (!queue_id_valid(q->id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_dirs_create(cfg) < 0)
		return -1;
	if (fs_pathf(q->tmp_path, sizeof q->tmp_path, "%s/tmp/%s", cfg->queue_dir, q->id) < 0 ||
	    fs_pathf(q->env_tmp, sizeof q->env_tmp, "%s/tmp/%s.env", cfg->queue_dir, q->id) < 0 ||
	    fs_pathf(q->msg_path, sizeof q->msg_path, "%s/msg/%s", cfg->queue_dir, q->id) < 0) {
		log_err("queue path too long");
		q->tmp_path[0] = q->env_tmp[0] = q->msg_path[0] = '\0';
		return -1;
	}
	q->fd = open(q->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->fd < 0) {
		log_err("open(%s) failed: %m", q->tmp_path);
		q->tmp_path[0] = '\0'; /* not ours: abort must not remove it */
		return -1;
	}
	return 0;
}

void queue_new_write(struct queue_new *q, const void *buf, size_t len)
{
	if (q->failed || q->fd < 0)
		return;
	if (fs_write_all(q->fd, buf, len) < 0) {
		q->failed = true;
		q->err = errno;
		return;
	}
	q->size += (off_t)len;
}

int queue_new_prepare(struct queue_new *q, struct queue_env *env)
{
	if (q->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (!q->failed && fsync(q->fd) < 0) {
		q->failed = true;
		q->err = errno;
	}
	if (close(q->fd) < 0 && !q->failed) {
		q->failed = true;
		q->err = errno;
	}
	q->fd = -1;
	if (q->failed) {
		log_err("write(%s) failed: %s", q->tmp_path, strerror(q->err));
		errno = q->err;
		return -1;
	}
	/* link, not rename: an id already in the queue is never replaced */
	if (link(q->tmp_path, q->msg_path) < 0) {
		log_err("link(%s, %s) failed: %m", q->tmp_path, q->msg_path);
		return -1;
	}
	q->prepared = true; /* from here abort removes msg/<id> */
	unlink(q->tmp_path);
	if (fsync_dir(q->cfg, "msg") < 0)
		return -1;
	snprintf(env->id, sizeof env->id, "%s", q->id);
	size_t len;
	char *text = queue_env_format(env, &len);
	int r = write_file(q->env_tmp, text, len);
	free(text);
	return r;
}

int queue_new_publish(struct queue_new *q)
{
	char envp[CONFIG_PATH_MAX + 96], mark[CONFIG_PATH_MAX + 96];
	if (!q->prepared) {
		errno = EINVAL;
		return -1;
	}
	if (fs_pathf(envp, sizeof envp, "%s/env/%s", q->cfg->queue_dir, q->id) < 0 ||
	    fs_pathf(mark, sizeof mark, "%s/new/%s", q->cfg->queue_dir, q->id) < 0)
		return -1;
	if (link(q->env_tmp, envp) < 0) {
		log_err("link(%s, %s) failed: %m", q->env_tmp, envp);
		return -1;
	}
	unlink(q->env_tmp);
	if (fsync_dir(q->cfg, "env") < 0) {
		/* not known to be durable: take it back, the client retries */
		int e = errno;
		unlink(envp);
		errno = e;
		return -1;
	}
	q->prepared = false;
	/* the marker only wakes the runner; the envelope is what counts */
	int fd = open(mark, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else
		log_warn("open(%s) failed: %m", mark);
	return 0;
}

void queue_new_abort(struct queue_new *q)
{
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->tmp_path[0])
		unlink(q->tmp_path);
	if (q->env_tmp[0])
		unlink(q->env_tmp);
	if (q->prepared && q->msg_path[0])
		unlink(q->msg_path);
	q->prepared = false;
}

int queue_enqueue(const struct config *cfg, const char *id, const char *sender,
		  const char *const *rcpts, size_t nrcpt, const void *msg, size_t len)
{
	struct queue_new q;
	struct queue_env env;
	memset(&env, 0, sizeof env);
	snprintf(env.sender, sizeof env.sender, "%s", sender);
	env.created = queue_now();
	for (size_t i = 0; i < nrcpt; i++)
		queue_env_add(&env, rcpts[i]);
	int rc = -1;
	if (queue_new_open(cfg, &q, id) == 0) {
		queue_new_write(&q, msg, len);
		if (queue_new_prepare(&q, &env) == 0 && queue_new_publish(&q) == 0)
			rc = 0;
	}
	if (rc < 0)
		queue_new_abort(&q);
	else
		log_info("queued id=%s from=<%s> nrcpt=%zu size=%zu", q.id, sender, nrcpt, len);
	queue_env_free(&env);
	return rc;
}

int queue_env_read(const struct config *cfg, const char *id, struct queue_env *env)
{
	char p[CONFIG_PATH_MAX + 96];
	memset(env, 0, sizeof env[0]);
	if (!queue_id_valid(id) || fs_pathf(p, sizeof p, "%s/env/%s", cfg->queue_dir, id) < 0)
		return -1;
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_err("open(%s) failed: %m", p);
		return -1;
	}
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	ssize_t n;
	int rc = 1;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("read(%s) failed: %m", p);
			rc = -1;
			break;
		}
		if (sb.len + (size_t)n > QUEUE_ENV_MAX) {
			log_err("%s: envelope too large", p);
			rc = -1;
			break;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (rc == 1 && queue_env_parse(sb.s ? sb.s : "", sb.len, env) < 0) {
		log_err("%s: corrupt envelope", p);
		rc = -1;
	}
	if (rc == 1 && strcmp(env->id, id) != 0) {
		log_err("%s: envelope names id %s", p, env->id);
		queue_env_free(env);
		rc = -1;
	}
	sb_free(&sb);
	return rc;
}

int queue_env_write(const struct config *cfg, const struct queue_env *env)
{
	char tmp[CONFIG_PATH_MAX + 96], dst[CONFIG_PATH_MAX + 96];
	if (fs_pathf(tmp, sizeof tmp, "%s/tmp/%s.env", cfg->queue_dir, env->id) < 0 ||
	    fs_pathf(dst, sizeof dst, "%s/env/%s", cfg->queue_dir, env->id) < 0)
		return -1;
	size_t len;
	char *text = queue_env_format(env, &len);
	int r = write_file(tmp, text, len);
	free(text);
	if (r < 0)
		return -1;
	if (rename(tmp, dst) < 0) {
		log_err("rename(%s, %s) failed: %m", tmp, dst);
		unlink(tmp);
		return -1;
	}
	return fsync_dir(cfg, "env");
}

int queue_msg_open(const struct config *cfg, const char *id)
{
	char p[CONFIG_PATH_MAX + 96];
	if (!queue_id_valid(id) || fs_pathf(p, sizeof p, "%s/msg/%s", cfg->queue_dir, id) < 0)
		return -1;
	return open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int queue_remove(const struct config *cfg, const char *id)
{
	static const char *const order[] = { "env", "msg", "lock", "new" };
	char p[CONFIG_PATH_MAX + 96];
	int rc = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (fs_pathf(p, sizeof p, "%s/%s/%s", cfg->queue_dir, order[i], id) < 0)
			return -1;
		if (unlink(p) < 0 && errno != ENOENT) {
			log_err("unlink(%s) failed: %m", p);
			rc = -1;
		}
		if (i == 0 && rc == 0 && fsync_dir(cfg, "env") < 0)
			rc = -1;
	}
	return rc;
}

int queue_lock(const struct config *cfg, const char *id, bool wait)
{
	char dir[CONFIG_PATH_MAX + 16];
	if (!queue_id_valid(id) || fs_pathf(dir, sizeof dir, "%s/lock", cfg->queue_dir) < 0)
		return -1;
	return maildir_lock(dir, id, wait);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int queue_list(const struct config *cfg, char ***ids_r, size_t *n_r)
{
	char p[CONFIG_PATH_MAX + 16];
	*ids_r = NULL;
	*n_r = 0;
	if (fs_pathf(p, sizeof p, "%s/env", cfg->queue_dir) < 0)
		return -1;
	DIR *d = opendir(p);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		log_err("opendir(%s) failed: %m", p);
		return -1;
	}
	char **ids = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(ids, n, sizeof *ids, cmp_str);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

void queue_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

void queue_markers_clear(const struct config *cfg)
{
	char p[CONFIG_PATH_MAX + 16], f[CONFIG_PATH_MAX + 96];
	if (fs_pathf(p, sizeof p, "%s/new", cfg->queue_dir) < 0)
		return;
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (queue_id_valid(de->d_name) && fs_pathf(f, sizeof f, "%s/%s", p, de->d_name) == 0)
			unlink(f);
	closedir(d);
}

/* Remove regular files of SUB older than CUTOFF (with NEED_ENV: only
 * those no envelope names). */
static void sweep_dir(const struct config *cfg, const char *sub, time_t cutoff, bool need_env)
{
	char p[CONFIG_PATH_MAX + 16], f[CONFIG_PATH_MAX + 96], e[CONFIG_PATH_MAX + 96];
	if (fs_pathf(p, sizeof p, "%s/%s", cfg->queue_dir, sub) < 0)
		return;
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *de;
	struct stat st;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fs_pathf(f, sizeof f, "%s/%s", p, de->d_name) < 0)
			continue;
		if (lstat(f, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
			continue;
		if (need_env && (fs_pathf(e, sizeof e, "%s/env/%s", cfg->queue_dir, de->d_name) < 0 ||
				 access(e, F_OK) == 0 || errno != ENOENT))
			continue;
		if (unlink(f) == 0)
			log_info("removed stale queue file %s", f);
	}
	closedir(d);
}

void queue_sweep(const struct config *cfg)
{
	time_t cutoff = queue_now() - QUEUE_STALE_AGE;
	sweep_dir(cfg, "tmp", cutoff, false);
	sweep_dir(cfg, "msg", cutoff, true);
}
