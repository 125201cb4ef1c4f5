/* The queue's envelope format, enqueueing and locks; the Received:
 * counter used for loop detection, fed byte by byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hop-count.h"
#include "queue.h"
#include "unit.h"

static struct config cfg;

static void setup_cfg(void)
{
	config_defaults(&cfg);
	snprintf(cfg.queue_dir, sizeof cfg.queue_dir, "%s/queue", unit_tmpdir());
}

static void test_env_roundtrip(void)
{
	struct queue_env e, back;
	memset(&e, 0, sizeof e);
	snprintf(e.id, sizeof e.id, "0001.abc");
	snprintf(e.sender, sizeof e.sender, "dcd@info.uliege.be");
	e.created = 1763776000;
	e.smtputf8 = true;
	queue_env_add(&e, "vj@gembloux.uliege.be");
	queue_env_add(&e, "\"a b\"@example.net");
	e.rcpt[1].state = QUEUE_FAILED;
	e.rcpt[1].attempts = 3;
	e.rcpt[1].next_try = 1763779600;
	snprintf(e.rcpt[1].diag, sizeof e.rcpt[1].diag, "550 5.1.1 no\tsuch\nuser");
	size_t len;
	char *text = queue_env_format(&e, &len);
	CHECK(queue_env_parse(text, len, &back) == 0);
	CHECK_STR(back.id, "0001.abc");
	CHECK_STR(back.sender, "dcd@info.uliege.be");
	CHECK(back.created == 1763776000);
	CHECK(back.smtputf8 && !back.body_8bit);
	CHECK(back.nrcpt == 2);
	CHECK_STR(back.rcpt[0].addr, "vj@gembloux.uliege.be");
	CHECK(back.rcpt[0].state == QUEUE_PENDING && back.rcpt[0].attempts == 0);
	CHECK_STR(back.rcpt[1].addr, "\"a b\"@example.net");
	CHECK(back.rcpt[1].state == QUEUE_FAILED && back.rcpt[1].attempts == 3);
	CHECK(back.rcpt[1].next_try == 1763779600);
	/* control characters from a remote server never break the format */
	CHECK_STR(back.rcpt[1].diag, "550 5.1.1 no such user");
	free(text);
	queue_env_free(&back);
	queue_env_free(&e);
}

static void test_env_null_sender(void)
{
	const char *t = "V\t1\nI\tx1\nF\t\nT\t5\nR\tpending\t0\t0\ta@b\t\n";
	struct queue_env e;
	CHECK(queue_env_parse(t, strlen(t), &e) == 0);
	CHECK_STR(e.sender, "");
	CHECK(e.nrcpt == 1);
	queue_env_free(&e);
}

static void test_env_corrupt(void)
{
	static const char *const bad[] = {
		"",
		"V\t2\nI\tx\nF\t\nT\t5\nR\tpending\t0\t0\ta@b\t\n",          /* version */
		"V\t1\nI\tx\nF\t\nT\t5\n",                                    /* no recipient */
		"V\t1\nI\t../x\nF\t\nT\t5\nR\tpending\t0\t0\ta@b\t\n",        /* id */
		"V\t1\nI\tx\nF\t\nT\t5\nR\tmaybe\t0\t0\ta@b\t\n",             /* state */
		"V\t1\nI\tx\nF\t\nT\t5\nR\tpending\t-1\t0\ta@b\t\n",          /* attempts */
		"V\t1\nI\tx\nF\t\nT\tsoon\nR\tpending\t0\t0\ta@b\t\n",        /* time */
		"V\t1\nI\tx\nF\t\nT\t5\nR\tpending\t0\t0\ta@b\n",             /* fields */
		"V\t1\nI\tx\nF\t\nT\t5\nR\tpending\t0\t0\ta@b\t\tmore\n",     /* fields */
		"V\t1\nI\tx\nF\t\nT\t5\nR\tpending\t0\t0\t\t\n",              /* empty address */
		"V\t1\nI\tx\nF\t\nT\t5\nX\tjunk\nR\tpending\t0\t0\ta@b\t\n",  /* record */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct queue_env e;
		int r = queue_env_parse(bad[i], strlen(bad[i]), &e);
		if (r != -1)
			fprintf(stderr, "# accepted bad envelope %zu\n", i);
		CHECK(r == -1);
		CHECK(e.rcpt == NULL && e.nrcpt == 0);
	}
}

