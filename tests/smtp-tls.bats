#!/usr/bin/env bats
# postern-smtpd with TLS and authentication: STARTTLS (RFC 3207) and
# implicit TLS (--tls), AUTH PLAIN/LOGIN (RFC 4954), submission (--submission)
# and the brute-force limits. A test CA and a server certificate are made
# with the openssl CLI; clients are openssl s_client, Python smtplib, curl
# and raw sockets. Session files (examples/smtp-auth-*.session) are piped
# into the handler and compared with their .expected transcripts.

load helpers

setup_file() {
	make_test_pki "$BATS_FILE_TMPDIR/pki"
	export PKI=$BATS_FILE_TMPDIR/pki
}

setup() {
	W=$BATS_TEST_TMPDIR/world
	mkdir -p "$W/mail" "$W/queue"
	cat >"$W/postern.conf" <<CONF
hostname = mx.example.org
domains = example.org, example.net
mail_root = $W/mail
users_file = $W/users
aliases_file = $W/aliases
queue_dir = $W/queue
max_message_size = 65536
smtp_timeout = 30
tls_cert = $PKI/cert.pem
tls_key = $PKI/key.pem
allow_plaintext_auth = no
CONF
	printf 'alice secret\nbob@example.net hunter2\n' >"$W/users"
	printf 'postmaster: alice\nteam: alice, bob@example.net\n' >"$W/aliases"
	export POSTERN_CONF=$W/postern.conf
	export POSTERN_LOG=stderr
	export POSTERN_FAIL_DELAY_MS=0
	export W
}

teardown() {
	stop_servers
	# handlers behind the socket activator: their sanitizer reports land here
	if grep -E 'Sanitizer|runtime error' "$BATS_TEST_TMPDIR/serve.log" 2>/dev/null; then
		return 1
	fi
}

# start NAME ARGS...: postern-smtpd ARGS on a free port, exported as $NAME.
start() {
	local name=$1 port
	shift
	port=$(free_port)
	# systemd-socket-activate passes no environment: hand it over with env
	serve "$port" env -u POSTERN_PEER POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		POSTERN_FAIL_DELAY_MS="$POSTERN_FAIL_DELAY_MS" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$BIN/postern-smtpd" "$@"
	export "$name=$port"
}

# count USER-DIR: messages in a mailbox's new/.
count() {
	count_files "$W/mail/$1/new"
}

# pipe NAME PEER ARGS...: examples/NAME.session into the handler as if from
# PEER; the transcript must equal examples/NAME.expected (message ids
# normalised). $out is the transcript, $log the log.
pipe() {
	local name=$1 peer=$2
	shift 2
	out=$BATS_TEST_TMPDIR/$name.out
	log=$BATS_TEST_TMPDIR/$name.log
	POSTERN_PEER=$peer "$BIN/postern-smtpd" "$@" <"$TOP/examples/$name.session" \
		>"$out.raw" 2>"$log" || {
		echo "postern-smtpd exited with $?"
		cat "$log"
		return 1
	}
	sed -E 's/OK [0-9a-f]{16}-[0-9]+ Message/OK <ID> Message/' <"$out.raw" >"$out"
	if ! cmp -s "$TOP/examples/$name.expected" "$out"; then
		diff -u <(cat -A "$TOP/examples/$name.expected") <(cat -A "$out") || true
		cat "$log"
		return 1
	fi
}

# The fail2ban filter of the README, as a Python regex over our stderr log
# lines (fail2ban's own prefix handling replaced by the stderr prefix).
F2B='^postern-\w+\[\d+\]: session=[0-9a-f]{16} peer=\S+ (?:user=\S+ )?auth failed: proto=\S+ peer=(?P<host>\S+) user=\S+ mech=\S+ reason=\S+ failures=\d+$'

# f2b_hosts LOG: the host fail2ban would ban for each matching line.
f2b_hosts() {
	python3 -c 'import re,sys
r = re.compile(sys.argv[1])
for line in open(sys.argv[2], errors="replace"):
    m = r.match(line.rstrip("\n"))
    if m: print(m.group("host"))' "$F2B" "$1"
}

