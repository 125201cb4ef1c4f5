#!/usr/bin/env bats
# Mail between domains: three Postern instances — uliege.be,
# gembloux.uliege.be, info.uliege.be — each with its own config, mail root
# and queue, served by systemd-socket-activate on port 25 of its own
# loopback address (127.N.M.1/2/3, N and M random per test so parallel runs
# do not meet), and a real DNS server (dnsmasq) with their MX records.
# The queue runner is started by the tests (`postern-relay --once`), with
# the clock injected through $POSTERN_NOW; one test lets postern-smtpd
# start it by itself.

load helpers

setup() {
	NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
	export POSTERN_LOG=stderr POSTERN_FAIL_DELAY_MS=0 POSTERN_RELAY_SPAWN=0
	unset POSTERN_CONF POSTERN_PEER POSTERN_NOW
	NOW=$(date +%s) # the servers stamp real times; only the runner's clock moves
	DNS_PORT=""
	EXTRA=""
}

teardown() {
	stop_servers
	if [ -n "${DNS_PID:-}" ]; then
		kill "$DNS_PID" 2>/dev/null || true
		wait "$DNS_PID" 2>/dev/null || true
	fi
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# start_dns: dnsmasq on 127.0.0.1:$DNS_PORT with the three domains' MX.
start_dns() {
	DNS_PORT=$(free_port)
	dnsmasq --no-daemon --conf-file=/dev/null --port="$DNS_PORT" --listen-address=127.0.0.1 \
		--bind-interfaces --no-resolv --no-hosts --user=root --pid-file= \
		--mx-host=uliege.be,mail.uliege.be,10 \
		--mx-host=gembloux.uliege.be,mail.gembloux.uliege.be,10 \
		--mx-host=info.uliege.be,mail.info.uliege.be,10 \
		--host-record=mail.uliege.be,"$NET.1" \
		--host-record=mail.gembloux.uliege.be,"$NET.2" \
		--host-record=mail.info.uliege.be,"$NET.3" \
		--host-record=nomx.uliege.be,"$NET.2" \
		--local=/uliege.be/ \
		>>"$BATS_TEST_TMPDIR/dns.log" 2>&1 &
	DNS_PID=$!
	local i
	for i in $(seq 1 100); do
		if python3 - "$DNS_PORT" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
q = bytes.fromhex('abcd01000001000000000000') + b'\x08gembloux\x06uliege\x02be\x00' + b'\x00\x0f\x00\x01'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
s.sendto(q, ('127.0.0.1', int(sys.argv[1]))); s.recv(512)
PY
		sleep 0.05
	done
	echo "dnsmasq did not start" >&2
	cat "$BATS_TEST_TMPDIR/dns.log" >&2
	return 1
}

# instance NAME DOMAIN USERS...: $BATS_TEST_TMPDIR/NAME with postern.conf
# (hostname mail.DOMAIN), users "user secret", an empty aliases file.
instance() {
	local name=$1 domain=$2 d=$BATS_TEST_TMPDIR/$1
	shift 2
	mkdir -p "$d/mail" "$d/queue"
	cat >"$d/postern.conf" <<CONF
hostname = mail.$domain
domains = $domain
mail_root = $d/mail
users_file = $d/users
aliases_file = $d/aliases
queue_dir = $d/queue
smtp_timeout = 20
allow_plaintext_auth = yes
CONF
	[ -n "$DNS_PORT" ] && echo "resolver = 127.0.0.1:$DNS_PORT" >>"$d/postern.conf"
	[ -n "$EXTRA" ] && echo "$EXTRA" >>"$d/postern.conf"
	: >"$d/users"
	: >"$d/aliases"
	local u
	for u in "$@"; do echo "$u@$domain secret" >>"$d/users"; done
}

conf() { echo "$BATS_TEST_TMPDIR/$1/postern.conf"; }

# serve_mx ADDR PORT PROGRAM ARGS...: serve_at (tests/helpers.bash), but
# MX records carry no port, so each instance needs port 25 of its address.
serve_mx() {
	[ "$2" -ge 1024 ] || [ "$(id -u)" -eq 0 ] || skip "port $2 needs root"
	serve_at "$@"
}

# serve_smtp NAME HOST: NAME's postern-smtpd on port 25 of $NET.HOST.
serve_smtp() {
	serve_mx "$NET.$2" 25 "$BIN/postern-smtpd" -c "$(conf "$1")"
}

# relay NAME [ARGS]: one queue run of instance NAME.
relay() {
	local name=$1
	shift
	POSTERN_NOW=$NOW "$BIN/postern-relay" -c "$(conf "$name")" "${@:---once}" \
		2>>"$BATS_TEST_TMPDIR/$name-relay.log"
}

# send HOST FROM TO [SUBJECT]: an SMTP transaction with Python's smtplib.
send() {
	python3 - "$NET.$1" "$2" "$3" "${4:-hello}" <<'PY'
import smtplib, sys
host, sender, rcpt, subject = sys.argv[1:5]
msg = ('From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nline one\r\n.leading dot\r\n' % (sender, rcpt, subject))
with smtplib.SMTP(host, 25, timeout=20) as s:
    s.sendmail(sender, [rcpt], msg)
PY
}

newmail() { find "$BATS_TEST_TMPDIR/$1/mail/$2/$3/new" -type f 2>/dev/null | sort; }
queued() { count_files "$BATS_TEST_TMPDIR/$1/queue/env"; }

@test "MX via DNS: an alias on info.uliege.be forwards to vj@gembloux.uliege.be, read over POP3" {
	start_dns
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 someone@uliege.be vincent@info.uliege.be "via the alias"
	[ "$(queued info)" -eq 1 ]
	[ -z "$(newmail gembloux gembloux.uliege.be vj)" ]
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail gembloux gembloux.uliege.be vj)
	[ -n "$f" ]
	grep -q 'relay=mail.gembloux.uliege.be status=sent' "$BATS_TEST_TMPDIR/info-relay.log"
	if [ -x "$BIN/postern-pop3d" ]; then
		serve_mx "$NET.2" 110 "$BIN/postern-pop3d" -c "$(conf gembloux)"
		python3 - "$NET.2" >"$BATS_TEST_TMPDIR/msg" <<'PY'
import poplib, sys
p = poplib.POP3(sys.argv[1], 110, timeout=20)
p.user('vj@gembloux.uliege.be'); p.pass_('secret')
assert p.stat()[0] == 1
sys.stdout.write('\n'.join(l.decode() for l in p.retr(1)[1]) + '\n')
p.quit()
PY
	else
		tr -d '\r' <"$f" >"$BATS_TEST_TMPDIR/msg"
	fi
	msg=$BATS_TEST_TMPDIR/msg
	grep -q '^Subject: via the alias' "$msg"
	grep -q '^Return-Path: <someone@uliege.be>' "$msg"
	# both servers' Received: lines, the last hop's first
	grep '^Received:' "$msg" >"$msg.rcv"
	[ "$(wc -l <"$msg.rcv")" -eq 2 ]
	# the last hop's Received: comes first
	g=$(grep -n 'by mail.gembloux.uliege.be' "$msg" | head -1 | cut -d: -f1)
	i=$(grep -n 'by mail.info.uliege.be' "$msg" | head -1 | cut -d: -f1)
	[ -n "$g" ] && [ -n "$i" ] && [ "$g" -lt "$i" ]
	grep -q '^.leading dot$' "$msg"
}

