#!/usr/bin/env bats
# Connection limits come from the launcher, not from the handlers: with the
# generated xinetd files (instances, per_source) extra connections are queued
# or refused, never served by more processes than allowed, and a flood of
# short connections leaves no handler behind. (systemd-socket-activate has
# no limit, and the .socket units' MaxConnections= needs a running systemd;
# tests/units.bats checks those statically.)

load helpers
load xinetd

setup() {
	[ -x "$BIN/postern-smtpd" ] || skip "postern-smtpd not built in $BIN"
	xinetd_world
}

teardown() {
	if [ -n "${X:-}" ] && [ -f "$X/hold.pid" ]; then
		kill "$(cat "$X/hold.pid")" 2>/dev/null || true
		wait "$(cat "$X/hold.pid")" 2>/dev/null || true
	fi
	xinetd_stop
}

# hold PORT N EXTRA: open N connections and read their greetings, then open
# EXTRA more and report how many of those got a greeting within a second
# (they must not), while all are held open. Writes "held extra_greeted" to
# $X/held and keeps the connections until $X/release exists.
hold() {
	python3 - "$@" "$X" <<'PY' &
import os, socket, sys, time
port, n, extra, x = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
held = []
for _ in range(n):
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    line = s.makefile('rb').readline()
    assert line.startswith(b'220 '), line
    held.append(s)
greeted = 0
extras = []
for _ in range(extra):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=20)
    except OSError:
        continue  # refused: fine
    extras.append(s)
deadline = time.monotonic() + 1.0
for s in extras:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        if s.recv(1).startswith(b'2'):
            greeted += 1
    except (socket.timeout, OSError):
        pass  # queued (no greeting yet) or closed: fine
with open(x + '/held.tmp', 'w') as f:
    f.write('%d %d\n' % (len(held), greeted))
os.rename(x + '/held.tmp', x + '/held')
for _ in range(600):  # bounded: 60 s
    if os.path.exists(x + '/release'):
        break
    time.sleep(0.1)
PY
	echo $! >"$X/hold.pid"
}

wait_file() {
	local i
	for i in $(seq 1 400); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

release() {
	touch "$X/release"
	wait "$(cat "$X/hold.pid")"
}

@test "limits: instances = 3 holds the fourth connection and beyond" {
	port=$(free_port)
	xinetd_service smtp "$port" instances=3 per_source=UNLIMITED
	xinetd_start
	hold "$port" 3 3
	wait_file "$X/held"
	read -r held greeted <"$X/held"
	[ "$held" -eq 3 ]
	[ "$greeted" -eq 0 ]
	# exactly three handlers serve, however many clients wait
	n=$(handler_pids | wc -l)
	echo "handlers while holding 6 connections: $n"
	[ "$n" -eq 3 ]
	# xinetd turned the three extra connections away, and said so
	for i in $(seq 1 100); do
		[ "$(grep -c 'FAIL: postern-smtp service_limit' "$X/services.log")" -ge 3 ] && break
		sleep 0.05
	done
	[ "$(grep -c 'FAIL: postern-smtp service_limit' "$X/services.log")" -eq 3 ]
	release
	wait_no_handlers
}

@test "limits: per_source = 2 refuses the third connection from one address" {
	port=$(free_port)
	xinetd_service smtp "$port" instances=10 per_source=2
	xinetd_start
	hold "$port" 2 2
	wait_file "$X/held"
	read -r held greeted <"$X/held"
	[ "$held" -eq 2 ]
	[ "$greeted" -eq 0 ]
	n=$(handler_pids | wc -l)
	echo "handlers while holding 4 connections: $n"
	[ "$n" -eq 2 ]
	release
	wait_no_handlers
	# xinetd says why it turned them away
	for i in $(seq 1 100); do
		grep -q 'FAIL: postern-smtp per_source_limit from=127.0.0.1' "$X/services.log" && break
		sleep 0.05
	done
	grep -q 'FAIL: postern-smtp per_source_limit from=127.0.0.1' "$X/services.log"
}

@test "limits: a flood of 500 short connections is served and leaves no handler" {
	port=$(free_port)
	# cps raised for the flood: the generated 50/s would (rightly) pause the
	# service for 10 s, which is not what this test is about. instances is
	# well above the 20 clients: a handler that has exited still counts
	# until xinetd has reaped it, and quick handlers let each client be
	# back before that (40 refused some of the 500)
	xinetd_service smtp "$port" instances=200 per_source=UNLIMITED cps="100000 1"
	xinetd_start
	PORT=$port python3 - <<'PY'
import os, socket
from concurrent.futures import ThreadPoolExecutor
port = int(os.environ['PORT'])
def one(i):
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    f = s.makefile('rwb')
    greeting = f.readline()
    f.write(b'QUIT\r\n')
    f.flush()
    bye = f.readline()
    s.close()
    return greeting.startswith(b'220 ') and bye.startswith(b'221 ')
with ThreadPoolExecutor(max_workers=20) as ex:
    results = list(ex.map(one, range(500)))
print('served', sum(results), 'of', len(results))
assert all(results), results.count(False)
PY
	wait_no_handlers
	# every one of them was a process of its own that xinetd saw exit (it
	# logs when it reaps, which may come just after the process is gone)
	for i in $(seq 1 200); do
		[ "$(grep -c 'EXIT: postern-smtp' "$X/services.log")" -ge 500 ] && break
		sleep 0.05
	done
	[ "$(grep -c 'START: postern-smtp' "$X/services.log")" -eq 500 ]
	[ "$(grep -c 'EXIT: postern-smtp' "$X/services.log")" -eq 500 ]
}
