#include "parse.h"

bool pop3_parse_ulong(const char *s, unsigned long min, unsigned long max,
		      unsigned long *r)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (__builtin_mul_overflow(v, 10UL, &v) ||
		    __builtin_add_overflow(v, (unsigned long)(*s - '0'), &v))
			return false;
	}
	if (v < min || v > max)
		return false;
	*r = v;
	return true;
}

char *pop3_next_arg(char **p)
{
	char *s = *p, *word;

	while (*s == ' ')
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	word = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return word;
}