@test "authenticated submission from dcd@info.uliege.be reaches vj@gembloux.uliege.be" {
	start_dns
	instance info info.uliege.be dcd
	instance gembloux gembloux.uliege.be vj
	serve_mx "$NET.3" 587 "$BIN/postern-smtpd" -c "$(conf info)" --submission
	serve_smtp gembloux 2
	python3 - "$NET.3" <<'PY'
import smtplib, sys
with smtplib.SMTP(sys.argv[1], 587, timeout=20) as s:
    s.login('dcd@info.uliege.be', 'secret')
    s.sendmail('dcd@info.uliege.be', ['vj@gembloux.uliege.be'],
               'From: dcd@info.uliege.be\r\nSubject: submitted\r\n\r\nhi\r\n')
PY
	[ "$(queued info)" -eq 1 ]
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail gembloux gembloux.uliege.be vj)
	grep -q '^Subject: submitted' "$f"
	grep -q 'with ESMTPA' "$f"
}

@test "unauthenticated open-relay tricks are all refused and nothing is queued" {
	instance info info.uliege.be dcd
	printf '%s\r\n' 'EHLO attacker.example' 'MAIL FROM:<spam@attacker.example>' \
		'RCPT TO:<vj@gembloux.uliege.be>' \
		'RCPT TO:<vj%gembloux.uliege.be@info.uliege.be>' \
		'RCPT TO:<@info.uliege.be:vj@gembloux.uliege.be>' \
		'RCPT TO:<gembloux.uliege.be!vj@info.uliege.be>' \
		'RCPT TO:<"vj@gembloux.uliege.be"@info.uliege.be>' \
		'RCPT TO:<vj@gembloux.uliege.be.>' \
		'RCPT TO:<vj@[127.0.0.2]>' \
		'RCPT TO:<vj@[IPv6:::1]>' \
		'RCPT TO:<vj@info.uliege.be.gembloux.uliege.be>' \
		'QUIT' >"$BATS_TEST_TMPDIR/in"
	POSTERN_PEER=192.0.2.7 run "$BIN/postern-smtpd" -c "$(conf info)" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	echo "$output"
	# 550 for each (the trailing dot is a syntax error: 501)
	[ "$(echo "$output" | grep -cE '^(550 5\.7\.1|550 5\.1\.1|501 5\.1\.3) ')" -eq 9 ]
	! echo "$output" | grep -q '^250 2.1.5'
	[ "$(queued info)" -eq 0 ]
}

