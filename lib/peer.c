#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char addr_buf[INET6_ADDRSTRLEN + 8];

static int from_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v || strlen(v) >= sizeof addr_buf)
		return 0;
	/* only a plausible address or host name; never client-controlled junk */
	for (const char *p = v; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      *p == '.' || *p == ':' || *p == '-' || *p == '%'))
			return 0;
	}
	snprintf(addr_buf, sizeof addr_buf, "%s", v);
	return 1;
}

const char *peer_address(void)
{
	if (from_env("POSTERN_PEER"))
		return addr_buf;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getpeername(0, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			if (inet_ntop(AF_INET, &a->sin_addr, addr_buf, sizeof addr_buf))
				return addr_buf;
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
				if (inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], addr_buf, sizeof addr_buf))
					return addr_buf;
			} else if (inet_ntop(AF_INET6, &a->sin6_addr, addr_buf, sizeof addr_buf)) {
				return addr_buf;
			}
		} else if (ss.ss_family == AF_UNIX) {
			return "local";
		}
	}
	if (from_env("REMOTE_ADDR") || from_env("TCPREMOTEIP") || from_env("REMOTE_HOST"))
		return addr_buf;
	return "local";
}

bool peer_is_loopback(const char *addr)
{
	if (strcmp(addr, "local") == 0 || strcmp(addr, "::1") == 0)
		return true;
	if (strncmp(addr, "::ffff:", 7) == 0)
		addr += 7;
	struct in_addr a;
	if (inet_pton(AF_INET, addr, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return false;
}
