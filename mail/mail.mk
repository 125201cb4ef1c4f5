# postern-mail: the mail user agent, a client. From lib/ it links only
# strbuf (whose out-of-memory abort is its one log line) and openssl-dl
# (OpenSSL, loaded only for TLS); it never touches the store, the config or
# the server's line I/O.
PROGRAMS += postern-mail
MAIL_LIB_SRCS := mail/conn.c mail/client-tls.c mail/codec.c mail/header.c mail/date.c \
	mail/compose.c mail/smtp.c mail/imapresp.c mail/imap.c mail/pop3.c \
	mail/mailbox.c mail/show.c mail/term.c mail/interactive.c mail/script.c
postern-mail_SRCS := mail/main.c $(MAIL_LIB_SRCS)

# The unit test of the client's parsers and encoders links its objects (and,
# as they come after the archive on its link line, the loader they use).
$(BUILD)/tests/test-mail: $(MAIL_LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/lib/openssl-dl.o