@test "static routes: unknown remote user gives a DSN in the local sender's mailbox" {
	instance gembloux gembloux.uliege.be vj
	EXTRA="routes = gembloux.uliege.be=$NET.2:25"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: nobody@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 dcd@info.uliege.be vincent@info.uliege.be "lost letter"
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail info info.uliege.be dcd)
	[ -n "$f" ]
	grep -q '^Return-Path: <>' "$f"
	grep -q '^Content-Type: multipart/report; report-type=delivery-status' "$f"
	grep -q '^Content-Type: message/delivery-status' "$f"
	grep -q '^Reporting-MTA: dns; mail.info.uliege.be' "$f"
	grep -q '^Arrival-Date: ' "$f"
	grep -q '^Final-Recipient: rfc822; nobody@gembloux.uliege.be' "$f"
	grep -q '^Action: failed' "$f"
	grep -q '^Status: 5.1.1' "$f"
	grep -q '^Diagnostic-Code: smtp; 550 5.1.1' "$f"
	grep -q '^Content-Type: text/rfc822-headers' "$f"
	grep -q '^Subject: lost letter' "$f"
	[ -z "$(newmail gembloux gembloux.uliege.be vj)" ]
}

@test "destination down: queued, retried with backoff, delivered when it is back" {
	start_dns
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	serve_smtp info 3
	send 3 dcd@info.uliege.be vincent@info.uliege.be "patience"
	relay info
	[ "$(queued info)" -eq 1 ]
	run relay info --list
	echo "$output"
	echo "$output" | grep -q 'vj@gembloux.uliege.be pending attempts=1'
	echo "$output" | grep -q 'connect to mail.gembloux.uliege.be'
	serve_smtp gembloux 2
	# not due yet: the first retry waits 5 minutes
	NOW=$((NOW + 299))
	relay info
	[ -z "$(newmail gembloux gembloux.uliege.be vj)" ]
	NOW=$((NOW + 2))
	relay info
	[ "$(queued info)" -eq 0 ]
	[ -n "$(newmail gembloux gembloux.uliege.be vj)" ]
	[ -z "$(newmail info info.uliege.be dcd)" ]
}

