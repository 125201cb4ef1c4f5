/* log: one line per event, to the journal (structured fields), syslog, or
 * stderr when POSTERN_LOG=stderr. Never to fd 2 otherwise: under inetd fd 2
 * may be the client's socket. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Start logging for PROTOCOL ("smtp", "pop3", "imap", "relay", "user").
 * Creates a random session id. */
void log_init(const char *protocol);
void log_set_peer(const char *addr);
void log_set_user(const char *user);
/* The session id (16 hex digits), also used in Received: ids. */
const char *log_session_id(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
