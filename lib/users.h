/* users: the users file. One user a line: `name password`, where name is
 * `local` (default domain) or `local@domain`, and password is a crypt(3)
 * hash ($y$, $6$, ...) or, for compatibility, plain text. `#` starts a
 * comment line. Names are matched case-insensitively. */
#ifndef POSTERN_USERS_H
#define POSTERN_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

#define USER_LOCAL_MAX 64
#define USER_DOMAIN_MAX 255
#define USER_NAME_MAX (USER_LOCAL_MAX + 1 + USER_DOMAIN_MAX + 1)

struct user {
	char local[USER_LOCAL_MAX + 1];   /* lower-cased */
	char domain[USER_DOMAIN_MAX + 1]; /* lower-cased */
	char name[USER_NAME_MAX];         /* "local@domain" */
	char secret[512];                 /* hash or plain text */
	bool plain;                       /* secret is plain text */
};

/* Split and validate NAME ("local" or "local@domain") into lower-cased
 * local and domain (default domain when absent). Rejects anything that
 * could escape a directory: empty parts, '/', leading '.', "..", control
 * characters, spaces, over-long parts. Returns 0 or -1. */
int users_parse_name(const struct config *cfg, const char *name,
		     char local_r[USER_LOCAL_MAX + 1], char domain_r[USER_DOMAIN_MAX + 1]);

/* Look NAME up in cfg->users_file. Returns 1 found (fills *u), 0 unknown,
 * -1 error (logged). */
int users_lookup(const struct config *cfg, const char *name, struct user *u);

/* Check PASSWORD for NAME. Constant-time compare for plain secrets, crypt_r
 * for hashes; runs the same work for unknown users. On success fills *u
 * (may be NULL) and returns 1; 0 on failure (the caller applies
 * users_fail_delay); -1 on error. */
int users_authenticate(const struct config *cfg, const char *name, const char *password,
		       struct user *u);

/* Sleep after the n-th consecutive failure (n >= 1): grows with n, capped.
 * $POSTERN_FAIL_DELAY_MS overrides the base delay (tests use 0). */
void users_fail_delay(unsigned n);

/* Constant-time comparison of two NUL-terminated strings. */
bool users_secret_equal(const char *a, const char *b);

/* Hash PASSWORD with yescrypt ($y$). Returns 0 or -1. */
int users_hash_password(const char *password, char *out, size_t outlen);

/* Rewrite the users file: set (add or replace) or, when secret is NULL,
 * delete the entry for u->name. Atomic (tmp + fsync + rename) under a lock.
 * Returns 1 done, 0 no such user (delete), -1 error (logged). */
int users_write_entry(const struct config *cfg, const struct user *u, const char *secret);

#endif