@test "destination down for longer than queue_lifetime: a 4.4.7 bounce" {
	EXTRA="routes = gembloux.uliege.be=$NET.2:25
queue_lifetime = 3600"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	# the server stamps the arrival with the injected clock too
	POSTERN_NOW=$NOW serve_smtp info 3
	send 3 dcd@info.uliege.be vincent@info.uliege.be "too late"
	grep -q "^T	$NOW\$" "$BATS_TEST_TMPDIR"/info/queue/env/*
	relay info
	[ "$(queued info)" -eq 1 ]
	NOW=$((NOW + 3599))
	relay info
	[ "$(queued info)" -eq 1 ]
	# deferred again at 3599 s; at 3600 s the lifetime is over
	NOW=$((NOW + 1))
	relay info --flush
	[ "$(queued info)" -eq 0 ]
	f=$(newmail info info.uliege.be dcd)
	grep -q '^Status: 4.4.7' "$f"
	grep -q '^Action: failed' "$f"
}

@test "alias fan-out: one local copy at once, one remote copy through the queue" {
	start_dns
	instance info info.uliege.be dcd
	echo "both@info.uliege.be: dcd, vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 someone@uliege.be both@info.uliege.be "fan out"
	[ "$(newmail info info.uliege.be dcd | wc -l)" -eq 1 ]
	[ "$(queued info)" -eq 1 ]
	relay info
	[ "$(newmail gembloux gembloux.uliege.be vj | wc -l)" -eq 1 ]
	[ "$(queued info)" -eq 0 ]
	# the queued copy carries no Return-Path of ours: the last hop adds one
	[ "$(grep -c '^Return-Path:' "$(newmail gembloux gembloux.uliege.be vj)")" -eq 1 ]
}

@test "a loop between aliases on two servers ends in a bounce" {
	start_dns
	instance info info.uliege.be dcd
	echo "loop@info.uliege.be: loop@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	echo "loop@gembloux.uliege.be: loop@info.uliege.be" >"$BATS_TEST_TMPDIR/gembloux/aliases"
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 dcd@info.uliege.be loop@info.uliege.be "round and round"
	local i
	for i in $(seq 1 40); do
		relay info
		relay gembloux
		[ "$(queued info)" -eq 0 ] && [ "$(queued gembloux)" -eq 0 ] && break
	done
	[ "$(queued info)" -eq 0 ]
	[ "$(queued gembloux)" -eq 0 ]
	f=$(newmail info info.uliege.be dcd)
	[ "$(echo "$f" | wc -l)" -eq 1 ]
	grep -q '^Status: 5.4.6' "$f"
	grep -q 'Routing loop detected' "$f"
	grep -q '^Subject: round and round' "$f"
}

@test "null sender: a failed bounce is not bounced again" {
	EXTRA="routes = gembloux.uliege.be=$NET.2:25"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: nobody@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	serve_smtp info 3
	serve_smtp gembloux 2
	python3 - "$NET.3" <<'PY'
import smtplib, sys
with smtplib.SMTP(sys.argv[1], 25, timeout=20) as s:
    s.sendmail('', ['vincent@info.uliege.be'], 'Subject: bounce\r\n\r\nx\r\n')
PY
	relay info
	[ "$(queued info)" -eq 0 ]
	[ -z "$(newmail info info.uliege.be dcd)" ]
	grep -q 'not reported' "$BATS_TEST_TMPDIR/info-relay.log"
}

@test "a relay killed mid-delivery loses nothing: the next run delivers" {
	instance gembloux gembloux.uliege.be vj
	FAKE_PORT=$(free_port)
	EXTRA="routes = gembloux.uliege.be=127.0.0.1:$FAKE_PORT"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	send 3 dcd@info.uliege.be vincent@info.uliege.be "survivor"
	# a next hop that takes the whole message and then never answers
	python3 - "$FAKE_PORT" "$BATS_TEST_TMPDIR/fake.got" <<'PY' &
import socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', int(sys.argv[1]))); srv.listen(5)
open(sys.argv[2] + '.ready', 'w').close()
while True:
    c, _ = srv.accept(); f = c.makefile('rb')
    c.sendall(b'220 fake ESMTP\r\n')
    while True:
        l = f.readline()
        if not l: break
        if l.upper().startswith(b'EHLO'): c.sendall(b'250 fake\r\n')
        elif l.upper().startswith(b'DATA'):
            c.sendall(b'354 go\r\n')
            while f.readline() not in (b'.\r\n', b''): pass
            open(sys.argv[2], 'w').write('got it')
            time.sleep(60)
        else: c.sendall(b'250 ok\r\n')
    c.close()
PY
	FAKE_PID=$!
	local i
	for i in $(seq 1 200); do [ -f "$BATS_TEST_TMPDIR/fake.got.ready" ] && break; sleep 0.05; done
	POSTERN_NOW=$NOW "$BIN/postern-relay" -c "$(conf info)" --once 2>>"$BATS_TEST_TMPDIR/info-relay.log" &
	rpid=$!
	for i in $(seq 1 200); do [ -f "$BATS_TEST_TMPDIR/fake.got" ] && break; sleep 0.05; done
	[ -f "$BATS_TEST_TMPDIR/fake.got" ]
	kill -KILL "$rpid"
	wait "$rpid" || true
	kill "$FAKE_PID"; wait "$FAKE_PID" || true; FAKE_PID=""
	[ "$(queued info)" -eq 1 ]
	# the real server comes back on the route; the lock died with the relay
	sed -i "s/^routes = .*/routes = gembloux.uliege.be=$NET.2:25/" "$(conf info)"
	serve_smtp gembloux 2
	relay info
	[ "$(queued info)" -eq 0 ]
	[ "$(newmail gembloux gembloux.uliege.be vj | wc -l)" -eq 1 ]
}