@test "session: submission AUTH PLAIN/LOGIN edge cases, sender ownership, delivery" {
	pipe smtp-auth-submission 127.0.0.1 --submission
	[ "$(count example.net/bob)" -eq 1 ]
	f=$(find "$W/mail/example.net/bob/new" -type f)
	grep -q $'^Return-Path: <Alice@EXAMPLE.ORG>\r$' "$f"
	grep -q 'with ESMTPA id' "$f"
	grep -q 'auth ok: proto=smtp user=alice@example.org mech=LOGIN' "$log"
	grep -q 'rejected from=<bob@example.net> user=alice@example.org: sender address not owned' "$log"
	# secrets never reach the log
	! grep -q 'secret' "$log"
}

@test "session: no AUTH before TLS from a remote peer (538), submission needs AUTH (530)" {
	pipe smtp-auth-notls 203.0.113.5 --submission
	grep -q 'auth refused: mech=PLAIN reason=no-tls' "$log"
}

@test "session: port 25 with a certificate, AUTH, no AUTH inside a transaction, ESMTPA" {
	pipe smtp-auth-mx 127.0.0.1
	[ "$(count example.org/alice)" -eq 1 ]
	f=$(find "$W/mail/example.org/alice/new" -type f)
	grep -q 'with ESMTPA id' "$f"
}

@test "session: three bad credentials end the session with 421, each logged for fail2ban" {
	# plaintext allowed, so a remote peer reaches the password check
	sed -i 's/^allow_plaintext_auth = no/allow_plaintext_auth = yes/' "$W/postern.conf"
	pipe smtp-auth-failures 198.51.100.7 --submission
	[ "$(grep -c 'auth failed: ' "$log")" -eq 3 ]
	grep -q 'auth failed: proto=smtp peer=198.51.100.7 user=alice mech=PLAIN reason=bad-credentials failures=1$' "$log"
	grep -q 'auth failed: proto=smtp peer=198.51.100.7 user=alice mech=LOGIN reason=bad-credentials failures=2$' "$log"
	grep -q 'auth failed: proto=smtp peer=198.51.100.7 user=alice mech=PLAIN reason=authzid failures=3$' "$log"
	[ "$(f2b_hosts "$log" | sort -u)" = 198.51.100.7 ]
	[ "$(f2b_hosts "$log" | wc -l)" -eq 3 ]
}

@test "failure delay grows: two failures cost at least base + 2*base" {
	# a lower bound only: a slow machine takes longer, never shorter
	export POSTERN_FAIL_DELAY_MS=150
	printf 'EHLO c.example.org\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/in"
	start_ns=$(date +%s%N)
	POSTERN_PEER=127.0.0.1 "$BIN/postern-smtpd" --submission <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/o" 2>/dev/null
	end_ns=$(date +%s%N)
	[ "$(grep -c '^535 5.7.8 ' "$BATS_TEST_TMPDIR/o")" -eq 2 ]
	[ $(((end_ns - start_ns) / 1000000)) -ge 450 ]
}

@test "a user name cannot forge a fail2ban field or line" {
	u=$(printf 'x peer=192.0.2.1 \001' | base64 -w0)
	printf 'EHLO c.example.org\r\nAUTH LOGIN %s\r\nd3Jvbmc=\r\nQUIT\r\n' "$u" >"$BATS_TEST_TMPDIR/in"
	# plaintext allowed here, so a remote peer reaches the password check
	printf 'allow_plaintext_auth = yes\n' >>"$W/postern.conf"
	POSTERN_PEER=203.0.113.9 "$BIN/postern-smtpd" --submission <"$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/log"
	grep -q '^535 ' "$BATS_TEST_TMPDIR/o"
	grep -q 'user=x\\x20peer\\x3d192.0.2.1\\x20\\x01 mech=LOGIN' "$BATS_TEST_TMPDIR/log"
	[ "$(f2b_hosts "$BATS_TEST_TMPDIR/log")" = 203.0.113.9 ]
}

