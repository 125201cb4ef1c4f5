#include "date.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Read 1..maxd digits; NULL when there are none. */
static const char *read_num(const char *p, int maxd, int *v)
{
	int n = 0, d = 0;
	while (d < maxd && isdigit((unsigned char)*p)) {
		n = n * 10 + (*p - '0');
		p++;
		d++;
	}
	if (d == 0)
		return NULL;
	*v = n;
	return p;
}

static int month_index(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0)
			return i;
	return -1;
}

/* Zone: +hhmm / -hhmm or an obsolete name; offset in seconds east. */
static bool parse_zone(const char *p, long *off)
{
	static const struct { const char *name; int hours; } names[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	p = skip_ws(p);
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
		    !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
			return false;
		int hh = (p[1] - '0') * 10 + (p[2] - '0');
		int mm = (p[3] - '0') * 10 + (p[4] - '0');
		if (hh > 23 || mm > 59)
			return false;
		*off = sign * (hh * 3600L + mm * 60L);
		return true;
	}
	size_t l = 0;
	while (isalpha((unsigned char)p[l]))
		l++;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strlen(names[i].name) == l && strncasecmp(p, names[i].name, l) == 0) {
			*off = names[i].hours * 3600L;
			return true;
		}
	}
	/* unknown zone: RFC 5322 says treat as -0000 (UTC) */
	*off = 0;
	return l > 0;
}

static bool make_time(int y, int mon, int d, int h, int mi, int s, long off, time_t *t_r)
{
	if (y < 100)
		y += y < 50 ? 2000 : 1900;
	if (y < 1900 || y > 9999 || mon < 0 || mon > 11 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*t_r = t - off;
	return true;
}

/* "HH:MM[:SS]" */
static const char *parse_clock(const char *p, int *h, int *mi, int *s)
{
	p = read_num(p, 2, h);
	if (!p || *p != ':')
		return NULL;
	p = read_num(p + 1, 2, mi);
	if (!p)
		return NULL;
	*s = 0;
	if (*p == ':') {
		p = read_num(p + 1, 2, s);
		if (!p)
			return NULL;
	}
	return p;
}

bool date_parse_rfc5322(const char *s, time_t *t_r)
{
	const char *p = skip_ws(s);
	/* optional day name and comma */
	if (isalpha((unsigned char)*p)) {
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_ws(p);
		if (*p == ',')
			p++;
		p = skip_ws(p);
	}
	int d, y, h, mi, sec;
	p = read_num(p, 2, &d);
	if (!p)
		return false;
	p = skip_ws(p);
	int mon = month_index(p);
	if (mon < 0)
		return false;
	p = skip_ws(p + 3);
	p = read_num(p, 4, &y);
	if (!p)
		return false;
	p = parse_clock(skip_ws(p), &h, &mi, &sec);
	if (!p)
		return false;
	long off = 0;
	if (!parse_zone(p, &off))
		off = 0;
	return make_time(y, mon, d, h, mi, sec, off, t_r);
}

bool date_parse_imap(const char *s, time_t *t_r)
{
	const char *p = skip_ws(s);
	int d, y, h, mi, sec;
	p = read_num(p, 2, &d);
	if (!p || *p != '-')
		return false;
	int mon = month_index(p + 1);
	if (mon < 0 || p[4] != '-')
		return false;
	p = read_num(p + 5, 4, &y);
	if (!p || *p != ' ')
		return false;
	p = parse_clock(p + 1, &h, &mi, &sec);
	if (!p)
		return false;
	long off = 0;
	if (!parse_zone(p, &off))
		return false;
	return make_time(y, mon, d, h, mi, sec, off, t_r);
}

bool date_parse_received(const char *value, time_t *t_r)
{
	const char *semi = strrchr(value, ';');
	return semi && date_parse_rfc5322(semi + 1, t_r);
}

static void local_tm(time_t t, struct tm *tm, long *off)
{
	localtime_r(&t, tm);
	*off = tm->tm_gmtoff;
}

void date_format_rfc5322(time_t t, char *buf, size_t len)
{
	struct tm tm;
	long off;
	local_tm(t, &tm, &off);
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, len, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600, (off % 3600) / 60);
}

void date_format_list(time_t t, char *buf, size_t len)
{
	struct tm tm;
	long off;
	local_tm(t, &tm, &off);
	snprintf(buf, len, "%02d/%02d/%04d : %02d : %02d", tm.tm_mday, tm.tm_mon + 1,
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

void date_format_iso(time_t t, char *buf, size_t len)
{
	struct tm tm;
	long off;
	local_tm(t, &tm, &off);
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
		 off / 3600, (off % 3600) / 60);
}
