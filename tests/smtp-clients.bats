#!/usr/bin/env bats
# postern-smtpd behind systemd-socket-activate on loopback (one process per
# connection, as under systemd), driven by real clients: Python smtplib,
# curl, swaks, and raw sockets for the SMTP smuggling vectors and BDAT.

load helpers

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
CONF
	printf 'alice secret\nbob@example.net hunter2\n' >"$W/users"
	printf 'team: alice, bob@example.net\n' >"$W/aliases"
	export POSTERN_CONF=$W/postern.conf
	export POSTERN_LOG=stderr
	unset POSTERN_PEER # the peer must come from getpeername()
	PORT=$(free_port)
	# systemd-socket-activate passes no environment: hand it over with env
	serve "$PORT" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$BIN/postern-smtpd"
	export PORT W
}

teardown() {
	stop_servers
}

# count USER-DIR: messages in a mailbox's new/.
count() {
	count_files "$W/mail/$1/new"
}

@test "smtplib: one recipient, EHLO extensions, Received from the real peer" {
	python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20)
code, _ = s.ehlo('client.example.net')
assert code == 250
for ext in ('pipelining', 'size', '8bitmime', 'enhancedstatuscodes', 'smtputf8', 'chunking'):
    assert s.has_extn(ext), ext
assert s.esmtp_features['size'] == '65536'
refused = s.sendmail('sender@example.net', ['alice@example.org'],
                     'Subject: smtplib\r\n\r\nhello from smtplib\r\n')
assert refused == {}, refused
s.quit()
PY
	[ "$(count example.org/alice)" -eq 1 ]
	f=$(find "$W/mail/example.org/alice/new" -type f)
	head -2 "$f" | grep -q '^Received: from client.example.net (\[127.0.0.1\])'
	grep -q '^hello from smtplib' "$f"
}

@test "smtplib: several recipients, alias dedup, one refused" {
	python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20)
refused = s.sendmail('sender@example.net',
                     ['alice@example.org', 'bob@example.net', 'team@example.org', 'nobody@example.org'],
                     'Subject: many\r\n\r\nto many\r\n')
assert refused == {'nobody@example.org': (550, b'5.1.1 No such user')}, refused
try:
    s.sendmail('sender@example.net', ['someone@elsewhere.test'], 'Subject: relay\r\n\r\nx\r\n')
    raise SystemExit('relay accepted')
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients['someone@elsewhere.test'][0] == 550
s.quit()
PY
	[ "$(count example.org/alice)" -eq 1 ]
	[ "$(count example.net/bob)" -eq 1 ]
}

@test "smtplib: 8BITMIME body and an SMTPUTF8 sender arrive intact" {
	python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20)
body = 'Subject: 8bit\r\n\r\ncaf\u00e9 cr\u00e8me\r\n'.encode('utf-8')
assert s.sendmail('sender@example.net', ['alice@example.org'], body, mail_options=['BODY=8BITMIME']) == {}
s.sendmail('jos\u00e9@example.net', ['bob@example.net'], 'Subject: utf8\r\n\r\nx\r\n'.encode('utf-8'),
           mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
s.quit()
PY
	grep -q $'^caf\xc3\xa9 cr\xc3\xa8me\r$' "$(find "$W/mail/example.org/alice/new" -type f)"
	f=$(find "$W/mail/example.net/bob/new" -type f)
	grep -q $'^Return-Path: <jos\xc3\xa9@example.net>\r$' "$f"
	grep -q 'with UTF8SMTP id' "$f"
}

@test "smtplib: a message over SIZE is refused at MAIL and after DATA" {
	python3 - <<'PY'
import os, smtplib
big = 'Subject: big\r\n\r\n' + ('x' * 998 + '\r\n') * 70
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20)
try:
    s.sendmail('sender@example.net', ['alice@example.org'], big)  # sends SIZE=
    raise SystemExit('accepted')
except smtplib.SMTPSenderRefused as e:
    assert e.smtp_code == 552, e
s.rset()
# without SIZE=, the limit still holds after the data
s.ehlo_or_helo_if_needed()
assert s.mail('sender@example.net')[0] == 250
assert s.rcpt('alice@example.org')[0] == 250
code, msg = s.data(big)
assert code == 552 and msg.startswith(b'5.3.4'), (code, msg)
s.quit()
PY
	[ "$(count example.org/alice)" -eq 0 ]
}

@test "curl smtp:// delivers to two recipients" {
	printf 'From: curl@example.net\r\nSubject: curl\r\n\r\nsent by curl\r\n.leading dot\r\n' >"$BATS_TEST_TMPDIR/msg"
	curl -sS --max-time 20 --url "smtp://127.0.0.1:$PORT/client.example.net" \
		--mail-from curl@example.net --mail-rcpt alice@example.org --mail-rcpt bob@example.net \
		-T "$BATS_TEST_TMPDIR/msg"
	[ "$(count example.org/alice)" -eq 1 ]
	[ "$(count example.net/bob)" -eq 1 ]
	f=$(find "$W/mail/example.org/alice/new" -type f)
	# curl dot-stuffed the line, we unstuffed it: the body arrives as written
	tail -c "$(stat -c %s "$BATS_TEST_TMPDIR/msg")" "$f" | cmp - "$BATS_TEST_TMPDIR/msg"
}

