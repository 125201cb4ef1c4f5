#!/bin/sh
# make run: serve every built protocol on 127.0.0.1 through
# systemd-socket-activate (one process per connection, as systemd does),
# with examples/postern.conf and state under run/. Ctrl-C stops it all.
# POSTERN_RUN_DIR puts the state elsewhere (tests use a temporary one); the
# config is then a copy of examples/postern.conf with its paths rewritten.
set -u
run=${POSTERN_RUN_DIR:-}
case $run in "" | /*) ;; *) run=$(pwd)/$run ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
mkdir -p "${run:-run}/mail" "${run:-run}/queue" || exit 1
if [ -z "$run" ]; then
	run=$top/run
	conf=$top/examples/postern.conf
else
	# ../run/X becomes $run/X; other relative paths stay in examples/
	conf=$run/postern.conf
	awk -v run="$run" -v ex="$top/examples" '
	/^[a-z_]+[ \t]*=/ && $1 ~ /^(mail_root|users_file|aliases_file|queue_dir|tls_cert|tls_key)$/ {
		v = $0; sub(/^[^=]*=[ \t]*/, "", v)
		if (v ~ /^\.\.\/run\//) v = run "/" substr(v, 8)
		else if (v !~ /^\//) v = ex "/" v
		print $1 " = " v; next
	}
	{ print }' examples/postern.conf >"$conf" || exit 1
fi
chmod 700 "$run"
[ -f "$run/users" ] || cp examples/users "$run/users"
chmod 600 "$run/users"
# A self-signed certificate for STARTTLS and the TLS ports of the demo.
if [ ! -f "$run/cert.pem" ] || [ ! -f "$run/key.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mail.example.org" \
		-addext "subjectAltName=DNS:mail.example.org,DNS:localhost,IP:127.0.0.1" \
		-keyout "$run/key.pem" -out "$run/cert.pem" >/dev/null 2>&1 ||
		echo "postern: could not create $run/cert.pem (openssl): TLS disabled"
	chmod 600 "$run/key.pem" 2>/dev/null
fi
log=$run/postern.log

# Ctrl-C reaches every process of the terminal's process group; a plain
# kill of this script does not, so stop the listeners. Handlers of open
# connections get SIGTERM when their listener dies (systemd-socket-activate
# sets PR_SET_PDEATHSIG), so nothing is left behind.
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

# Sanitizer builds report where the caller says (make check collects them).
sanenv=
[ -n "${ASAN_OPTIONS+x}" ] && sanenv="$sanenv -E ASAN_OPTIONS"
[ -n "${UBSAN_OPTIONS+x}" ] && sanenv="$sanenv -E UBSAN_OPTIONS"

# serve PORT NAME PROGRAM ARGS...
serve() {
	port=$1 name=$2 prog=$3
	shift 3
	if [ ! -x "$BUILD/$prog" ]; then
		printf '  %-12s 127.0.0.1:%-5s (not built yet)\n' "$name" "$port"
		return
	fi
	POSTERN_LOG=${POSTERN_LOG:-stderr} systemd-socket-activate --accept --inetd -E POSTERN_LOG $sanenv \
		-l "127.0.0.1:$port" "$BUILD/$prog" -c "$conf" "$@" 2>>"$log" &
	pids="$pids $!"
	printf '  %-12s 127.0.0.1:%s\n' "$name" "$port"
}

echo "postern: serving from $top (logs in $log, mail in $run/mail/)"
serve 2525 SMTP postern-smtpd
serve 5870 submission postern-smtpd --submission
serve 4650 SMTPS postern-smtpd --tls --submission
serve 1100 POP3 postern-pop3d
serve 9950 POP3S postern-pop3d --tls
serve 1430 IMAP postern-imapd
serve 9930 IMAPS postern-imapd --tls
# Queued mail to other domains: the detached runner postern-smtpd starts
# handles new mail; this retries deferred mail, like the systemd timer.
if [ -x "$BUILD/postern-relay" ]; then
	(
		trap 'kill $s 2>/dev/null; exit 0' TERM INT
		while :; do
			sleep 60 &
			s=$!
			wait $s
			"$BUILD/postern-relay" -c "$conf" --once >/dev/null 2>&1
		done
	) &
	pids="$pids $!"
fi
echo "demo users ($run/users):"
awk '!/^#/ && NF >= 2 { u = $1; if (u !~ /@/) u = u "@example.org"; printf "  %-22s password: %s\n", u, $2 }' "$run/users"
echo "try:  swaks --server 127.0.0.1:2525 --to alice@example.org"
echo "Ctrl-C to stop."
wait
