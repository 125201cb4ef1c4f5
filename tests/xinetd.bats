#!/usr/bin/env bats
# The generated xinetd files (units/xinetd/postern.xinetd.in, `make units`)
# run for real: xinetd -dontfork on loopback high ports spawns one handler
# per connection, and real clients (Python smtplib, poplib, imaplib, with
# and without TLS) deliver and read mail through it. See tests/xinetd.bash
# for what the test changes in the generated files and why.

load helpers
load xinetd

LISTENERS="smtp submission smtps pop3 pop3s imap imaps"

program_of() {
	case $1 in smtp*|submission) echo postern-smtpd ;; pop3*) echo postern-pop3d ;; imap*) echo postern-imapd ;; esac
}

setup() {
	xinetd_world
	local l p ports
	ports=($(free_ports 7))
	for l in $LISTENERS; do
		p=${ports[0]}
		ports=("${ports[@]:1}")
		[ -x "$BIN/$(program_of "$l")" ] || continue
		xinetd_service "$l" "$p"
		export "PORT_$l=$p"
	done
	xinetd_start
	export W
}

teardown() {
	xinetd_stop
}

need() {
	[ -x "$BIN/$1" ] || skip "$1 not built in $BIN"
}

# notls PROGRAM: true when PROGRAM says it has no TLS support yet (work in
# progress: the TLS listener is then left out, with a visible skip).
notls() {
	printf 'QUIT\r\n' | POSTERN_LOG=stderr "$BIN/$1" -c "$XCONF" --tls 2>&1 | grep -q 'no TLS support'
}

@test "xinetd: the generated files run the installed command lines" {
	# what xinetd was given is what make generated, apart from the documented changes
	grep -q "server[[:space:]]*= $BIN/postern-smtpd\$" "$X/xinetd.conf"
	grep -q "server_args[[:space:]]*= -c $XCONF --tls --submission\$" "$X/xinetd.conf"
	grep -q 'instances[[:space:]]*= 200' "$X/xinetd.conf"
	grep -q 'per_source[[:space:]]*= 20' "$X/xinetd.conf"
	! grep -q 'rlimit_as' "$X/xinetd.conf"
	# every listener greets with its protocol's banner, TLS ones after a handshake
	local l
	for l in pop3s imaps; do
		[ -x "$BIN/$(program_of $l)" ] && notls "$(program_of $l)" && unset "PORT_$l"
	done
	python3 - <<'PY'
import os, socket, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
want = {'smtp': b'220 ', 'submission': b'220 ', 'smtps': b'220 ',
        'pop3': b'+OK', 'pop3s': b'+OK', 'imap': b'* OK', 'imaps': b'* OK'}
seen = 0
for name, banner in want.items():
    port = os.environ.get('PORT_' + name)
    if not port:
        continue
    s = socket.create_connection(('127.0.0.1', int(port)), timeout=20)
    if name in ('smtps', 'pop3s', 'imaps'):
        s = ctx.wrap_socket(s)
    line = s.makefile('rb').readline()
    assert line.startswith(banner), (name, line)
    s.close()
    seen += 1
assert seen >= 3, seen
PY
}

@test "xinetd: SMTP delivery through the smtp service" {
	need postern-smtpd
	python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT_smtp']), timeout=20)
assert s.ehlo('client.example.net')[0] == 250
refused = s.sendmail('sender@example.net', ['alice@example.org'],
                     'Subject: via xinetd\r\n\r\ndelivered through xinetd\r\n')
assert refused == {}, refused
s.quit()
PY
	[ "$(count_files "$W/mail/example.org/alice/new")" -eq 1 ]
	f=$(find "$W/mail/example.org/alice/new" -type f)
	# the peer came from getpeername() on the socket xinetd handed over
	grep -q '^Received: from client.example.net (\[127.0.0.1\])' "$f"
	grep -q '^delivered through xinetd' "$f"
}

