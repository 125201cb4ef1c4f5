PROGRAMS += postern-user
postern-user_SRCS := handlers/user.c
