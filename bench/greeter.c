/* greeter: the floor for the connection-rate rows. Speaks just enough SMTP
 * for connrate (greeting, any one line, 221) on fd 0/1 and exits, so that
 * systemd-socket-activate + greeter measures the cost of a per-connection
 * process launch itself. */
#include <unistd.h>

int main(void)
{
	static const char hi[] = "220 greeter ready\r\n", bye[] = "221 bye\r\n";
	char buf[512];
	if (write(1, hi, sizeof hi - 1) < 0)
		return 1;
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				return write(1, bye, sizeof bye - 1) < 0;
	}
}