@test "concurrent runners never deliver a message twice" {
	EXTRA="routes = gembloux.uliege.be=$NET.2:25"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	serve_smtp info 3
	serve_smtp gembloux 2
	for i in 1 2 3 4 5; do send 3 dcd@info.uliege.be vincent@info.uliege.be "n$i"; done
	[ "$(queued info)" -eq 5 ]
	local pids="" p
	for i in 1 2 3 4; do
		POSTERN_NOW=$NOW "$BIN/postern-relay" -c "$(conf info)" 2>>"$BATS_TEST_TMPDIR/info-relay.log" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	relay info
	[ "$(queued info)" -eq 0 ]
	[ "$(newmail gembloux gembloux.uliege.be vj | wc -l)" -eq 5 ]
}

@test "postern-smtpd starts the runner by itself after queueing" {
	EXTRA="routes = gembloux.uliege.be=$NET.2:25"
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	instance gembloux gembloux.uliege.be vj
	unset POSTERN_RELAY_SPAWN
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 dcd@info.uliege.be vincent@info.uliege.be "on its own"
	local i
	for i in $(seq 1 400); do
		[ -n "$(newmail gembloux gembloux.uliege.be vj)" ] && [ "$(queued info)" -eq 0 ] && break
		sleep 0.05
	done
	[ -n "$(newmail gembloux gembloux.uliege.be vj)" ]
	[ "$(queued info)" -eq 0 ]
	# let the detached runner finish before the servers go away
	for i in $(seq 1 200); do
		pgrep -f "postern-relay --once -c $(conf info)" >/dev/null || break
		sleep 0.05
	done
}

# fake_hop ARGS...: tests/relay-fake-smtp.py on 127.0.0.1:$FAKE_PORT,
# recording into $BATS_TEST_TMPDIR/fake.log.
fake_hop() {
	FAKE_PORT=$(free_port)
	python3 "$TOP/tests/relay-fake-smtp.py" "$FAKE_PORT" "$BATS_TEST_TMPDIR/fake.log" "$@" &
	FAKE_PID=$!
	local i
	for i in $(seq 1 200); do [ -f "$BATS_TEST_TMPDIR/fake.log.ready" ] && break; sleep 0.05; done
	[ -f "$BATS_TEST_TMPDIR/fake.log.ready" ]
}

# multi_world: info.uliege.be with multi@ forwarding to a, b and c@fake.test,
# routed to the fake hop.
multi_world() {
	EXTRA="routes = fake.test=127.0.0.1:$FAKE_PORT"
	instance info info.uliege.be dcd
	echo "multi@info.uliege.be: a@fake.test, b@fake.test, c@fake.test" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
}

