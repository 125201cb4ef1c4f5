#!/usr/bin/env bats
# `make run`: every built protocol answers on its fixed 127.0.0.1 port, the
# ports and demo users are printed, and Ctrl-C (SIGINT to the process group,
# which is what the terminal sends) or a plain SIGTERM to make's shell
# leaves no process behind. State goes to a temporary POSTERN_RUN_DIR, never
# to the checkout's run/. Skipped when the fixed ports are taken (e.g. a
# developer's own `make run`).

load helpers

PORTS="2525 5870 4650 1100 9950 1430 9930"

setup() {
	local busy
	busy=$(python3 -c '
import socket, sys
for p in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        print(p)
    s.close()' $PORTS)
	[ -z "$busy" ] || skip "port(s) $busy in use (another make run?)"
	R=$BATS_TEST_TMPDIR/run
	OUT=$BATS_TEST_TMPDIR/make-run.out
}

teardown() {
	# last resort: anything of this session still there (by session id)
	if [ -n "${SID:-}" ]; then
		pkill -KILL -s "$SID" 2>/dev/null || true
	fi
	if [ -n "${HOLD:-}" ]; then
		kill "$HOLD" 2>/dev/null || true
	fi
	[ -n "${MAKEPID:-}" ] && wait "$MAKEPID" 2>/dev/null || true
}

# start_run: `make run` in a session of its own (so the test can send what
# Ctrl-C sends), without the SIGINT-ignoring that background jobs get,
# without rebuilding the programs under test (-o all) and without the
# package check that `make check` has just done (-o deps).
start_run() {
	(
		trap - INT QUIT
		exec setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$BATS_TEST_TMPDIR/sid" \
			env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS POSTERN_RUN_DIR="$R" \
			make -C "$TOP" -o all -o deps BUILD="$BIN" run
	) >"$OUT" 2>&1 </dev/null &
	MAKEPID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$BATS_TEST_TMPDIR/sid" ] && grep -q 'Ctrl-C to stop' "$OUT" &&
			python3 -c "import socket; socket.create_connection(('127.0.0.1', 2525), 0.5).close()" 2>/dev/null &&
			break
		sleep 0.05
	done
	SID=$(cat "$BATS_TEST_TMPDIR/sid")
	cat "$OUT"
	grep -q '127.0.0.1:2525$' "$OUT"
}

# gone: bounded wait until no process of the session and none using $R runs
gone() {
	local i
	for i in $(seq 1 200); do
		if ! pgrep -s "$SID" >/dev/null && ! pgrep -f -- "$R/" >/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "still running:"
	pgrep -a -s "$SID"
	pgrep -af -- "$R/"
	return 1
}

# hold_open: one SMTP connection kept open (a handler is running)
hold_open() {
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 2525), timeout=20)
assert s.makefile("rb").readline().startswith(b"220 ")
open(sys.argv[1], "w").close()
time.sleep(60)' "$BATS_TEST_TMPDIR/held" &
	HOLD=$!
	local i
	for i in $(seq 1 200); do
		[ -e "$BATS_TEST_TMPDIR/held" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "make run: every listed port answers, demo users shown, Ctrl-C stops everything" {
	start_run
	grep -q 'alice@example.org *password: wonderland' "$OUT"
	[ -f "$R/users" ] && [ -f "$R/postern.conf" ]
	# every port that is listed without "(not built yet)" answers its protocol
	grep -E '^  [A-Za-z0-9]+ +127\.0\.0\.1:[0-9]+$' "$OUT" | awk -F: '{ print $2 }' >"$BATS_TEST_TMPDIR/ports"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ports")" -ge 3 ]
	NOTLS_POP3=0
	if [ -x "$BIN/postern-pop3d" ] && printf 'QUIT\r\n' | POSTERN_LOG=stderr "$BIN/postern-pop3d" -c "$R/postern.conf" --tls 2>&1 | grep -q 'no TLS support'; then
		NOTLS_POP3=1 # work in progress: TCP only for 9950
	fi
	NOTLS_POP3=$NOTLS_POP3 python3 - "$BATS_TEST_TMPDIR/ports" <<'PY'
import os, smtplib, socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
banner = {2525: b'220 ', 5870: b'220 ', 4650: b'220 ', 1100: b'+OK', 9950: b'+OK', 1430: b'* OK', 9930: b'* OK'}
for port in map(int, open(sys.argv[1]).read().split()):
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    if port in (4650, 9950, 9930):
        if port == 9950 and os.environ['NOTLS_POP3'] == '1':
            s.close()
            continue
        s = ctx.wrap_socket(s)
    line = s.makefile('rb').readline()
    assert line.startswith(banner[port]), (port, line)
    s.close()
# and mail goes where make run says it does
s = smtplib.SMTP('127.0.0.1', 2525, timeout=20)
assert s.sendmail('someone@example.net', ['alice@example.org'], 'Subject: run\r\n\r\nhello\r\n') == {}
s.quit()
PY
	[ "$(count_files "$R/mail/example.org/alice/new")" -eq 1 ]
	hold_open
	pgrep -s "$SID" -x postern-smtpd # a handler is serving the held connection
	# Ctrl-C
	kill -INT -- "-$SID"
	gone
	wait "$MAKEPID" || true
	grep -q 'postern: stopped' "$OUT"
}

@test "make run: SIGTERM to the launcher alone also stops listeners and open sessions" {
	start_run
	hold_open
	# the launcher script is the shell make started
	launcher=$(pgrep -o -s "$SID" -fx 'sh scripts/run.sh') # -o: not its retry loop
	[ -n "$launcher" ]
	kill -TERM "$launcher"
	gone
	wait "$MAKEPID" || true
	grep -q 'postern: stopped' "$OUT"
}