@test "no certificate: EHLO unchanged, STARTTLS 502, AUTH 502 on port 25" {
	sed -i '/^tls_/d' "$W/postern.conf"
	printf 'EHLO c.example.org\r\nSTARTTLS\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n' |
		POSTERN_PEER=127.0.0.1 "$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/o" 2>/dev/null
	run cat "$BATS_TEST_TMPDIR/o"
	[[ "$output" == *$'250 CHUNKING\r'* ]]
	[[ "$output" != *STARTTLS$'\r'* ]]
	[[ "$output" != *"250-AUTH"* && "$output" != *"250 AUTH"* ]]
	[[ "$output" == *$'502 5.5.1 STARTTLS not available\r'* ]]
	[[ "$output" == *$'502 5.5.1 AUTH not available\r'* ]]
	# --tls without a certificate: exit 1, and no plaintext on a TLS port
	run bash -c 'echo QUIT | POSTERN_PEER=127.0.0.1 "$0/postern-smtpd" --tls 2>/dev/null' "$BIN"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "openssl s_client -starttls smtp: EHLO again, AUTH PLAIN, mail delivered with ESMTPSA" {
	start SUB --submission
	printf 'EHLO client.example.org\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nMAIL FROM:<alice@example.org>\nRCPT TO:<bob@example.net>\nDATA\nSubject: s_client\n\nvia openssl s_client\n.\nQUIT\n' |
		timeout 60 openssl s_client -starttls smtp -connect "127.0.0.1:$SUB" -CAfile "$PKI/ca.pem" \
			-verify_return_error -verify_hostname mx.example.org -crlf -quiet -nocommands \
			>"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e" || {
		cat "$BATS_TEST_TMPDIR/e" "$BATS_TEST_TMPDIR/o"
		return 1
	}
	cat "$BATS_TEST_TMPDIR/o"
	grep -q '^250-AUTH PLAIN LOGIN\|^250 AUTH PLAIN LOGIN' "$BATS_TEST_TMPDIR/o"
	! grep -q 'STARTTLS' "$BATS_TEST_TMPDIR/o" # not offered again inside TLS
	grep -q '^235 2.7.0 ' "$BATS_TEST_TMPDIR/o"
	grep -q '^250 2.0.0 OK .* Message accepted' "$BATS_TEST_TMPDIR/o"
	grep -q '^221 ' "$BATS_TEST_TMPDIR/o"
	[ "$(count example.net/bob)" -eq 1 ]
	f=$(find "$W/mail/example.net/bob/new" -type f)
	grep -q 'with ESMTPSA id' "$f"
	grep -q 'TLS started: TLSv1\.[23]' "$BATS_TEST_TMPDIR/serve.log"
}

@test "openssl s_client to a --tls server: TLS from the first byte, TLS 1.1 refused" {
	start SMTPS --tls --submission
	printf 'EHLO client.example.org\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nQUIT\n' |
		timeout 60 openssl s_client -connect "127.0.0.1:$SMTPS" -CAfile "$PKI/ca.pem" \
			-verify_return_error -crlf -quiet -nocommands >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e" || {
		cat "$BATS_TEST_TMPDIR/e" "$BATS_TEST_TMPDIR/o"
		return 1
	}
	grep -q '^220 mx.example.org ESMTP' "$BATS_TEST_TMPDIR/o"
	grep -q '^250 AUTH PLAIN LOGIN' "$BATS_TEST_TMPDIR/o"
	! grep -q 'STARTTLS' "$BATS_TEST_TMPDIR/o"
	grep -q '^235 2.7.0 ' "$BATS_TEST_TMPDIR/o"
	# TLS 1.2 is spoken, TLS 1.1 is not (the client is told to allow it)
	printf 'QUIT\n' | timeout 60 openssl s_client -connect "127.0.0.1:$SMTPS" -tls1_2 \
		-CAfile "$PKI/ca.pem" -verify_return_error -crlf -quiet -nocommands 2>/dev/null |
		grep -q '^221 '
	run timeout 60 openssl s_client -connect "127.0.0.1:$SMTPS" -tls1_1 \
		-cipher 'DEFAULT@SECLEVEL=0' </dev/null
	[ "$status" -ne 0 ]
	grep -q 'TLS handshake: .*unsupported protocol' "$BATS_TEST_TMPDIR/serve.log"
}