@test "one session per domain: per-recipient answers, PIPELINING, dot-stuffing" {
	fake_hop --pipelining --rcpt 'b@fake.test=550 5.1.1 no such user b' \
		--rcpt 'c@fake.test=451 4.2.0 try later'
	multi_world
	send 3 dcd@info.uliege.be multi@info.uliege.be "three of them"
	relay info
	log=$BATS_TEST_TMPDIR/fake.log
	cat "$log"
	# one connection, pipelined: MAIL, three RCPT and DATA in one go
	[ "$(grep -c '^C: EHLO' "$log")" -eq 1 ]
	grep -q '^C: MAIL FROM:<dcd@info.uliege.be>' "$log"
	[ "$(grep -c '^C: RCPT TO:' "$log")" -eq 3 ]
	# the leading dot was stuffed on the wire
	grep -q '^\.\.leading dot' "$log"
	run relay info --list
	echo "$output"
	echo "$output" | grep -q 'a@fake.test sent'
	echo "$output" | grep -q 'b@fake.test bounced'
	echo "$output" | grep -q 'c@fake.test pending attempts=1 .*451 4.2.0 try later'
	f=$(newmail info info.uliege.be dcd)
	grep -q '^Final-Recipient: rfc822; b@fake.test' "$f"
	! grep -q '^Final-Recipient: rfc822; [ac]@fake.test' "$f"
}

@test "HELO fallback without ESMTP, and a SIZE limit that is too small bounces" {
	fake_hop --helo-only
	multi_world
	send 3 dcd@info.uliege.be multi@info.uliege.be "old server"
	relay info
	grep -q '^C: HELO mail.info.uliege.be' "$BATS_TEST_TMPDIR/fake.log"
	! grep -q 'SIZE=' "$BATS_TEST_TMPDIR/fake.log"
	[ "$(queued info)" -eq 0 ]
	kill "$FAKE_PID"; wait "$FAKE_PID" || true
	rm -f "$BATS_TEST_TMPDIR/fake.log"*
	fake_hop --size 10
	sed -i "s/^routes = .*/routes = fake.test=127.0.0.1:$FAKE_PORT/" "$(conf info)"
	send 3 dcd@info.uliege.be multi@info.uliege.be "too big"
	relay info
	! grep -q '^C: MAIL' "$BATS_TEST_TMPDIR/fake.log"
	f=$(newmail info info.uliege.be dcd)
	grep -q '^Status: 5.3.4' "$f"
}

@test "one message, recipients in two domains, each with its own state" {
	start_dns
	instance uliege uliege.be someone
	instance gembloux gembloux.uliege.be vj
	instance info info.uliege.be dcd
	echo "both@info.uliege.be: someone@uliege.be, vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	serve_smtp uliege 1
	send 3 dcd@info.uliege.be both@info.uliege.be "two domains"
	relay info
	[ -n "$(newmail uliege uliege.be someone)" ]
	run relay info --list
	echo "$output" | grep -q 'someone@uliege.be sent'
	echo "$output" | grep -q 'vj@gembloux.uliege.be pending attempts=1'
	serve_smtp gembloux 2
	relay info --flush
	[ "$(queued info)" -eq 0 ]
	[ -n "$(newmail gembloux gembloux.uliege.be vj)" ]
	# the first domain got it once only
	[ "$(newmail uliege uliege.be someone | wc -l)" -eq 1 ]
}

@test "a domain that does not exist bounces at once" {
	start_dns
	instance info info.uliege.be dcd
	echo "x@info.uliege.be: someone@nxdomain.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	send 3 dcd@info.uliege.be x@info.uliege.be "nowhere"
	relay info
	[ "$(queued info)" -eq 0 ]
	grep -q '^Status: 5.1.2' "$(newmail info info.uliege.be dcd)"
}

