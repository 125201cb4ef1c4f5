# Shared set-up for bats suites: a private world (config, users, mail root)
# under $BATS_TEST_TMPDIR, programs from $POSTERN_BUILD (default build/).

BIN=${POSTERN_BUILD:-$PWD/build}
TOP=$PWD

# setup_world: writes $W/postern.conf with local domains example.org and
# example.net, users alice (plain "secret"), bob@example.net (plain "hunter2"),
# carol (yescrypt hash of "s3cret"), and exports POSTERN_CONF.
setup_world() {
	W=$BATS_TEST_TMPDIR/world
	mkdir -p "$W/mail" "$W/queue"
	cat >"$W/postern.conf" <<CONF
hostname = mx.example.org
domains = example.org, example.net
mail_root = $W/mail
users_file = $W/users
aliases_file = $W/aliases
queue_dir = $W/queue
max_message_size = 1048576
allow_plaintext_auth = yes
CONF
	cat >"$W/users" <<USERS
alice secret
bob@example.net hunter2
carol \$y\$j9T\$Y0W5h1M9D3FlXrYrt3YbV/\$XZjSn28XlpVJ/1WvM7LeufNktJb3rwVO70VCRBqvjK0
USERS
	cat >"$W/aliases" <<ALIASES
postmaster: alice
team: alice, bob@example.net
ALIASES
	export POSTERN_CONF=$W/postern.conf
	export POSTERN_LOG=stderr
	export POSTERN_FAIL_DELAY_MS=0
	export POSTERN_PEER=127.0.0.1
	# no detached queue runner outliving a test (suites that test it opt in)
	export POSTERN_RELAY_SPAWN=0
}

# free_port: print a TCP port nobody listens on (127.0.0.1).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# serve PORT PROGRAM ARGS...: run PROGRAM per connection on
# 127.0.0.1:PORT through systemd-socket-activate (as `make run` does);
# waits until the port accepts connections. Stopped by stop_servers.
serve() {
	serve_at 127.0.0.1 "$@"
}

# serve_at ADDR PORT PROGRAM ARGS...: the same on another local address.
serve_at() {
	local addr=$1 port=$2
	shift 2
	# systemd-socket-activate hands the program only the variables named
	local envs="" v
	for v in POSTERN_CONF POSTERN_LOG POSTERN_FAIL_DELAY_MS POSTERN_NOW POSTERN_RELAY_SPAWN ASAN_OPTIONS UBSAN_OPTIONS; do
		[ -n "${!v+x}" ] && envs="$envs -E $v"
	done
	systemd-socket-activate --accept --inetd $envs -l "$addr:$port" "$@" \
		>>"$BATS_TEST_TMPDIR/serve.log" 2>&1 &
	echo $! >>"$BATS_TEST_TMPDIR/serve.pids"
	local i
	for i in $(seq 1 100); do
		if python3 -c "import socket; socket.create_connection(('$addr',$port),0.2).close()" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "server on $addr:$port did not start" >&2
	return 1
}

stop_servers() {
	[ -f "$BATS_TEST_TMPDIR/serve.pids" ] || return 0
	local p
	for p in $(cat "$BATS_TEST_TMPDIR/serve.pids"); do
		kill "$p" 2>/dev/null || true
	done
	for p in $(cat "$BATS_TEST_TMPDIR/serve.pids"); do
		wait "$p" 2>/dev/null || true
	done
	rm -f "$BATS_TEST_TMPDIR/serve.pids"
}

# count_files DIR: number of regular files in DIR (0 when absent).
count_files() {
	if [ -d "$1" ]; then find "$1" -maxdepth 1 -type f | wc -l; else echo 0; fi
}

# make_test_pki DIR: a test CA (DIR/ca.pem) and a server certificate for
# mx.example.org and 127.0.0.1 (DIR/cert.pem, DIR/key.pem), openssl CLI.
make_test_pki() {
	local pki=$1
	mkdir -p "$pki"
	(
		cd "$pki" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.pem -days 2 -subj "/CN=Postern Test CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout key.pem -out server.csr -subj "/CN=mx.example.org"
		printf 'subjectAltName=DNS:mx.example.org,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out cert.pem -days 2 -extfile ext.cnf
	) >"$pki/pki.log" 2>&1
}