@test "smtplib: starttls() with the test CA, AUTH PLAIN, then send" {
	start SUB --submission
	python3 - "$SUB" "$PKI/ca.pem" <<'PY'
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.example.org')
assert s.has_extn('starttls')
assert s.has_extn('auth')  # loopback: offered before TLS too
code, _ = s.starttls(context=ctx)
assert code == 220
s.ehlo('client.example.org')
assert not s.has_extn('starttls')
assert s.esmtp_features['auth'].split() == ['PLAIN', 'LOGIN'], s.esmtp_features
s.user, s.password = 'alice', 'secret'
code, resp = s.auth('PLAIN', s.auth_plain)
assert code == 235, (code, resp)
refused = s.sendmail('alice@example.org', ['bob@example.net'], 'Subject: smtplib tls\r\n\r\nover TLS\r\n')
assert refused == {}
# STARTTLS again inside TLS
code, resp = s.docmd('STARTTLS')
assert (code, resp) == (503, b'5.5.1 TLS already active'), (code, resp)
s.quit()
PY
	[ "$(count example.net/bob)" -eq 1 ]
	grep -q 'with ESMTPSA id' "$(find "$W/mail/example.net/bob/new" -type f)"
}

@test "smtplib: SMTP_SSL to --tls, AUTH LOGIN with and without initial response" {
	start SMTPS --tls --submission
	python3 - "$SMTPS" "$PKI/ca.pem" <<'PY'
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
for initial in (True, False):
    s = smtplib.SMTP_SSL('127.0.0.1', port, timeout=30, context=ctx)
    s.ehlo('client.example.org')
    try:
        s.sendmail('alice@example.org', ['bob@example.net'], 'Subject: x\r\n\r\nx\r\n')
        raise SystemExit('unauthenticated MAIL accepted')
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 530, e
    s.user, s.password = 'alice', 'secret'
    code, resp = s.auth('LOGIN', s.auth_login, initial_response_ok=initial)
    assert code == 235, (code, resp)
    try:
        s.sendmail('bob@example.net', ['alice@example.org'], 'Subject: x\r\n\r\nx\r\n')
        raise SystemExit('foreign sender accepted')
    except smtplib.SMTPSenderRefused as e:
        assert (e.smtp_code, e.smtp_error) == (553, b'5.7.1 Sender address not owned by user'), e
    refused = s.sendmail('postmaster@example.org', ['bob@example.net'],
                         'Subject: smtps\r\n\r\nfrom an alias of alice\r\n')
    assert refused == {}
    s.quit()
PY
	[ "$(count example.net/bob)" -eq 2 ]
}

@test "smtplib: bad passwords over TLS end in 421 and a closed connection" {
	start SMTPS --tls --submission
	python3 - "$SMTPS" "$PKI/ca.pem" <<'PY'
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP_SSL('127.0.0.1', port, timeout=30, context=ctx)
s.ehlo('client.example.org')
for i in range(3):
    s.user, s.password = 'alice', 'wrong%d' % i
    try:
        s.auth('PLAIN', s.auth_plain)
        raise SystemExit('bad password accepted')
    except smtplib.SMTPAuthenticationError as e:
        want = (535, b'5.7.8 Authentication credentials invalid') if i < 2 else \
               (421, b'4.7.0 Too many authentication failures')
        assert (e.smtp_code, e.smtp_error) == want, (i, e)
try:
    s.noop()
    raise SystemExit('still connected')
except smtplib.SMTPServerDisconnected:
    pass
PY
	[ "$(grep -c 'auth failed: proto=smtp peer=127.0.0.1 user=alice mech=PLAIN' "$BATS_TEST_TMPDIR/serve.log")" -eq 3 ]
	[ "$(f2b_hosts "$BATS_TEST_TMPDIR/serve.log" | sort -u)" = 127.0.0.1 ]
}

@test "curl --ssl-reqd smtp:// (STARTTLS) and smtps:// with AUTH PLAIN and LOGIN" {
	start SUB --submission
	start SMTPS --tls --submission
	printf 'Subject: curl\r\n\r\nvia curl\r\n' >"$BATS_TEST_TMPDIR/msg"
	curl -sS --ssl-reqd --cacert "$PKI/ca.pem" --resolve "mx.example.org:$SUB:127.0.0.1" \
		"smtp://mx.example.org:$SUB" -u alice:secret --mail-from alice@example.org \
		--mail-rcpt bob@example.net -T "$BATS_TEST_TMPDIR/msg"
	curl -sS --cacert "$PKI/ca.pem" --resolve "mx.example.org:$SMTPS:127.0.0.1" \
		"smtps://mx.example.org:$SMTPS" -u alice:secret --login-options AUTH=LOGIN \
		--mail-from alice@example.org --mail-rcpt bob@example.net -T "$BATS_TEST_TMPDIR/msg"
	[ "$(count example.net/bob)" -eq 2 ]
	# a wrong password is refused
	run curl -sS --ssl-reqd --cacert "$PKI/ca.pem" --resolve "mx.example.org:$SUB:127.0.0.1" \
		"smtp://mx.example.org:$SUB" -u alice:nope --mail-from alice@example.org \
		--mail-rcpt bob@example.net -T "$BATS_TEST_TMPDIR/msg"
	[ "$status" -eq 67 ] # CURLE_LOGIN_DENIED
	[ "$(count example.net/bob)" -eq 2 ]
}

