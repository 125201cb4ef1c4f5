#!/bin/sh
# make run: serve every built protocol on 127.0.0.1 through
# systemd-socket-activate (one process per connection, as systemd does),
# with examples/postern.conf and state under run/. Ctrl-C stops it all.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
conf=$top/examples/postern.conf
mkdir -p run/mail run/queue
chmod 700 run
[ -f run/users ] || cp examples/users run/users
chmod 600 run/users
# A self-signed certificate for STARTTLS and the TLS ports of the demo.
if [ ! -f run/cert.pem ] || [ ! -f run/key.pem ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mail.example.org" \
		-addext "subjectAltName=DNS:mail.example.org,DNS:localhost,IP:127.0.0.1" \
		-keyout run/key.pem -out run/cert.pem >/dev/null 2>&1 ||
		echo "postern: could not create run/cert.pem (openssl): TLS disabled"
	chmod 600 run/key.pem 2>/dev/null
fi

pids=
stop() {
	trap - INT TERM EXIT
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
	echo
	echo "postern: stopped"
	exit 0
}
trap stop INT TERM EXIT

# serve PORT NAME PROGRAM ARGS...
serve() {
	port=$1 name=$2 prog=$3
	shift 3
	if [ ! -x "$BUILD/$prog" ]; then
		printf '  %-12s 127.0.0.1:%-5s (not built yet)\n' "$name" "$port"
		return
	fi
	POSTERN_LOG=${POSTERN_LOG:-stderr} systemd-socket-activate --accept --inetd -E POSTERN_LOG \
		-l "127.0.0.1:$port" "$BUILD/$prog" -c "$conf" "$@" 2>>run/postern.log &
	pids="$pids $!"
	printf '  %-12s 127.0.0.1:%s\n' "$name" "$port"
}

echo "postern: serving from $top (logs in run/postern.log, mail in run/mail/)"
serve 2525 SMTP postern-smtpd
serve 5870 submission postern-smtpd --submission
serve 4650 SMTPS postern-smtpd --tls --submission
serve 1100 POP3 postern-pop3d
serve 9950 POP3S postern-pop3d --tls
serve 1430 IMAP postern-imapd
serve 9930 IMAPS postern-imapd --tls
echo "demo users (run/users):"
awk '!/^#/ && NF >= 2 { u = $1; if (u !~ /@/) u = u "@example.org"; printf "  %-22s password: %s\n", u, $2 }' run/users
echo "try:  swaks --server 127.0.0.1:2525 --to alice@example.org"
echo "Ctrl-C to stop."
wait
