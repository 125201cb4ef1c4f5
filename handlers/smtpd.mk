PROGRAMS += postern-smtpd
postern-smtpd_SRCS := handlers/smtpd.c handlers/smtp/session.c handlers/smtp/commands.c \
	handlers/smtp/envelope.c handlers/smtp/recipient.c handlers/smtp/data.c \
	handlers/smtp/delivery.c handlers/smtp/starttls.c handlers/smtp/auth.c \
	handlers/smtp/submission.c
