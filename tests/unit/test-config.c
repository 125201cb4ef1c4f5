#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "unit.h"

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", unit_tmpdir(), name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void)
{
	struct config c;
	config_defaults(&c);
	CHECK(c.max_message_size == 25u * 1024 * 1024);
	CHECK(c.max_recipients == 100);
	CHECK(c.smtp_timeout == 300 && c.pop3_timeout == 600 && c.imap_timeout == 1800);
	CHECK(c.hostname[0] != '\0');
}

static void test_load_good(void)
{
	struct config c;
	char err[512] = "";
	const char *p = write_file("good.conf",
				   "# comment\n\nhostname = mx.example.org\n"
				   "domains = Example.ORG , example.net\n"
				   "mail_root = mail\n"
				   "users_file = /etc/x/users\n"
				   "max_message_size = 10M\n"
				   "allow_plaintext_auth = yes\n"
				   "routes = example.com=127.0.2.1:2525, other.org=[::1]:26, plain.net=mx.plain.net\n"
				   "resolver = 127.0.0.1:5353\n");
	config_defaults(&c);
	CHECK(config_load(&c, p, err, sizeof err) == 0);
	CHECK_STR(c.hostname, "mx.example.org");
	CHECK(c.ndomains == 2);
	CHECK_STR(c.domains[0], "example.org");
	CHECK(config_is_local_domain(&c, "EXAMPLE.net"));
	CHECK(config_is_local_domain(&c, "example.net."));
	CHECK(!config_is_local_domain(&c, "example.com"));
	CHECK(!config_is_local_domain(&c, "xexample.net"));
	/* a configured trailing dot is the same domain (found by fuzzing) */
	p = write_file("dot.conf", "domains = Example.ORG.\n");
	struct config d;
	config_defaults(&d);
	CHECK(config_load(&d, p, err, sizeof err) == 0);
	CHECK_STR(d.domains[0], "example.org");
	CHECK(config_is_local_domain(&d, "example.org"));
	CHECK(config_is_local_domain(&d, "example.org."));
	char want[600];
	snprintf(want, sizeof want, "%s/mail", unit_tmpdir());
	CHECK_STR(c.mail_root, want);
	CHECK_STR(c.users_file, "/etc/x/users");
	CHECK(c.max_message_size == 10u * 1024 * 1024);
	CHECK(c.allow_plaintext_auth);
	CHECK(c.nroutes == 3);
	CHECK_STR(c.routes[0].host, "127.0.2.1");
	CHECK(c.routes[0].port == 2525);
	CHECK_STR(c.routes[1].host, "::1");
	CHECK(c.routes[1].port == 26);
	CHECK(c.routes[2].port == 25);
	CHECK_STR(c.resolver, "127.0.0.1:5353");
}

static void expect_error(const char *text, const char *needle)
{
	struct config c;
	char err[512] = "";
	const char *p = write_file("bad.conf", text);
	config_defaults(&c);
	CHECK(config_load(&c, p, err, sizeof err) == -1);
	if (!strstr(err, needle)) {
		printf("# error was: %s (wanted %s)\n", err, needle);
		CHECK(0);
	}
}

static void test_load_bad(void)
{
	expect_error("hostname = a\nbogus = 1\n", "bad.conf:2: bogus: unknown key");
	expect_error("hostname\n", "bad.conf:1: expected key = value");
	expect_error("max_message_size = lots\n", "bad.conf:1: max_message_size: bad value");
	expect_error("max_message_size = 99999999999999999999999\n", ":1: max_message_size");
	expect_error("allow_plaintext_auth = maybe\n", ":1: allow_plaintext_auth");
	expect_error("domains = a/b\n", ":1: domains");
	/* a domain is also a directory name under mail_root (found by fuzzing) */
	expect_error("domains = a..b\n", ":1: domains");
	expect_error("domains = .\n", ":1: domains");
	expect_error("domains = ..\n", ":1: domains");
	expect_error("routes = nohost=\n", ":1: routes");
	expect_error("routes = x.org=[::1\n", ":1: routes");
	expect_error("routes = x.org=h:99999\n", ":1: routes");
	struct config c;
	char err[512];
	config_defaults(&c);
	CHECK(config_load(&c, "/nonexistent/postern.conf", err, sizeof err) == -1);
	CHECK(strstr(err, "/nonexistent/postern.conf: cannot open") != NULL);
}

static void test_bool(void)
{
	CHECK(config_parse_bool("Yes") == 1);
	CHECK(config_parse_bool("off") == 0);
	CHECK(config_parse_bool("2") == -1);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_load_good);
	RUN(test_load_bad);
	RUN(test_bool);
	return unit_done();
}