@test "STARTTLS injection: commands pipelined behind STARTTLS are never run" {
	start MX
	python3 - "$MX" "$PKI/ca.pem" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]

def reply(sock):
    """One whole reply, read a byte at a time so nothing after it is consumed."""
    lines, cur = [], b''
    while True:
        b = sock.recv(1)
        if not b:
            raise SystemExit('connection closed; got %r' % lines)
        cur += b
        if cur.endswith(b'\r\n'):
            lines.append(cur[:-2].decode())
            if cur[3:4] == b' ':
                return lines
            cur = b''

raw = socket.create_connection(('127.0.0.1', port), timeout=30)
assert reply(raw)[0].startswith('220 ')
raw.sendall(b'EHLO client.example.org\r\n')
ehlo = reply(raw)
assert '250-STARTTLS' in ehlo or '250 STARTTLS' in ehlo, ehlo
raw.sendall(b'STARTTLS now\r\n')
assert reply(raw) == ['501 5.5.4 Syntax: STARTTLS']
# the attack: a command in the same packet as STARTTLS
raw.sendall(b'STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n')
assert reply(raw) == ['220 2.0.0 Ready to start TLS']
ctx = ssl.create_default_context(cafile=ca)
tls = ctx.wrap_socket(raw, server_hostname='mx.example.org')
tls.sendall(b'NOOP\r\n')
got = reply(tls)
assert got == ['250 2.0.0 OK'], got  # not an answer to the injected MAIL
# RFC 3207 4.2: the server forgot EHLO; MAIL needs a new one
tls.sendall(b'MAIL FROM:<alice@example.org>\r\n')
assert reply(tls) == ['503 5.5.1 Send EHLO or HELO first']
tls.sendall(b'EHLO client.example.org\r\n')
ehlo = reply(tls)
assert not any('STARTTLS' in l for l in ehlo), ehlo
tls.sendall(b'QUIT\r\n')
assert reply(tls)[0].startswith('221 ')
PY
	grep -q 'discarded 28 octets sent before the TLS handshake' "$BATS_TEST_TMPDIR/serve.log"
	! grep -q 'evil' "$BATS_TEST_TMPDIR/serve.log"
}

@test "a failed handshake after STARTTLS ends the session without plaintext" {
	start MX
	python3 - "$MX" <<'PY'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30)
f = s.makefile('rb')
assert f.readline().startswith(b'220 ')
s.sendall(b'EHLO c.example.org\r\n')
while not f.readline().startswith(b'250 '):
    pass
s.sendall(b'STARTTLS\r\n')
assert f.readline() == b'220 2.0.0 Ready to start TLS\r\n'
# five octets: OpenSSL reads them all as a record header and fails, so
# the server closes cleanly (no unread data, no RST hiding a reply)
s.sendall(b'NOOP\n')
rest = f.read()  # the server closes; it must not answer NOOP in plaintext
assert b'250' not in rest, rest
PY
	grep -q 'TLS handshake' "$BATS_TEST_TMPDIR/serve.log"
}

@test "a client that never starts the TLS handshake is dropped after smtp_timeout" {
	sed -i 's/^smtp_timeout = .*/smtp_timeout = 1/' "$W/postern.conf"
	start SMTPS --tls
	python3 - "$SMTPS" <<'PY'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=60)
# send nothing: the server waits in the handshake, then gives up
assert s.recv(100) == b''
PY
}

@test "smtplib: STARTTLS on port 25 without AUTH is received with ESMTPS" {
	start MX
	python3 - "$MX" "$PKI/ca.pem" <<'PY'
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
refused = s.sendmail('someone@elsewhere.test', ['alice@example.org'], 'Subject: tls\r\n\r\nx\r\n')
assert refused == {}
s.quit()
PY
	grep -q 'with ESMTPS id' "$(find "$W/mail/example.org/alice/new" -type f)"
}