@test "STARTTLS is used when the next hop offers it (no certificate check)" {
	start_dns
	local pki=$BATS_TEST_TMPDIR/pki
	mkdir -p "$pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/key.pem" -out "$pki/cert.pem" -days 2 \
		-subj "/CN=self-signed.invalid" >"$pki/log" 2>&1
	EXTRA="tls_cert = $pki/cert.pem
tls_key = $pki/key.pem"
	instance gembloux gembloux.uliege.be vj
	EXTRA=""
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	serve_smtp gembloux 2
	send 3 dcd@info.uliege.be vincent@info.uliege.be "sealed"
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail gembloux gembloux.uliege.be vj)
	grep -q 'with ESMTPS' "$f"
	grep -q 'over TLSv1.[23]' "$BATS_TEST_TMPDIR/info-relay.log"
}

@test "a bounce to a remote sender goes through the queue to the sender's domain" {
	start_dns
	instance uliege uliege.be someone
	instance gembloux gembloux.uliege.be vj
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: nobody@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp uliege 1
	serve_smtp gembloux 2
	serve_smtp info 3
	send 3 someone@uliege.be vincent@info.uliege.be "from afar"
	relay info
	# the report is queued at info.uliege.be, from <>, for someone@uliege.be
	[ "$(queued info)" -eq 1 ]
	grep -q '^F	$' "$BATS_TEST_TMPDIR"/info/queue/env/*
	grep -q 'someone@uliege.be' "$BATS_TEST_TMPDIR"/info/queue/env/*
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail uliege uliege.be someone)
	grep -q '^Return-Path: <>' "$f"
	grep -q '^Final-Recipient: rfc822; nobody@gembloux.uliege.be' "$f"
	grep -q '^Subject: from afar' "$f"
	[ "$(grep -c '^Return-Path:' "$f")" -eq 1 ]
}

@test "a failed STARTTLS handshake is retried once in plain text" {
	fake_hop --broken-tls
	multi_world
	send 3 dcd@info.uliege.be multi@info.uliege.be "plain after all"
	relay info
	log=$BATS_TEST_TMPDIR/fake.log
	cat "$log"
	[ "$(grep -c '^C: STARTTLS' "$log")" -eq 1 ]
	[ "$(grep -c '^C: EHLO' "$log")" -eq 2 ]
	grep -q '^D: ' "$log"
	grep -q 'retrying without TLS' "$BATS_TEST_TMPDIR/info-relay.log"
	[ "$(queued info)" -eq 0 ]
}

@test "over 30 Received: fields at DATA: queued as failed, bounced, never sent on" {
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	{
		printf '%s\r\n' 'EHLO loop.example' 'MAIL FROM:<dcd@info.uliege.be>' \
			'RCPT TO:<vincent@info.uliege.be>' 'DATA'
		for i in $(seq 1 30); do printf 'Received: from hop%d by hop%d\r\n' "$i" "$((i + 1))"; done
		printf '%s\r\n' 'Subject: looping' '' 'x' '.' 'QUIT'
	} >"$BATS_TEST_TMPDIR/in"
	run "$BIN/postern-smtpd" -c "$(conf info)" <"$BATS_TEST_TMPDIR/in"
	echo "$output"
	echo "$output" | grep -q '^250 2.0.0 OK'
	# 30 + our own = 31: a loop
	grep -q "^R	failed	0	0	vj@gembloux.uliege.be	554 5.4.6 " "$BATS_TEST_TMPDIR"/info/queue/env/*
	relay info
	[ "$(queued info)" -eq 0 ]
	f=$(newmail info info.uliege.be dcd)
	grep -q '^Status: 5.4.6' "$f"
	! grep -q 'relay=' "$BATS_TEST_TMPDIR/info-relay.log"
}

@test "30 Received: fields with ours are no loop yet" {
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	{
		printf '%s\r\n' 'EHLO loop.example' 'MAIL FROM:<dcd@info.uliege.be>' \
			'RCPT TO:<vincent@info.uliege.be>' 'DATA'
		for i in $(seq 1 29); do printf 'Received: from hop%d by hop%d\r\n' "$i" "$((i + 1))"; done
		printf '%s\r\n' 'Subject: long way' '' 'x' '.' 'QUIT'
	} >"$BATS_TEST_TMPDIR/in"
	run "$BIN/postern-smtpd" -c "$(conf info)" <"$BATS_TEST_TMPDIR/in"
	grep -q "^R	pending	0	0	vj@gembloux.uliege.be	" "$BATS_TEST_TMPDIR"/info/queue/env/*
}

@test "no queue, no delivery: if the queued copy cannot be made, the local one is not kept" {
	instance info info.uliege.be dcd
	echo "both@info.uliege.be: dcd, vj@gembloux.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	printf '%s\r\n' 'EHLO x.example' 'MAIL FROM:<a@uliege.be>' 'RCPT TO:<both@info.uliege.be>' \
		'DATA' 'Subject: all or nothing' '' 'x' '.' 'QUIT' >"$BATS_TEST_TMPDIR/in"
	local q=$BATS_TEST_TMPDIR/info/queue broken
	# the queue fails at open (no directory), at writing the content (msg/
	# is a file), at publishing the envelope after the local copy was
	# committed (env/ is a file): each time no copy at all remains
	for broken in queue msg env; do
		rm -rf "$q"
		if [ "$broken" = queue ]; then
			: >"$q"
		else
			mkdir -p "$q/tmp" "$q/lock" "$q/new" "$q/msg" "$q/env"
			rmdir "$q/$broken"
			: >"$q/$broken"
		fi
		run "$BIN/postern-smtpd" -c "$(conf info)" <"$BATS_TEST_TMPDIR/in"
		echo "$broken: $output"
		[ "$broken" != env ] || echo "$output" | grep -q "link(.*/env/.*) failed"
		echo "$output" | grep -q '^451 4.3.0'
		! echo "$output" | grep -q '^250 2.0.0'
		# no message file anywhere: not in new/, not left in tmp/
		[ -z "$(find "$BATS_TEST_TMPDIR/info/mail" -type f)" ]
		[ "$broken" = queue ] || [ -z "$(find "$q/tmp" -type f)" ]
	done
}