@test "xinetd: submission over TLS (465) with AUTH, to another local user" {
	need postern-smtpd
	python3 - <<'PY'
import os, smtplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', int(os.environ['PORT_smtps']), timeout=20, context=ctx)
s.ehlo('client.example.net')
s.login('alice', 'secret')
refused = s.sendmail('alice@example.org', ['bob@example.net'],
                     'Subject: tls\r\n\r\nsubmitted over implicit TLS\r\n')
assert refused == {}, refused
s.quit()
PY
	[ "$(count_files "$W/mail/example.net/bob/new")" -eq 1 ]
	grep -q '^submitted over implicit TLS' "$W"/mail/example.net/bob/new/*
}

@test "xinetd: SMTP delivery, then POP3 retrieval and deletion" {
	need postern-smtpd
	need postern-pop3d
	python3 - <<'PY'
import os, poplib, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT_smtp']), timeout=20)
for i in range(2):
    s.sendmail('sender@example.net', ['alice@example.org'],
               'Subject: pop %d\r\n\r\nbody %d for pop3\r\n' % (i, i))
s.quit()
p = poplib.POP3('127.0.0.1', int(os.environ['PORT_pop3']), timeout=20)
p.user('alice')
p.pass_('secret')
count, size = p.stat()
assert count == 2, count
lines = p.retr(1)[1]
assert b'body 0 for pop3' in lines, lines
p.dele(1)
p.quit()
p = poplib.POP3('127.0.0.1', int(os.environ['PORT_pop3']), timeout=20)
p.user('alice')
p.pass_('secret')
assert p.stat()[0] == 1
assert b'body 1 for pop3' in p.retr(1)[1]
p.quit()
PY
	[ "$(find "$W/mail/example.org/alice" \( -path '*/cur/*' -o -path '*/new/*' \) -type f | wc -l)" -eq 1 ]
}

@test "xinetd: POP3 over TLS (995)" {
	need postern-smtpd
	need postern-pop3d
	! notls postern-pop3d || skip "postern-pop3d has no TLS support yet"
	python3 - <<'PY'
import os, poplib, smtplib, ssl
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT_smtp']), timeout=20)
s.sendmail('sender@example.net', ['alice@example.org'], 'Subject: pop3s\r\n\r\nbody over tls\r\n')
s.quit()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL('127.0.0.1', int(os.environ['PORT_pop3s']), timeout=20, context=ctx)
p.user('alice')
p.pass_('secret')
assert p.stat()[0] == 1
assert b'body over tls' in p.retr(1)[1]
p.quit()
PY
}

@test "xinetd: SMTP delivery, then IMAP retrieval (plain and TLS)" {
	need postern-smtpd
	need postern-imapd
	python3 - <<'PY'
import imaplib, os, smtplib, ssl
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT_smtp']), timeout=20)
s.sendmail('sender@example.net', ['alice@example.org'],
           'Subject: imap test\r\n\r\nbody for imap\r\n')
s.quit()
m = imaplib.IMAP4('127.0.0.1', int(os.environ['PORT_imap']), timeout=20)
m.login('alice', 'secret')
typ, data = m.select('INBOX')
assert typ == 'OK' and data[0] == b'1', data
typ, data = m.fetch('1', '(BODY[HEADER.FIELDS (SUBJECT)] BODY[TEXT])')
assert typ == 'OK', data
flat = b''.join(x[1] for x in data if isinstance(x, tuple))
assert b'Subject: imap test' in flat and b'body for imap' in flat, data
m.store('1', '+FLAGS', '\\Flagged')
m.logout()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT_imaps']), timeout=20, ssl_context=ctx)
m.login('alice', 'secret')
m.select('INBOX', readonly=True)
typ, data = m.fetch('1', '(FLAGS)')
assert typ == 'OK' and b'\\Flagged' in data[0], data
m.logout()
PY
}

@test "xinetd: no handler outlives its connection" {
	need postern-smtpd
	python3 - <<'PY'
import os, socket
for name in ('smtp', 'pop3', 'imap'):
    port = os.environ.get('PORT_' + name)
    if not port:
        continue
    s = socket.create_connection(('127.0.0.1', int(port)), timeout=20)
    s.makefile('rb').readline()
    s.close()  # no QUIT/LOGOUT: the handler must notice the EOF and exit
PY
	wait_no_handlers
}
