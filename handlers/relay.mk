PROGRAMS += postern-relay
postern-relay_SRCS := handlers/relay.c handlers/relay/run.c handlers/relay/route.c \
	handlers/relay/client.c handlers/relay/bounce.c
