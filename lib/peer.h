/* peer: who is on the other end of fd 0. */
#ifndef POSTERN_PEER_H
#define POSTERN_PEER_H

#include <stdbool.h>

/* getpeername(0) when fd 0 is a socket, else $REMOTE_ADDR, $TCPREMOTEIP,
 * $REMOTE_HOST, else "local". $POSTERN_PEER overrides everything (tests).
 * The result is a static string (IPv6 without brackets). */
const char *peer_address(void);

/* True for 127.0.0.0/8, ::1, ::ffff:127.x and "local". */
bool peer_is_loopback(const char *addr);

#endif
