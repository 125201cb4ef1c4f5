#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "config.h"
#include "peer.h"
#include "users.h"
#include "unit.h"

static struct config cfg;

static void world(void)
{
	char path[CONFIG_PATH_MAX];
	config_defaults(&cfg);
	strcpy(cfg.domains[0], "example.org");
	strcpy(cfg.domains[1], "example.net");
	cfg.ndomains = 2;
	snprintf(cfg.users_file, sizeof cfg.users_file, "%s/users", unit_tmpdir());
	snprintf(cfg.aliases_file, sizeof cfg.aliases_file, "%s/aliases", unit_tmpdir());
	snprintf(path, sizeof path, "%s", cfg.users_file);
	FILE *f = fopen(path, "w");
	fputs("# users\nalice secret\nBob@Example.NET  two words \n"
	      "carol $y$j9T$Y0W5h1M9D3FlXrYrt3YbV/$XZjSn28XlpVJ/1WvM7LeufNktJb3rwVO70VCRBqvjK0\n"
	      "../evil x\n",
	      f);
	fclose(f);
	f = fopen(cfg.aliases_file, "w");
	fputs("postmaster: alice\nteam: alice, bob@example.net, Remote@Far.Example\n"
	      "loop1: loop2\nloop2: loop1\nchain: team, postmaster\n@example.net: alice\n",
	      f);
	fclose(f);
	setenv("POSTERN_FAIL_DELAY_MS", "0", 1);
	setenv("POSTERN_LOG", "stderr", 1);
}

static void test_parse_name(void)
{
	char l[USER_LOCAL_MAX + 1], d[USER_DOMAIN_MAX + 1];
	CHECK(users_parse_name(&cfg, "Alice", l, d) == 0);
	CHECK_STR(l, "alice");
	CHECK_STR(d, "example.org");
	CHECK(users_parse_name(&cfg, "x@Example.NET", l, d) == 0);
	CHECK_STR(d, "example.net");
	const char *bad[] = { "", "@example.org", "a/b", "..", ".hidden", "a b", "a@", "a@../x",
			      "a@b/c", "a@.x", "a@x..y", "a\tb", "a@b@c" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (users_parse_name(&cfg, bad[i], l, d) == 0) {
			printf("# accepted bad name '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	char longname[200];
	memset(longname, 'a', 70);
	longname[70] = '\0';
	CHECK(users_parse_name(&cfg, longname, l, d) == -1);
}

static void test_lookup_and_auth(void)
{
	struct user u;
	CHECK(users_lookup(&cfg, "ALICE@example.org", &u) == 1);
	CHECK_STR(u.name, "alice@example.org");
	CHECK(u.plain);
	CHECK(users_lookup(&cfg, "bob@example.net", &u) == 1);
	CHECK_STR(u.secret, "two words");
	CHECK(users_lookup(&cfg, "nobody", &u) == 0);
	CHECK(users_lookup(&cfg, "carol", &u) == 1);
	CHECK(!u.plain);
	CHECK(users_authenticate(&cfg, "alice", "secret", &u) == 1);
	CHECK(users_authenticate(&cfg, "alice", "Secret", &u) == 0);
	CHECK(users_authenticate(&cfg, "alice", "secret ", NULL) == 0);
	CHECK(users_authenticate(&cfg, "carol", "s3cret", &u) == 1);
	CHECK(users_authenticate(&cfg, "carol", "s3cret!", &u) == 0);
	CHECK(users_authenticate(&cfg, "ghost", "x", &u) == 0);
	CHECK(users_authenticate(&cfg, "bob@example.net", "two words", NULL) == 1);
}

static void test_secret_equal(void)
{
	CHECK(users_secret_equal("abc", "abc"));
	CHECK(!users_secret_equal("abc", "abcd"));
	CHECK(!users_secret_equal("", "a"));
	CHECK(users_secret_equal("", ""));
}

static void test_write_entry(void)
{
	struct user u;
	memset(&u, 0, sizeof u);
	strcpy(u.local, "dave");
	strcpy(u.domain, "example.org");
	strcpy(u.name, "dave@example.org");
	char hash[512];
	CHECK(users_hash_password("pw1", hash, sizeof hash) == 0);
	CHECK(strncmp(hash, "$y$", 3) == 0);
	CHECK(users_write_entry(&cfg, &u, hash) == 1);
	CHECK(users_authenticate(&cfg, "dave", "pw1", NULL) == 1);
	CHECK(users_hash_password("pw2", hash, sizeof hash) == 0);
	CHECK(users_write_entry(&cfg, &u, hash) == 1);
	CHECK(users_authenticate(&cfg, "dave", "pw1", NULL) == 0);
	CHECK(users_authenticate(&cfg, "dave", "pw2", NULL) == 1);
	CHECK(users_authenticate(&cfg, "alice", "secret", NULL) == 1);
	CHECK(users_write_entry(&cfg, &u, NULL) == 1);
	CHECK(users_lookup(&cfg, "dave", &u) == 0);
	strcpy(u.local, "dave");
	CHECK(users_write_entry(&cfg, &u, NULL) == 0);
	CHECK(users_write_entry(&cfg, &u, "bad\nsecret") == -1);
}

static void test_aliases(void)
{
	struct alias_targets t;
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "postmaster@example.org", &t) == 1);
	CHECK(t.n == 1);
	CHECK_STR(t.addr[0], "alice@example.org");
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "chain@EXAMPLE.org", &t) == 1);
	CHECK(t.n == 3);
	CHECK_STR(t.addr[0], "alice@example.org");
	CHECK_STR(t.addr[1], "bob@example.net");
	CHECK_STR(t.addr[2], "Remote@far.example");
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "loop1@example.org", &t) == 1);
	CHECK(t.n == 0);
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "alice@example.org", &t) == 0);
	/* catch-all applies to unknown users of its domain only */
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "whoever@example.net", &t) == 1);
	CHECK(t.n == 1 && strcmp(t.addr[0], "alice@example.org") == 0);
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "bob@example.net", &t) == 0);
	memset(&t, 0, sizeof t);
	CHECK(aliases_expand(&cfg, "nobody@example.org", &t) == 0);
}

static void test_peer(void)
{
	CHECK(peer_is_loopback("127.0.0.1"));
	CHECK(peer_is_loopback("127.5.1.1"));
	CHECK(peer_is_loopback("::1"));
	CHECK(peer_is_loopback("::ffff:127.0.0.1"));
	CHECK(peer_is_loopback("local"));
	CHECK(!peer_is_loopback("10.0.0.1"));
	CHECK(!peer_is_loopback("128.0.0.1"));
	setenv("POSTERN_PEER", "192.0.2.7", 1);
	CHECK_STR(peer_address(), "192.0.2.7");
	setenv("POSTERN_PEER", "evil\r\nvalue", 1);
	setenv("REMOTE_ADDR", "198.51.100.2", 1);
	CHECK_STR(peer_address(), "198.51.100.2");
	unsetenv("POSTERN_PEER");
	unsetenv("REMOTE_ADDR");
}

int main(void)
{
	world();
	RUN(test_parse_name);
	RUN(test_lookup_and_auth);
	RUN(test_secret_equal);
	RUN(test_write_entry);
	RUN(test_aliases);
	RUN(test_peer);
	return unit_done();
}