@test "BODY=8BITMIME is passed on; SMTPUTF8 mail to a hop without it bounces" {
	fake_hop
	multi_world
	python3 - "$NET.3" <<'PY'
import smtplib, sys
with smtplib.SMTP(sys.argv[1], 25, timeout=20) as s:
    s.sendmail('dcd@info.uliege.be', ['multi@info.uliege.be'],
               'Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n'.encode('latin-1'), mail_options=['BODY=8BITMIME'])
    s.sendmail('dcd@info.uliege.be', ['multi@info.uliege.be'],
               'Subject: utf8\r\n\r\nx\r\n', mail_options=['SMTPUTF8'])
PY
	grep -q '^B	8bitmime$' "$BATS_TEST_TMPDIR"/info/queue/env/*
	grep -q '^B	smtputf8$' "$BATS_TEST_TMPDIR"/info/queue/env/*
	relay info
	cat "$BATS_TEST_TMPDIR/fake.log"
	[ "$(grep -c '^C: MAIL FROM:<dcd@info.uliege.be> BODY=8BITMIME' "$BATS_TEST_TMPDIR/fake.log")" -eq 1 ]
	! grep -q 'SMTPUTF8' "$BATS_TEST_TMPDIR/fake.log"
	[ "$(queued info)" -eq 0 ]
	f=$(newmail info info.uliege.be dcd)
	grep -q '^Status: 5.6.7' "$f"
	grep -q '^Subject: utf8' "$f"
}

@test "a domain without MX records is its own mail host (implicit MX)" {
	start_dns
	instance nomx nomx.uliege.be vj
	instance info info.uliege.be dcd
	echo "vincent@info.uliege.be: vj@nomx.uliege.be" >"$BATS_TEST_TMPDIR/info/aliases"
	serve_smtp info 3
	serve_smtp nomx 2
	send 3 dcd@info.uliege.be vincent@info.uliege.be "no mx"
	relay info
	[ "$(queued info)" -eq 0 ]
	[ -n "$(newmail nomx nomx.uliege.be vj)" ]
	grep -q 'relay=nomx.uliege.be status=sent' "$BATS_TEST_TMPDIR/info-relay.log"
}
