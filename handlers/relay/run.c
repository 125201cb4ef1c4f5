/* run: one pass over the queue. Each message is worked on under its flock
 * (queue_lock), so concurrent runners skip what another one holds. The
 * envelope is saved after each destination domain: a runner killed at any
 * instant loses no recipient, but a recipient whose next hop said 250
 * just before the kill is still "pending" and is sent again by the next
 * run — at-least-once delivery. Exactly-once is impossible here: nothing
 * can make the remote 250 and our write of "done" one atomic step
 * (RFC 1047 duplicate window). */
#include "relay.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hop-count.h"
#include "log.h"
#include "smtp-trace.h"
#include "strbuf.h"

time_t relay_backoff(unsigned attempts)
{
	time_t d = RELAY_BACKOFF_FIRST;
	for (unsigned i = 1; i < attempts && d < RELAY_BACKOFF_MAX; i++)
		d *= 2;
	return d < RELAY_BACKOFF_MAX ? d : RELAY_BACKOFF_MAX;
}

/* Lower-cased domain of ADDR without a trailing dot, into out. */
static void addr_domain(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	snprintf(out, outlen, "%s", at ? at + 1 : "");
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

static bool looping(int fd)
{
	struct hop_count h;
	char buf[8192];
	ssize_t n;
	hop_count_init(&h);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return false;
	while (!h.body && (n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		hop_count_feed(&h, buf, (size_t)n);
	}
	return hop_count_looping(&h);
}

/* Record the outcome of one attempt for recipient R. */
static void settle(const struct config *cfg, const struct queue_env *env, struct queue_rcpt *r,
		   int code, const char *text, const char *host, time_t now)
{
	r->attempts++;
	snprintf(r->diag, sizeof r->diag, "%s", text);
	if (code >= 200 && code < 300) {
		r->state = QUEUE_DONE;
		log_info("id=%s to=<%s> relay=%s status=sent (%s)", env->id, r->addr, host, text);
	} else if (code >= 500) {
		r->state = QUEUE_FAILED;
		log_info("id=%s to=<%s> relay=%s status=bounced (%s)", env->id, r->addr, host, text);
	} else if (now - env->created >= (time_t)cfg->queue_lifetime) {
		r->state = QUEUE_FAILED;
		snprintf(r->diag, sizeof r->diag,
			 "451 4.4.7 Delivery time expired after %u attempts; last error: %.400s",
			 r->attempts, text);
		log_info("id=%s to=<%s> status=expired (%s)", env->id, r->addr, text);
	} else {
		r->next_try = now + relay_backoff(r->attempts);
		log_info("id=%s to=<%s> relay=%s status=deferred attempt=%u (%s)", env->id, r->addr,
			 host, r->attempts, text);
	}
}

/* Deliver the recipients IDX[0..n) (one domain) of ENV. */
static void deliver_domain(const struct config *cfg, struct queue_env *env, const size_t *idx,
			   size_t n, const char *domain, int msg_fd, off_t size, time_t now)
{
	struct relay_hop hops[RELAY_MAX_HOPS];
	char diag[QUEUE_DIAG_MAX] = "";
	const char **rcpts = xcalloc(n, sizeof *rcpts);
	struct relay_result *res = xcalloc(n, sizeof *res);
	for (size_t i = 0; i < n; i++)
		rcpts[i] = env->rcpt[idx[i]].addr;
	struct relay_job job = {
		.cfg = cfg, .sender = env->sender, .rcpts = rcpts, .res = res, .n = n,
		.body_8bit = env->body_8bit, .smtputf8 = env->smtputf8,
		.msg_fd = msg_fd, .size = size,
	};
	const char *via = "none";
	int perm = 0; /* a permanent reason for all of them */
	int nh = relay_route(cfg, domain, hops, RELAY_MAX_HOPS, diag, sizeof diag);
	bool done = false;
	if (nh == ROUTE_PERM)
		perm = 550;
	for (int h = 0; h < nh && !done; h++) {
		struct dns_addr addrs[DNS_MAX_ADDRS];
		via = hops[h].host;
		int na = relay_hop_addrs(cfg, &hops[h], addrs, DNS_MAX_ADDRS);
		if (na <= 0) {
			if (hops[h].implicit && (na == DNS_NOTFOUND || na == DNS_NODATA)) {
				snprintf(diag, sizeof diag, "550 5.1.2 No mail host for %.255s", domain);
				perm = 550;
			} else {
				snprintf(diag, sizeof diag, "451 4.4.3 Cannot find the address of %.255s",
					 hops[h].host);
			}
			continue;
		}
		for (int a = 0; a < na && !done; a++) {
			if (relay_client_deliver(&job, &addrs[a], hops[h].host, diag, sizeof diag) ==
			    CLIENT_DONE)
				done = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct queue_rcpt *r = &env->rcpt[idx[i]];
		if (done && res[i].code)
			settle(cfg, env, r, res[i].code, res[i].text, via, now);
		else if (done)
			settle(cfg, env, r, 0, res[i].text[0] ? res[i].text : "no answer", via, now);
		else
			settle(cfg, env, r, perm, diag[0] ? diag : "no route", via, now);
	}
	free(res);
	free(rcpts);
}

static bool all_settled(const struct queue_env *env)
{
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == QUEUE_PENDING || env->rcpt[i].state == QUEUE_FAILED)
			return false;
	return true;
}

/* Report the failed recipients; they become "bounced" once reported. */
static void report_failures(const struct config *cfg, struct queue_env *env, int msg_fd)
{
	bool any = false;
	for (size_t i = 0; i < env->nrcpt; i++)
		any |= env->rcpt[i].state == QUEUE_FAILED;
	if (!any)
		return;
	if (env->sender[0] && relay_bounce(cfg, env, msg_fd) < 0)
		return; /* stays failed: next run tries again */
	if (!env->sender[0])
		log_info("id=%s: failed recipients of a message from <> are not reported", env->id);
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == QUEUE_FAILED)
			env->rcpt[i].state = QUEUE_BOUNCED;
}

static void process(const struct config *cfg, const char *id, bool flush, time_t now)
{
	int lock = queue_lock(cfg, id, false);
	if (lock < 0) {
		if (errno != EWOULDBLOCK)
			log_err("cannot lock queue id=%s", id);
		return; /* another runner has it */
	}
	struct queue_env env;
	int r = queue_env_read(cfg, id, &env);
	if (r <= 0) {
		close(lock);
		return;
	}
	int fd = queue_msg_open(cfg, id);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_err("queue id=%s: message content missing: %m", id);
		if (fd >= 0)
			close(fd);
		queue_env_free(&env);
		close(lock);
		return;
	}
	if (looping(fd)) {
		for (size_t i = 0; i < env.nrcpt; i++)
			if (env.rcpt[i].state == QUEUE_PENDING) {
				env.rcpt[i].state = QUEUE_FAILED;
				snprintf(env.rcpt[i].diag, sizeof env.rcpt[i].diag,
					 "554 5.4.6 Routing loop detected: more than %d Received: fields",
					 HOP_COUNT_MAX);
				log_info("id=%s to=<%s> status=bounced (mail loop)", id, env.rcpt[i].addr);
			}
	}

	size_t *idx = xcalloc(env.nrcpt, sizeof *idx);
	bool *taken = xcalloc(env.nrcpt, sizeof *taken);
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct queue_rcpt *ri = &env.rcpt[i];
		if (taken[i] || ri->state != QUEUE_PENDING || (!flush && ri->next_try > now))
			continue;
		char dom[DNS_NAME_MAX], other[DNS_NAME_MAX];
		addr_domain(ri->addr, dom, sizeof dom);
		size_t n = 0;
		for (size_t j = i; j < env.nrcpt; j++) {
			const struct queue_rcpt *rj = &env.rcpt[j];
			if (taken[j] || rj->state != QUEUE_PENDING || (!flush && rj->next_try > now))
				continue;
			addr_domain(rj->addr, other, sizeof other);
			if (strcmp(dom, other) == 0) {
				taken[j] = true;
				idx[n++] = j;
			}
		}
		deliver_domain(cfg, &env, idx, n, dom, fd, st.st_size, now);
		if (queue_env_write(cfg, &env) < 0)
			log_err("queue id=%s: could not save the state", id);
	}
	free(taken);
	free(idx);

	report_failures(cfg, &env, fd);
	if (all_settled(&env)) {
		if (queue_remove(cfg, id) == 0)
			log_info("id=%s removed from the queue", id);
	} else if (queue_env_write(cfg, &env) < 0) {
		log_err("queue id=%s: could not save the state", id);
	}
	close(fd);
	queue_env_free(&env);
	close(lock);
}