@test "curl --crlf converts a LF-only file; without it the bare LFs are refused" {
	printf 'Subject: lf\n\nunix line ends\n' >"$BATS_TEST_TMPDIR/msg"
	curl -sS --max-time 20 --crlf --url "smtp://127.0.0.1:$PORT/client.example.net" \
		--mail-from curl@example.net --mail-rcpt alice@example.org -T "$BATS_TEST_TMPDIR/msg"
	[ "$(count example.org/alice)" -eq 1 ]
	run curl -sS --max-time 20 --url "smtp://127.0.0.1:$PORT/client.example.net" \
		--mail-from curl@example.net --mail-rcpt bob@example.net -T "$BATS_TEST_TMPDIR/msg"
	[ "$status" -ne 0 ]
	[ "$(count example.net/bob)" -eq 0 ]
}

@test "swaks with pipelining" {
	run swaks --server 127.0.0.1 --port "$PORT" --helo client.example.net --pipeline \
		--from swaks@example.net --to alice@example.org,bob@example.net \
		--header 'Subject: swaks' --body 'sent by swaks'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'250 2.0.0 OK '*' Message accepted for delivery'* ]]
	[ "$(count example.org/alice)" -eq 1 ]
	[ "$(count example.net/bob)" -eq 1 ]
	grep -q '^Subject: swaks' "$(find "$W/mail/example.net/bob/new" -type f)"
}

# SMTP smuggling (CVE-2023-51764/5/6 class): after each vector comes a
# complete second transaction to bob. Whatever the vector, the server must
# give exactly one reply for the message (550 for bare CR/LF, 250 when the
# content is clean), then 221 for the real QUIT — never a reply to the
# smuggled commands, never a message for bob.
@test "smuggling vectors never end DATA early nor run smuggled commands" {
	python3 - <<'PY'
import os, socket, glob, shutil
port = int(os.environ['PORT'])
W = os.environ['W']
vectors = [
    (b'\n.\n', 550), (b'\n.\r\n', 550), (b'\r\n.\n', 550), (b'\r.\r', 550),
    (b'\r\n.\r', 550), (b'\n.\r', 550), (b'\r.\n', 550), (b'\r.\r\n', 550),
    (b'\r\n.\r\r\n', 550), (b'\n..\n', 550), (b'\r\n\x00.\r\n', 250), (b'\r\n..\r\n', 250),
]
smuggled = (b'MAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
            b'Subject: smuggled\r\n\r\nsmuggled\r\n')

def replies(sock):
    data = b''
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return [l for l in data.split(b'\r\n') if l]

def count(user):
    return len(glob.glob(os.path.join(W, 'mail', user, 'new', '*')))

bad = []
for vec, want in vectors:
    for d in glob.glob(os.path.join(W, 'mail', '*')):
        shutil.rmtree(d)
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    s.sendall(b'EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\n'
              b'RCPT TO:<alice@example.org>\r\nDATA\r\n')
    s.sendall(b'Subject: carrier\r\n\r\nbefore' + vec + smuggled + b'\r\n.\r\nQUIT\r\n')
    r = replies(s)
    s.close()
    after = r[r.index(b'354 End data with <CR><LF>.<CR><LF>') + 1:]
    codes = [int(l[:3]) for l in after]
    ok = codes == [want, 221] and count('example.net/bob') == 0 and \
        count('example.org/alice') == (1 if want == 250 else 0)
    if want == 250 and ok:
        f = glob.glob(os.path.join(W, 'mail', 'example.org/alice', 'new', '*'))[0]
        ok = b'MAIL FROM:<evil@example.net>\r\n' in open(f, 'rb').read()
    if not ok:
        bad.append((vec, after, count('example.org/alice'), count('example.net/bob')))
for b in bad:
    print('# vector %r: replies %r, alice %d, bob %d' % b)
raise SystemExit(1 if bad else 0)
PY
}

@test "BDAT over a socket: pipelined chunks make one message" {
	python3 - <<'PY'
import os, socket
s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=20)
c1 = b'Subject: bdat\r\n\r\n'
c2 = b'line with a lone dot next\r\n.\r\nand on\r\n'
s.sendall(b'EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\n'
          + b'BDAT %d\r\n' % len(c1) + c1 + b'BDAT %d LAST\r\n' % len(c2) + c2 + b'QUIT\r\n')
data = b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
lines = [l for l in data.split(b'\r\n') if l]
assert lines[-3].startswith(b'250 2.0.0 17 octets'), lines
assert lines[-2].startswith(b'250 2.0.0 OK '), lines
assert lines[-1].startswith(b'221 '), lines
PY
	f=$(find "$W/mail/example.org/alice/new" -type f)
	tail -c 55 "$f" | cmp - <(printf 'Subject: bdat\r\n\r\nline with a lone dot next\r\n.\r\nand on\r\n')
}
