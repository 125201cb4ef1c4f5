#include "openssl-dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define OSSL_STR_(x) #x
#define OSSL_STR(x) OSSL_STR_(x)
#define OSSL_SOVERSION OSSL_STR(OPENSSL_VERSION_MAJOR)

static struct ossl table;
static enum { UNTRIED, LOADED, FAILED } state = UNTRIED;
static char reason[512] = "";

static void *open_lib(const char *name)
{
	char path[4096];
	const char *dir = secure_getenv("POSTERN_OPENSSL_DIR");

	if (dir && *dir) {
		snprintf(path, sizeof path, "%s/%s", dir, name);
		name = path;
	}
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		snprintf(reason, sizeof reason, "%s", dlerror());
	return h;
}

/* Fill the table; 0, or -1 with reason set to the first missing symbol. */
static int resolve(void *crypto, void *ssl)
{
	void *sym;

	/* dlsym returns void *: converting it to a function pointer is what
	 * POSIX requires to work */
#define OSSL_RESOLVE(lib, fn)                                                  \
	sym = dlsym(lib, #fn);                                                 \
	if (!sym) {                                                            \
		snprintf(reason, sizeof reason, "%s", dlerror());              \
		return -1;                                                     \
	}                                                                      \
	table.fn = (__typeof__(table.fn))sym;
	OSSL_FUNCTIONS(OSSL_RESOLVE)
#undef OSSL_RESOLVE
	return 0;
}

const struct ossl *ossl_load(void)
{
	if (state == UNTRIED) {
		/* libcrypto first: libssl's own dependency then resolves to it,
		 * also from POSTERN_OPENSSL_DIR */
		void *crypto = open_lib("libcrypto.so." OSSL_SOVERSION);
		void *ssl = crypto ? open_lib("libssl.so." OSSL_SOVERSION) : NULL;
		/* never dlclose: OpenSSL registers atexit handlers */
		state = ssl && resolve(crypto, ssl) == 0 ? LOADED : FAILED;
	}
	return state == LOADED ? &table : NULL;
}

const char *ossl_error(void)
{
	return reason;
}

bool ossl_loaded(void)
{
	return state == LOADED;
}