int relay_run(const struct config *cfg, bool flush)
{
	if (queue_dirs_create(cfg) < 0)
		return -1;
	/* clear first: whatever is queued after this is either seen by the
	 * scan below or leaves a new marker for the next run */
	queue_markers_clear(cfg);
	queue_sweep(cfg);
	char **ids;
	size_t n;
	if (queue_list(cfg, &ids, &n) < 0)
		return -1;
	time_t now = queue_now();
	for (size_t i = 0; i < n; i++)
		process(cfg, ids[i], flush, now);
	queue_ids_free(ids, n);
	return 0;
}

static const char *const state_word[] = { "pending", "sent", "failed", "bounced" };

int relay_list(const struct config *cfg)
{
	char **ids;
	size_t n;
	if (queue_list(cfg, &ids, &n) < 0)
		return -1;
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		struct queue_env env;
		if (queue_env_read(cfg, ids[i], &env) <= 0)
			continue;
		char path[CONFIG_PATH_MAX + 96], date[64];
		struct stat st;
		snprintf(path, sizeof path, "%s/msg/%s", cfg->queue_dir, ids[i]);
		long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
		smtp_trace_date(env.created, date, sizeof date);
		printf("%s %lld %s <%s>\n", env.id, size, date, env.sender);
		for (size_t k = 0; k < env.nrcpt; k++) {
			const struct queue_rcpt *r = &env.rcpt[k];
			printf("    %s %s attempts=%u", r->addr, state_word[r->state], r->attempts);
			if (r->state == QUEUE_PENDING && r->next_try) {
				smtp_trace_date(r->next_try, date, sizeof date);
				printf(" next=\"%s\"", date);
			}
			if (r->diag[0])
				printf(" (%s)", r->diag);
			printf("\n");
		}
		shown++;
		queue_env_free(&env);
	}
	printf("-- %zu message%s in the queue\n", shown, shown == 1 ? "" : "s");
	queue_ids_free(ids, n);
	return fflush(stdout) == 0 ? 0 : -1;
}
