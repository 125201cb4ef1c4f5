PROGRAMS += postern-pop3d
postern-pop3d_SRCS := handlers/pop3d.c handlers/pop3/auth.c handlers/pop3/cmd-transaction.c \
	handlers/pop3/maildrop.c handlers/pop3/parse.c handlers/pop3/stls.c handlers/pop3/stuff.c

# The pure parts are unit tested; their tests link these objects too.
$(BUILD)/tests/test-pop3-parse: $(BUILD)/handlers/pop3/parse.o
$(BUILD)/tests/test-pop3-stuff: $(BUILD)/handlers/pop3/stuff.o
