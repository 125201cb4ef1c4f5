/* Dates: IMAP date-time (INTERNALDATE, APPEND), SEARCH dates, and the date
 * part of RFC 5322 Date: fields for SENTBEFORE/SENTON/SENTSINCE. Day
 * arithmetic is done on days since 1970-01-01 (proleptic Gregorian). */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int month_index(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, months[i], 3) == 0)
			return i;
	return -1;
}

/* Days since 1970-01-01 of y-m-d (m 1..12); H. Hinnant's algorithm. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static bool valid_ymd(long y, int m, int d)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return y >= 1 && y <= 9999 && m >= 0 && m < 12 && d >= 1 && d <= mdays[m];
}

void imap_date_time_write(struct strbuf *out, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	sb_printf(out, "%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld", tm.tm_mday, months[tm.tm_mon],
		  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

/* Read exactly N digits at *p. */
static bool digits(const char **p, int n, long *v)
{
	long x = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" at *p; advances. */
static bool parse_date(const char **p, long *days_r)
{
	const char *s = *p;
	long d, y;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1])) {
		digits(&s, 2, &d);
	} else if (isdigit((unsigned char)s[0])) {
		digits(&s, 1, &d);
	} else {
		return false;
	}
	if (*s++ != '-')
		return false;
	int m = month_index(s);
	if (m < 0)
		return false;
	s += 3;
	if (*s++ != '-' || !digits(&s, 4, &y) || !valid_ymd(y, m, (int)d))
		return false;
	*days_r = days_from_civil(y, (unsigned)m + 1, (unsigned)d);
	*p = s;
	return true;
}

int imap_date_parse(const char *s, long *days_r)
{
	return parse_date(&s, days_r) && *s == '\0' ? 0 : -1;
}

int imap_date_time_parse(const char *s, time_t *t_r)
{
	long days, hh, mm, ss, zh, zm;
	if (*s == ' ')
		s++; /* date-day-fixed: " 1-Jan-2024" */
	if (!parse_date(&s, &days) || *s++ != ' ')
		return -1;
	if (!digits(&s, 2, &hh) || *s++ != ':' || !digits(&s, 2, &mm) || *s++ != ':' ||
	    !digits(&s, 2, &ss) || *s++ != ' ')
		return -1;
	char sign = *s++;
	if ((sign != '+' && sign != '-') || !digits(&s, 2, &zh) || !digits(&s, 2, &zm) || *s)
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	long zone = (zh * 60 + zm) * 60 * (sign == '-' ? -1 : 1);
	*t_r = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss - zone);
	return 0;
}

long imap_local_days(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return days_from_civil(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

int rfc5322_date_days(const char *s, size_t len, long *days_r)
{
	const char *p = s, *end = s + len;
	/* optional day name and comma */
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && isalpha((unsigned char)*p)) {
		while (p < end && isalpha((unsigned char)*p))
			p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p < end && *p == ',')
			p++;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	long d = 0, y = 0;
	int nd = 0;
	while (p < end && isdigit((unsigned char)*p) && nd < 2) {
		d = d * 10 + (*p++ - '0');
		nd++;
	}
	if (nd == 0)
		return -1;
	while (p < end && (isspace((unsigned char)*p) || *p == '-'))
		p++;
	if (end - p < 3)
		return -1;
	int m = month_index(p);
	if (m < 0)
		return -1;
	p += 3;
	while (p < end && isalpha((unsigned char)*p))
		p++;
	while (p < end && (isspace((unsigned char)*p) || *p == '-'))
		p++;
	int ny = 0;
	while (p < end && isdigit((unsigned char)*p) && ny < 4) {
		y = y * 10 + (*p++ - '0');
		ny++;
	}
	if (ny == 2)
		y += y < 50 ? 2000 : 1900;
	else if (ny == 3)
		y += 1900;
	else if (ny != 4)
		return -1;
	if (!valid_ymd(y, m, (int)d))
		return -1;
	*days_r = days_from_civil(y, (unsigned)m + 1, (unsigned)d);
	return 0;
}
