PROGRAMS += postern-imapd
postern-imapd_SRCS := handlers/imapd.c handlers/imap/reply.c handlers/imap/mailbox.c \
	handlers/imap/view.c handlers/imap/recent.c handlers/imap/message.c \
	handlers/imap/date.c handlers/imap/flags.c handlers/imap/special-use.c \
	handlers/imap/cmd-simple.c handlers/imap/cmd-auth.c handlers/imap/cmd-starttls.c \
	handlers/imap/cmd-select.c handlers/imap/cmd-mailbox.c handlers/imap/cmd-list.c \
	handlers/imap/cmd-status.c handlers/imap/cmd-append.c handlers/imap/cmd-expunge.c \
	handlers/imap/fetch-body.c handlers/imap/cmd-fetch.c handlers/imap/cmd-store.c \
	handlers/imap/cmd-copy.c handlers/imap/cmd-search.c handlers/imap/search-decode.c \
	handlers/imap/cmd-idle.c handlers/imap/cmd-enable.c handlers/imap/modseq.c