static int count_dir(const char *sub)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "find %s/%s -type f | wc -l", cfg.queue_dir, sub);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void test_enqueue_read_remove(void)
{
	setup_cfg();
	const char *rcpts[] = { "vj@gembloux.uliege.be", "x@example.net" };
	const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
	setenv("POSTERN_NOW", "1763776000", 1);
	CHECK(queue_enqueue(&cfg, "t1.0001", "dcd@info.uliege.be", rcpts, 2, msg, sizeof msg - 1) == 0);
	unsetenv("POSTERN_NOW");
	/* the same id twice is refused, not overwritten */
	CHECK(queue_enqueue(&cfg, "t1.0001", "", rcpts, 1, "x", 1) == -1);
	CHECK(count_dir("tmp") == 0);
	CHECK(count_dir("new") == 1);

	char **ids;
	size_t n;
	CHECK(queue_list(&cfg, &ids, &n) == 0);
	CHECK(n == 1);
	if (n == 1)
		CHECK_STR(ids[0], "t1.0001");
	queue_ids_free(ids, n);

	struct queue_env e;
	CHECK(queue_env_read(&cfg, "t1.0001", &e) == 1);
	CHECK(e.created == 1763776000);
	CHECK(e.nrcpt == 2);
	e.rcpt[0].state = QUEUE_DONE;
	CHECK(queue_env_write(&cfg, &e) == 0);
	queue_env_free(&e);
	CHECK(queue_env_read(&cfg, "t1.0001", &e) == 1);
	CHECK(e.rcpt[0].state == QUEUE_DONE && e.rcpt[1].state == QUEUE_PENDING);
	queue_env_free(&e);

	int fd = queue_msg_open(&cfg, "t1.0001");
	char buf[64] = "";
	CHECK(fd >= 0 && read(fd, buf, sizeof buf) == (ssize_t)(sizeof msg - 1));
	CHECK(memcmp(buf, msg, sizeof msg - 1) == 0);
	if (fd >= 0)
		close(fd);

	/* a second locker is refused while the first holds the lock */
	int l1 = queue_lock(&cfg, "t1.0001", false);
	CHECK(l1 >= 0);
	errno = 0;
	CHECK(queue_lock(&cfg, "t1.0001", false) == -1 && errno == EWOULDBLOCK);
	close(l1);
	int l2 = queue_lock(&cfg, "t1.0001", false);
	CHECK(l2 >= 0);
	close(l2);

	queue_markers_clear(&cfg);
	CHECK(count_dir("new") == 0);
	CHECK(queue_remove(&cfg, "t1.0001") == 0);
	CHECK(queue_env_read(&cfg, "t1.0001", &e) == 0);
	CHECK(count_dir("msg") == 0 && count_dir("env") == 0 && count_dir("lock") == 0);
}

static void test_unpublished_is_invisible(void)
{
	setup_cfg();
	struct queue_new q;
	struct queue_env e;
	memset(&e, 0, sizeof e);
	queue_env_add(&e, "a@example.net");
	CHECK(queue_new_open(&cfg, &q, NULL) == 0);
	CHECK(queue_id_valid(q.id));
	queue_new_write(&q, "x\r\n", 3);
	CHECK(queue_new_prepare(&q, &e) == 0);
	char **ids;
	size_t n;
	CHECK(queue_list(&cfg, &ids, &n) == 0 && n == 0);
	queue_ids_free(ids, n);
	queue_new_abort(&q);
	CHECK(count_dir("msg") == 0 && count_dir("tmp") == 0);
	queue_env_free(&e);
}

static void touch(const char *sub, const char *name)
{
	char p[2048];
	snprintf(p, sizeof p, "%s/%s/%s", cfg.queue_dir, sub, name);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
}

static void test_sweep(void)
{
	setup_cfg();
	const char *rcpts[] = { "a@example.net" };
	CHECK(queue_enqueue(&cfg, "keep.1", "", rcpts, 1, "x", 1) == 0);
	touch("msg", "orphan.1");
	touch("tmp", "left.1");
	/* young files stay: a writer may be at work */
	queue_sweep(&cfg);
	CHECK(count_dir("msg") == 2 && count_dir("tmp") == 1);
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)time(NULL) + QUEUE_STALE_AGE + 10);
	setenv("POSTERN_NOW", now, 1);
	queue_sweep(&cfg);
	unsetenv("POSTERN_NOW");
	CHECK(count_dir("msg") == 1 && count_dir("tmp") == 0);
	int fd = queue_msg_open(&cfg, "keep.1");
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(queue_remove(&cfg, "keep.1") == 0);
}

static void test_ids(void)
{
	CHECK(queue_id_valid("0123abc.def-1_2"));
	CHECK(!queue_id_valid(""));
	CHECK(!queue_id_valid(".hidden"));
	CHECK(!queue_id_valid("a/b"));
	CHECK(!queue_id_valid("a b"));
	char a[QUEUE_ID_MAX], b[QUEUE_ID_MAX];
	queue_make_id(a, sizeof a);
	queue_make_id(b, sizeof b);
	CHECK(queue_id_valid(a) && queue_id_valid(b) && strcmp(a, b) != 0);
}

static unsigned hops_of(const char *msg, size_t chunk)
{
	struct hop_count h;
	hop_count_init(&h);
	size_t len = strlen(msg);
	for (size_t i = 0; i < len; i += chunk)
		hop_count_feed(&h, msg + i, len - i < chunk ? len - i : chunk);
	return h.hops;
}

static void test_hop_count(void)
{
	const char *m = "Received: from a\r\n\tby b\r\nRECEIVED: x\r\nX-Received: no\r\n"
			"Subject: Received: no\r\nreceived:y\r\n\r\nReceived: in the body\r\n";
	for (size_t chunk = 1; chunk < 8; chunk++)
		CHECK(hops_of(m, chunk) == 3);
	CHECK(hops_of("Receive: x\r\nReceived\r\n\r\n", 1) == 0);
	CHECK(hops_of("Received: a\nReceived: b\n\nReceived: c\n", 1) == 2); /* LF ends too */

	struct strbuf_like { char s[4096]; } buf;
	buf.s[0] = '\0';
	for (int i = 0; i < HOP_COUNT_MAX; i++)
		strcat(buf.s, "Received: by x\r\n");
	struct hop_count h;
	hop_count_init(&h);
	hop_count_feed(&h, buf.s, strlen(buf.s));
	CHECK(!hop_count_looping(&h));
	hop_count_feed(&h, "Received: one more\r\n", 20);
	CHECK(hop_count_looping(&h));
}

int main(void)
{
	RUN(test_env_roundtrip);
	RUN(test_env_null_sender);
	RUN(test_env_corrupt);
	RUN(test_enqueue_read_remove);
	RUN(test_unpublished_is_invisible);
	RUN(test_sweep);
	RUN(test_ids);
	RUN(test_hop_count);
	return unit_done();
}
