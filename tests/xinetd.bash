# Helpers for the suites that run the generated xinetd files for real
# (tests/xinetd.bats, tests/limits.bats). Load after helpers.bash.
#
# The files under test are the ones `make units` generates from
# units/xinetd/postern.xinetd.in, with SBINDIR pointing at $POSTERN_BUILD and
# SYSCONFDIR at a private directory, so `server` and `server_args` are used
# as generated. The test then changes only what cannot stay as installed:
#   port      a free high port on 127.0.0.1 (plus `bind = 127.0.0.1`);
#   user      the user running the test, not `postern`: a test must not add
#             system users, and as a non-root user xinetd cannot switch
#             anyway. So this proves the files and the handlers work
#             together, not the switch to `postern` (xinetd's own job; the
#             handlers need no privilege: the socket is handed to them);
#   log_type  a file in the test directory instead of syslog;
#   rlimit_as dropped: the sanitizer build reserves terabytes of address
#             space, so any address-space limit stops it at start;
#   env       POSTERN_FAIL_DELAY_MS=0 and POSTERN_RELAY_SPAWN=0 (speed; no
#             queue runner outliving the test).
# POSTERN_LOG is removed from xinetd's environment: under xinetd fd 2 is the
# client's socket, so the handlers must log to syslog as installed.

# xinetd_world: setup_world, a self-signed certificate, the config at
# $XCONF and the generated files under $G/gen (made once per suite; the
# config they name is rewritten by each test).
xinetd_world() {
	command -v xinetd >/dev/null || skip "xinetd not installed"
	setup_world
	X=$BATS_TEST_TMPDIR/x
	G=$BATS_FILE_TMPDIR/xinetd
	mkdir -p "$X" "$G/etc/postern"
	if [ ! -f "$G/gen/inetd.conf" ]; then
		env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$TOP" BUILD="$BIN" \
			UNITS_OUT="$G/gen" SBINDIR="$BIN" SYSCONFDIR="$G/etc" units
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-days 2 -subj /CN=localhost -keyout "$G/key.pem" -out "$G/cert.pem" 2>/dev/null
	fi
	XCONF=$G/etc/postern/postern.conf
	{ cat "$W/postern.conf"; echo "tls_cert = $G/cert.pem"; echo "tls_key = $G/key.pem"; } >"$XCONF"
	printf 'defaults\n{\n\tlog_type = FILE %s/services.log\n}\n' "$X" >"$X/xinetd.conf"
	XSERVICES=0
	XUSER=$(id -un)
	XGROUP=$(id -gn)
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line (one
# Python start instead of N).
free_ports() {
	python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# xinetd_service LISTENER PORT [key=value...]: add the generated service for
# LISTENER on PORT, with the changes above and the given attributes replaced.
xinetd_service() {
	local name=$1 port=$2
	shift 2
	local src=$G/gen/xinetd/postern-$name
	[ -f "$src" ] || { echo "not generated: $src" >&2; return 1; }
	awk -v port="$port" -v user="$XUSER" -v group="$XGROUP" -v logfile="$X/services.log" \
		-v overrides="$(printf '%s\n' "$@")" '
	BEGIN {
		n = split(overrides, kv, "\n")
		for (i = 1; i <= n; i++) if ((eq = index(kv[i], "=")) > 0) set[substr(kv[i], 1, eq - 1)] = substr(kv[i], eq + 1)
		set["port"] = port; set["user"] = user; set["group"] = group
		set["log_type"] = "FILE " logfile
	}
	/^[ \t]*[a-z_]+[ \t]*=/ {
		key = $1
		if (key == "rlimit_as") next
		if (key in set) { printf "\t%s = %s\n", key, set[key]; done[key] = 1; next }
	}
	/^}/ {
		for (k in set) if (!(k in done)) printf "\t%s = %s\n", k, set[k]
		print "\tbind = 127.0.0.1"
		print "\tenv = POSTERN_FAIL_DELAY_MS=0 POSTERN_RELAY_SPAWN=0"
	}
	{ print }' "$src" >>"$X/xinetd.conf"
	XSERVICES=$((XSERVICES + 1))
}

# xinetd_start: run xinetd in the foreground (background job) and wait until
# it reports every service as available — a service it rejected (bad
# generated syntax) makes this fail.
xinetd_start() {
	env -u POSTERN_LOG xinetd -dontfork -f "$X/xinetd.conf" -pidfile "$X/xinetd.pid" \
		-filelog "$X/xinetd.log" >"$X/xinetd.out" 2>&1 &
	echo $! >"$X/xinetd.job"
	local i
	for i in $(seq 1 200); do
		if grep -q 'Started working' "$X/xinetd.log" 2>/dev/null; then
			grep -q "Started working: $XSERVICES available service" "$X/xinetd.log" && return 0
			echo "xinetd did not take every service:" >&2
			cat "$X/xinetd.log" "$X/xinetd.conf" >&2
			return 1
		fi
		kill -0 "$(cat "$X/xinetd.job")" 2>/dev/null || break
		sleep 0.05
	done
	echo "xinetd did not start" >&2
	cat "$X/xinetd.log" "$X/xinetd.out" >&2 2>/dev/null
	return 1
}

# handler_pids: handlers running with this test's config (their command line
# holds its unique path).
handler_pids() {
	pgrep -f -- "-c $XCONF" || true
}

# wait_no_handlers [TRIES]: bounded wait (0.05 s steps) until none runs.
wait_no_handlers() {
	local i
	for i in $(seq 1 "${1:-200}"); do
		[ -z "$(handler_pids)" ] && return 0
		sleep 0.05
	done
	echo "handlers still running: $(handler_pids)" >&2
	return 1
}

# xinetd_stop: stop xinetd (it ends its servers on SIGTERM) and, as a last
# resort, any handler of this test that is still there. For teardown.
xinetd_stop() {
	[ -n "${X:-}" ] || return 0
	if [ -f "$X/xinetd.job" ]; then
		local p
		p=$(cat "$X/xinetd.job")
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		rm -f "$X/xinetd.job"
	fi
	wait_no_handlers 100 2>/dev/null || kill $(handler_pids) 2>/dev/null || true
}
