/* fuzz-maildir-folder: the IMAP name <-> Maildir++ directory mapping of
 * lib/maildir-folder.c, both ways, and the host name escaping of unique
 * names.
 * Properties: a name accepted by maildir_folder_path is INBOX (the root
 * itself) or one directory entry ".X" right under the root, safe (no '/',
 * not "." or ".."), and maildir_folder_name gives the canonical name back
 * (INBOX part upper-cased), which maps to the same directory; a directory
 * entry accepted by maildir_folder_name maps back to itself. */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "maildir.h"

#define ROOT "/r/example.org/alice"

static void canonical(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", name);
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
		memcpy(out, "INBOX", 5);
}

static void name_to_dir(const char *name)
{
	char path[MAILDIR_PATH_MAX];
	if (maildir_folder_path(ROOT, name, path, sizeof path) != 0)
		return;
	if (strcmp(path, ROOT) == 0) {
		FUZZ_ASSERT(strcasecmp(name, "INBOX") == 0);
		return;
	}
	FUZZ_ASSERT(strncmp(path, ROOT "/.", sizeof ROOT + 1) == 0);
	const char *dirent = path + sizeof ROOT;
	FUZZ_ASSERT(strchr(dirent, '/') == NULL);
	FUZZ_ASSERT(strcmp(dirent, ".") != 0 && strcmp(dirent, "..") != 0);
	FUZZ_ASSERT(strlen(dirent) < MAILDIR_NAME_MAX);
	for (const char *c = dirent; *c; c++) /* "Sent Items" has a space */
		FUZZ_ASSERT((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);

	char back[MAILDIR_PATH_MAX], canon[MAILDIR_PATH_MAX];
	int r = maildir_folder_name(dirent, back, sizeof back);
	if (r != 0)
		fprintf(stderr, "name [%s] -> dir [%s] has no name\n", name, dirent);
	FUZZ_ASSERT(r == 0);
	canonical(name, canon, sizeof canon);
	if (strcmp(back, canon) != 0)
		fprintf(stderr, "name [%s] -> dir [%s] -> name [%s]\n", name, dirent, back);
	FUZZ_ASSERT(strcmp(back, canon) == 0);
	char again[MAILDIR_PATH_MAX];
	FUZZ_ASSERT(maildir_folder_path(ROOT, back, again, sizeof again) == 0);
	FUZZ_ASSERT(strcmp(again, path) == 0);
}

static void dir_to_name(const char *dirent)
{
	char name[MAILDIR_PATH_MAX];
	if (maildir_folder_name(dirent, name, sizeof name) != 0)
		return;
	char path[MAILDIR_PATH_MAX];
	int r = maildir_folder_path(ROOT, name, path, sizeof path);
	if (r != 0)
		fprintf(stderr, "dir [%s] -> name [%s] has no dir\n", dirent, name);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(strncmp(path, ROOT "/", sizeof ROOT) == 0);
	if (strcmp(path + sizeof ROOT, dirent) != 0)
		fprintf(stderr, "dir [%s] -> name [%s] -> dir [%s]\n", dirent, name,
			path + sizeof ROOT);
	FUZZ_ASSERT(strcmp(path + sizeof ROOT, dirent) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *s = fuzz_strndup(data, size);
	name_to_dir(s);
	dir_to_name(s);

	char host[80];
	maildir_host_escape(s, host, sizeof host);
	FUZZ_ASSERT(strlen(host) <= 64);
	for (const char *c = host; *c; c++)
		FUZZ_ASSERT(*c != '/' && *c != ':' && *c != ',' && (unsigned char)*c > 0x20 &&
			    (unsigned char)*c < 0x7f);
	free(s);
	return 0;
}
