#!/usr/bin/env bats
# postern-mail, the user agent, end to end on loopback: the interactive
# menus driven through a pipe and (for the key press and the hidden
# password) under tmux; the scriptable commands with their exit codes;
# STARTTLS. Each case runs against small fake servers written in Python
# (tests/mail-client-fake.py, always available) and, where it says "real",
# against postern-smtpd / postern-pop3d / postern-imapd — skipped only
# while that handler is not built yet.

load helpers

setup_file() {
	# one self-signed certificate for 127.0.0.1 for the STARTTLS cases
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$BATS_FILE_TMPDIR/key.pem" -out "$BATS_FILE_TMPDIR/cert.pem" 2>/dev/null
}

setup() {
	setup_world
	M=$BIN/postern-mail
	BOX=$W/box
	mkdir -p "$BOX"
	FAKE="$TOP/tests/mail-client-fake.py"
	CERT=$BATS_FILE_TMPDIR/cert.pem
	KEY=$BATS_FILE_TMPDIR/key.pem
	export TZ=UTC
	unset POSTERN_PASSWORD
}

teardown() {
	if [ -S "$BATS_TEST_TMPDIR/tmux.sock" ]; then
		tmux -S "$BATS_TEST_TMPDIR/tmux.sock" kill-server 2>/dev/null || true
	fi
	stop_servers
}

# fake PROTO [ARGS...]: start a fake server, its port in $SMTP / $POP3 / $IMAP.
fake() {
	local proto=$1 port
	shift
	port=$(free_port)
	serve "$port" python3 "$FAKE" "$proto" --dir "$BOX" "$@"
	case $proto in
	smtp) SMTP=$port ;;
	pop3) POP3=$port ;;
	imap) IMAP=$port ;;
	esac
}

fakes() {
	fake smtp "$@"
	fake pop3 "$@"
	fake imap "$@"
	PORTS=(--smtp-port "$SMTP" --pop3-port "$POP3" --imap-port "$IMAP")
}

# real: start the built handlers that exist; skip when a needed one does not.
need() {
	local p
	for p in "$@"; do
		[ -x "$BIN/$p" ] || skip "$p is not built yet"
	done
}

serve_real() {
	local port
	port=$(free_port)
	# systemd-socket-activate passes no environment: hand it over with env
	serve "$port" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		POSTERN_FAIL_DELAY_MS=0 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$BIN/$1"
	echo "$port"
}

# A message as it lies in the fake mailbox, with a fixed received date.
seed() {
	local name=$1 from=$2 subject=$3 body=$4
	printf 'Received: from x by fake.example; Sun, 22 Nov 2026 14:05:00 +0000\r\nFrom: Someone <%s>\r\nTo: alice@example.org\r\nSubject: %s\r\nDate: Sun, 22 Nov 2026 13:00:00 +0000\r\n\r\n%s\r\n' \
		"$from" "$subject" "$body" >"$BOX/$name.eml"
	touch -d '2026-11-22 14:05:00 UTC' "$BOX/$name.eml"
}

# ui LINES...: the interactive client with LINES as its typed answers.
ui() {
	printf '%s\n' "$@" | "$M" "${PORTS[@]}" "${EXTRA[@]}" 127.0.0.1
}

# body_of FILE: the body of the message in FILE (after the first empty line)
body_of() {
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n"); sys.stdout.buffer.write(d.split(b"\n\n",1)[1])' "$1"
}

UTF8_BODY=$'Grüße aus Köln — ☃ naïve café\n.leading dot\n.\n..two dots\n\ttab and trailing space \nlast line\n'

# ---------------------------------------------------------------- usage

@test "mail: --help prints the usage and exit codes, exit 0" {
	run "$M" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"postern-mail [options] SERVER send"* ]]
	[[ "$output" == *"2 the server said no"* ]]
}

@test "mail: usage errors exit 1 (no server, unknown command, bad number, password in argv)" {
	run "$M"
	[ "$status" -eq 1 ]
	run "$M" 127.0.0.1 frobnicate
	[ "$status" -eq 1 ]
	POSTERN_PASSWORD=x run "$M" --user alice 127.0.0.1 read zero
	[ "$status" -eq 1 ]
	run "$M" --password secret 127.0.0.1 list
	[ "$status" -eq 1 ]
	[[ "$output" == *"no password on the command line"* ]]
	run "$M" 127.0.0.1 list
	[ "$status" -eq 1 ]
	run "$M" --user alice 127.0.0.1 list
	[ "$status" -eq 1 ]
	[[ "$output" == *"POSTERN_PASSWORD"* ]]
	run "$M" --from alice@example.org -t 'not an address' 127.0.0.1 send </dev/null
	[ "$status" -eq 1 ]
	printf 'x\ty\n' >"$W/pw"
	run "$M" --user alice --password-file "$W/pw" 127.0.0.1 list
	[ "$status" -eq 1 ]
	[[ "$output" == *"control characters"* ]]
	# interactive: a user name no protocol line can carry
	printf 'al ice\nsecret\n3\n' >"$W/in"
	run "$M" 127.0.0.1 <"$W/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Invalid username or password"* ]]
}

@test "mail: the man page is valid and documents the exit codes" {
	# man(1) where installed, else groff, else the bare structure
	if command -v man >/dev/null; then
		run man -l --warnings -E UTF-8 "$TOP/mail/postern-mail.1"
	elif command -v groff >/dev/null; then
		run groff -man -Tutf8 -ww "$TOP/mail/postern-mail.1"
	else
		run cat "$TOP/mail/postern-mail.1"
	fi
	[ "$status" -eq 0 ]
	[[ "$output" != *warning* ]]
	[[ "$output" == *"EXIT STATUS"* ]]
	[[ "$output" == *"DD/MM/YYYY"* ]]
}

# ---------------------------------------------------------------- scriptable, fake servers

@test "mail: send builds well-formed UTF-8 mail (fake SMTP): 8BITMIME, RFC 2047, AUTH PLAIN" {
	fakes
	subj='Grüße aus Köln, ein recht langer Betreff, der gefaltet werden muss 😀'
	printf '%s' "$UTF8_BODY" >"$W/in"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --user alice \
		--from alice@example.org -s "$subj" -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	msg=$(ls "$BOX"/*.eml)
	grep -q '^AUTH PLAIN AGFsaWNlAHNlY3JldA==' "$W/smtp.log"
	grep -q '^MAIL FROM:<alice@example.org> BODY=8BITMIME' "$W/smtp.log"
	grep -q '^RCPT TO:<bob@example.net>' "$W/smtp.log"
	grep -q $'^Date: [A-Z][a-z][a-z], [0-9]* [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* +0000\r$' "$msg"
	grep -q $'^Message-ID: <.*@example.org>\r$' "$msg"
	grep -q $'^MIME-Version: 1.0\r$' "$msg"
	grep -q $'^Content-Type: text/plain; charset=UTF-8\r$' "$msg"
	grep -q $'^Content-Transfer-Encoding: 8bit\r$' "$msg"
	grep -q '^Subject: =?UTF-8?B?' "$msg"
	# folded: more than one encoded-word line, none over 76 octets
	[ "$(grep -c '^ =?UTF-8?B?' "$msg")" -ge 1 ]
	! awk 'length($0) > 77' "$msg" | grep -q .
	# the subject decodes back to what was given
	python3 - "$msg" "$subj" <<'PY'
import email, email.header, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
s = str(email.header.make_header(email.header.decode_header(m["Subject"])))
assert s == sys.argv[2], (s, sys.argv[2])
PY
	# the body arrives byte for byte (CRLF on the wire)
	[ "$(body_of "$msg")" == "$(printf '%s' "$UTF8_BODY")" ]
}

@test "mail: an ASCII message is 7bit us-ascii, no BODY= when 8BITMIME is not offered" {
	fakes --no-8bitmime
	printf 'plain text\n' >"$W/in"
	run "$M" "${PORTS[@]}" --from alice@example.org -s Hi -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	msg=$(ls "$BOX"/*.eml)
	grep -q $'^Content-Type: text/plain; charset=us-ascii\r$' "$msg"
	grep -q $'^Subject: Hi\r$' "$msg"
	! grep -q 'BODY=' "$W/smtp.log"
	# no credentials given: no AUTH
	! grep -q '^AUTH' "$W/smtp.log"
}

@test "mail: without 8BITMIME an 8-bit body goes quoted-printable and decodes to the original" {
	fakes --no-8bitmime
	printf '%s' "$UTF8_BODY" >"$W/in"
	run "$M" "${PORTS[@]}" --from alice@example.org -s 'Grüße' -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	msg=$(ls "$BOX"/*.eml)
	! grep -q 'BODY=' "$W/smtp.log"
	grep -q $'^Content-Transfer-Encoding: quoted-printable\r$' "$msg"
	grep -q $'^Content-Type: text/plain; charset=UTF-8\r$' "$msg"
	# 7-bit on the wire
	! LC_ALL=C grep -q $'[\x80-\xff]' "$msg"
	python3 - "$msg" "$UTF8_BODY" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
got = m.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
assert got == sys.argv[2], (got, sys.argv[2])
PY
}

@test "mail: send -t takes recipients from To/Cc/Bcc and drops Bcc" {
	fakes
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>, carol@example.org\nCc: dave@example.net\nBcc: eve@example.net\nSubject: Grüße\n\nbody ü\n' >"$W/in"
	run "$M" "${PORTS[@]}" 127.0.0.1 send -t <"$W/in"
	[ "$status" -eq 0 ]
	env=$(ls "$BOX"/*.env)
	[ "$(sed -n 1p "$env")" = "alice@example.org" ]
	[ "$(sed -n 2p "$env")" = "bob@example.net carol@example.org dave@example.net eve@example.net" ]
	msg=$(ls "$BOX"/*.eml)
	! grep -qi '^Bcc:' "$msg"
	grep -q '^Subject: =?UTF-8?B?R3LDvMOfZQ==?=' "$msg"
	grep -q '^Message-ID: ' "$msg"
	grep -q '^Date: ' "$msg"
	grep -q $'^Content-Type: text/plain; charset=UTF-8\r$' "$msg"
}

@test "mail: a refused recipient exits 2 with the server's reply" {
	fakes
	printf 'x\n' >"$W/in"
	run "$M" "${PORTS[@]}" --from alice@example.org -t nobody@example.org 127.0.0.1 send <"$W/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"Error in sending mail: 550 5.1.1 <nobody@example.org>: Recipient address rejected"* ]]
	[ "$(count_files "$BOX")" -eq 0 ]
}

@test "mail: failed authentication exits 2 (SMTP, POP3, IMAP)" {
	fakes
	printf 'x\n' >"$W/in"
	POSTERN_PASSWORD=wrong run "$M" "${PORTS[@]}" --user alice --from alice@example.org -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"535 5.7.8"* ]]
	POSTERN_PASSWORD=wrong run "$M" "${PORTS[@]}" --user alice 127.0.0.1 list
	[ "$status" -eq 2 ]
	[[ "$output" == *"-ERR [AUTH]"* ]]
	POSTERN_PASSWORD=wrong run "$M" "${PORTS[@]}" --imap --user alice 127.0.0.1 list
	[ "$status" -eq 2 ]
	[[ "$output" == *"AUTHENTICATIONFAILED"* ]]
}

@test "mail: --password-file supplies the password" {
	fakes
	seed m1 bob@example.net Hello hi
	# a CRLF file works too: the line end is not part of the password
	printf 'secret\r\nignored\n' >"$W/pw"
	run "$M" "${PORTS[@]}" --user alice --password-file "$W/pw" 127.0.0.1 list
	[ "$status" -eq 0 ]
	[[ "$output" == *"bob@example.net"* ]]
	run "$M" "${PORTS[@]}" --user alice --password-file "$W/missing" 127.0.0.1 list
	[ "$status" -eq 1 ]
}

@test "mail: IMAP LOGIN quotes specials and sends 8-bit credentials as literals" {
	fakes --user 'al"i\ce' --password 'pä ss"wörd\'
	seed m1 bob@example.net Hello hi
	POSTERN_PASSWORD='pä ss"wörd\' run "$M" "${PORTS[@]}" --imap --user 'al"i\ce' 127.0.0.1 list
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\tbob@example.net\t'* ]]
	grep -q '^a1 LOGIN {7}' "$W/imap.log"
	POSTERN_PASSWORD='p"ss\' run "$M" "${PORTS[@]}" --imap --user 'al"i\ce' 127.0.0.1 list
	[ "$status" -eq 2 ]
	grep -qF 'LOGIN "al\"i\\ce" "p\"ss\\"' "$W/imap.log"
}

@test "mail: connection refused, a stalled server and an over-long line exit 3" {
	port=$(free_port)
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$port" --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot connect"* ]]
	fake pop3 --stall
	POSTERN_PASSWORD=secret run "$M" --timeout 1 --pop3-port "$POP3" --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	[[ "$output" == *"did not answer in time"* ]]
	fake smtp --stall
	printf 'x\n' >"$W/in"
	run "$M" --timeout 1 --smtp-port "$SMTP" --from alice@example.org -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 3 ]
	fake pop3 --long-line
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$POP3" --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	[[ "$output" == *"too long"* ]]
}

@test "mail: list (text and --json), read and delete over POP3 and IMAP (fake)" {
	fakes
	seed m1 bob@example.net 'Hello' 'first body'
	seed m2 carol@example.org '=?UTF-8?B?R3LDvMOfZQ==?=' 'second body'
	for proto in pop3 imap; do
		flag=()
		[ "$proto" = imap ] && flag=(--imap)
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${flag[@]}" --user alice 127.0.0.1 list
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = $'1\t'"$([ "$proto" = imap ] && echo 101 || echo m1)"$'\tbob@example.net\t2026-11-22T14:05:00+00:00\tHello' ]
		[[ "${lines[1]}" == *$'\tcarol@example.org\t2026-11-22T14:05:00+00:00\tGrüße' ]]
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${flag[@]}" --user alice --json 127.0.0.1 list
		[ "$status" -eq 0 ]
		echo "$output" | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert [m["number"] for m in l] == [1, 2], l
assert l[1]["subject"] == "Grüße" and l[1]["from"] == "carol@example.org", l
assert l[0]["date"] == "2026-11-22T14:05:00+00:00", l
assert l[0]["size"] > 0, l'
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${flag[@]}" --user alice 127.0.0.1 read 2
		[ "$status" -eq 0 ]
		[[ "$output" == *"second body"* ]]
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${flag[@]}" --user alice 127.0.0.1 read 3
		[ "$status" -eq 2 ]
		[[ "$output" == *"no message 3"* ]]
	done
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --user alice 127.0.0.1 delete 1
	[ "$status" -eq 0 ]
	grep -q '^DELE 1' "$W/pop3.log"
	[ ! -e "$BOX/m1.eml" ] && [ -e "$BOX/m2.eml" ]
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --imap --user alice 127.0.0.1 delete 1
	[ "$status" -eq 0 ]
	grep -q 'STORE 1 +FLAGS (\\Deleted)' "$W/imap.log"
	grep -q 'EXPUNGE' "$W/imap.log"
	[ ! -e "$BOX/m2.eml" ]
}

@test "mail: UTF-8 round trip through fake SMTP and POP3/IMAP, byte-exact body" {
	fakes
	printf '%s' "$UTF8_BODY" >"$W/body"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --user alice --from alice@example.org \
		-s 'Ünïcödé ✓' -t alice@example.org 127.0.0.1 send <"$W/body"
	[ "$status" -eq 0 ]
	for flag in --pop3-port --imap; do
		f=()
		[ "$flag" = --imap ] && f=(--imap)
		POSTERN_PASSWORD=secret "$M" "${PORTS[@]}" "${f[@]}" --user alice 127.0.0.1 read 1 >"$W/got"
		body_of "$W/got" >"$W/got.body"
		cmp "$W/body" "$W/got.body"
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${f[@]}" --user alice 127.0.0.1 list
		[[ "$output" == *$'\tÜnïcödé ✓' ]]
	done
}

@test "mail: SERVER may be a host name, an IPv4 or an IPv6 literal" {
	fakes
	seed m1 bob@example.net Hello hi
	for server in 127.0.0.1 localhost; do
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --user alice "$server" list
		[ "$status" -eq 0 ]
		[[ "$output" == *$'\tbob@example.net\t'* ]]
	done
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --user alice no-such-host.invalid list
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot resolve"* ]]
	# IPv6 loopback, where the machine has one (bracketed and bare)
	if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
		port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
		systemd-socket-activate --accept --inetd -l "[::1]:$port" python3 "$FAKE" pop3 --dir "$BOX" \
			>>"$BATS_TEST_TMPDIR/serve.log" 2>&1 &
		echo $! >>"$BATS_TEST_TMPDIR/serve.pids"
		for i in $(seq 1 100); do
			python3 -c "import socket; socket.create_connection(('::1',$port),0.2).close()" 2>/dev/null && break
			sleep 0.05
		done
		for server in '[::1]' ::1; do
			POSTERN_PASSWORD=secret run "$M" --pop3-port "$port" --user alice "$server" list
			[ "$status" -eq 0 ]
			[[ "$output" == *$'\tbob@example.net\t'* ]]
		done
	fi
}

# ---------------------------------------------------------------- interactive, fake servers

@test "mail interactive: prompts, menu, send succeeds (fake SMTP, AUTH with the typed credentials)" {
	fakes
	run ui alice secret 2 'From: alice@example.org' 'To:   bob@example.net' 'Subject: Hello there' \
		'Body line one' '.dotted' '.' 3
	[ "$status" -eq 0 ]
	[[ "$output" == "Username: Password: 1. Manage Mail"* ]]
	[[ "$output" == *"2. Send Mail"*"3. Quit"* ]]
	[[ "$output" == *"Mail sent successfully"* ]]
	grep -q '^AUTH PLAIN AGFsaWNlAHNlY3JldA==' "$W/smtp.log"
	msg=$(ls "$BOX"/*.eml)
	grep -q $'^Subject: Hello there\r$' "$msg"
	[ "$(body_of "$msg")" = $'Body line one\n.dotted' ]
}

@test "mail interactive: Incorrect format for missing, reordered or malformed fields" {
	fakes
	for mail in \
		'To: bob@example.net|From: alice@example.org|Subject: x' \
		'From: alice@example.org|Subject: x|To: bob@example.net' \
		'From: alice@example.org|To: bob@example.net' \
		'From: alice|To: bob@example.net|Subject: x' \
		'From: alice@example.org|To: bob@|Subject: x' \
		'From: alice@example.org|To: b ob@example.net|Subject: x' \
		'From alice@example.org|To: bob@example.net|Subject: x'; do
		IFS='|' read -r -a l <<<"$mail"
		run ui alice secret 2 "${l[@]}" body . 3
		[ "$status" -eq 0 ]
		[[ "$output" == *"Incorrect format"* ]]
		[[ "$output" != *"Mail sent successfully"* ]]
		# back at the menu afterwards
		[[ "$output" == *"Incorrect format"$'\n'"1. Manage Mail"* ]]
	done
	[ "$(count_files "$BOX")" -eq 0 ]
	# blanks after the colon are allowed, none are needed
	run ui alice secret 2 'From:alice@example.org' 'To:    bob@example.net' 'Subject:x' body . 3
	[[ "$output" == *"Mail sent successfully"* ]]
}

@test "mail interactive: Error in sending mail: 550 ... from the server" {
	fakes
	run ui alice secret 2 'From: alice@example.org' 'To: nobody@example.org' 'Subject: x' body . 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"Error in sending mail: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"$'\n'"1. Manage Mail"* ]]
}

@test "mail interactive: manage over POP3 and IMAP: list, out of range, read, delete (fake)" {
	for proto in pop3 imap; do
		stop_servers
		rm -f "$BOX"/*
		fakes
		seed m1 bob@example.net 'Hello' 'first body'
		seed m2 carol@example.org 'Second' 'second body'
		EXTRA=()
		[ "$proto" = imap ] && EXTRA=(--imap)
		run ui alice secret 1 0 3 abc 2 x 2 d -1 3
		[ "$status" -eq 0 ]
		# header line, then one line per mail with DD/MM/YYYY : HH : MM
		[[ "$output" == *"Sl. No. "*$'\n'"1 bob@example.net 22/11/2026 : 14 : 05 Hello"$'\n'"2 carol@example.org 22/11/2026 : 14 : 05 Second"$'\n'* ]]
		[ "$(grep -c 'Mail no. out of range, give again' <<<"$output")" -eq 3 ]
		# the whole mail: From, To, Subject, Received, body
		[[ "$output" == *"From: Someone <carol@example.org>"$'\n'"To: alice@example.org"$'\n'"Subject: Second"$'\n'"Received: 22/11/2026 : 14 : 05"$'\n\n'"second body"* ]]
		# "x" shows the list again; "d" deletes
		[ "$(grep -c '^2 carol@example.org' <<<"$output")" -eq 2 ]
		[[ "$output" == *"Mail deleted"* ]]
		[ -e "$BOX/m1.eml" ] && [ ! -e "$BOX/m2.eml" ]
		# after the deletion the list shows only the first mail
		[[ "$output" == *"Mail deleted"$'\n'"Sl. No. "*$'\n'"1 bob@example.net 22/11/2026 : 14 : 05 Hello"$'\n'"Enter mail no. to see: "* ]]
		[[ "$output" == *"Enter mail no. to see: 1. Manage Mail"* ]]
	done
}

@test "mail interactive: wrong password is reported and the menu goes on" {
	fakes
	seed m1 bob@example.net Hello hi
	run ui alice wrong 1 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"Login failed: -ERR [AUTH] invalid user name or password"$'\n'"1. Manage Mail"* ]]
}

@test "mail interactive: server text cannot drive the terminal (escapes sanitized)" {
	fakes
	seed m1 bob@example.net $'evil\e[2Jsubject' $'body \e]0;title\a end'
	run ui alice secret 1 1 x -1 3
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e'* ]]
	[[ "$output" == *"evil?[2Jsubject"* ]]
}

# ---------------------------------------------------------------- tmux: key press and hidden password

# tmx KEYS...: send keys to the tmux pane; wait_screen TEXT: wait (bounded)
# until TEXT shows on the screen.
tmx() { tmux -S "$BATS_TEST_TMPDIR/tmux.sock" send-keys -t t "$@"; }
screen() { tmux -S "$BATS_TEST_TMPDIR/tmux.sock" capture-pane -p -t t -S -200; }
wait_screen() {
	local i
	for i in $(seq 1 200); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $1" >&2
	screen >&2
	return 1
}
# wait_count REGEX N: wait (bounded) until N lines on the screen match.
wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(screen | grep -c -- "$1")" -eq "$2" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2 lines matching: $1" >&2
	screen >&2
	return 1
}

@test "mail interactive under tmux: password not echoed, one key shows the list or deletes" {
	fakes --password s3cr3tpw
	seed m1 bob@example.net 'Hello' 'first body'
	seed m2 carol@example.org 'Second' 'second body'
	tmux -S "$BATS_TEST_TMPDIR/tmux.sock" new-session -d -s t -x 160 -y 50 \
		"env TZ=UTC ASAN_OPTIONS='${ASAN_OPTIONS:-}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}' '$M' ${PORTS[*]} 127.0.0.1; echo EXIT=\$?; sleep 600"
	wait_screen "Username:"
	tmx alice Enter
	wait_screen "Password:"
	tmx s3cr3tpw Enter
	wait_screen "Enter your choice"
	! screen | grep -q s3cr3tpw
	tmx 1 Enter
	wait_screen "2 carol@example.org 22/11/2026 : 14 : 05 Second"
	tmx 2 Enter
	wait_screen "Press d to delete"
	screen | grep -q "^second body"
	# one key, no Enter: any key but d shows the list again
	tmx x
	wait_count '^2 carol@example.org' 2
	wait_count 'Enter mail no. to see:' 2
	tmx 2 Enter
	wait_count 'Press d to delete' 2
	tmx d
	wait_screen "Mail deleted"
	wait_count 'Enter mail no. to see:' 3
	[ ! -e "$BOX/m2.eml" ] && [ -e "$BOX/m1.eml" ]
	tmx -- -1 Enter
	wait_count 'Enter your choice' 2
	tmx 3 Enter
	wait_screen "EXIT=0"
}

# ---------------------------------------------------------------- STARTTLS (fake servers with Python's ssl)

@test "mail --tls: STARTTLS on SMTP, STLS on POP3, STARTTLS on IMAP, certificate checked" {
	fakes --tls-cert "$CERT" --tls-key "$KEY"
	T=(--tls --ca-file "$CERT")
	printf '%s' "$UTF8_BODY" >"$W/in"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${T[@]}" --user alice \
		--from alice@example.org -s 'über TLS' -t alice@example.org 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	grep -q '^STARTTLS' "$W/smtp.log"
	# the EHLO is repeated after the handshake, and AUTH comes only then
	[ "$(grep -c '^EHLO' "$W/smtp.log")" -eq 2 ]
	[ "$(grep -n '^AUTH' "$W/smtp.log" | cut -d: -f1)" -gt "$(grep -n '^STARTTLS' "$W/smtp.log" | cut -d: -f1)" ]
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${T[@]}" --user alice 127.0.0.1 list
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\tüber TLS' ]]
	grep -q '^STLS' "$W/pop3.log"
	POSTERN_PASSWORD=secret "$M" "${PORTS[@]}" "${T[@]}" --imap --user alice 127.0.0.1 read 1 >"$W/got"
	body_of "$W/got" >"$W/got.body"
	[ "$(cat "$W/got.body")" = "$(printf '%s' "$UTF8_BODY")" ]
	grep -q 'STARTTLS' "$W/imap.log"
	# the password never crossed the wire in the clear: the logs hold only
	# what the fakes read, so look at what came before STARTTLS/STLS
	! sed -n '1,/STLS/p' "$W/pop3.log" | grep -q secret
	# without the CA the certificate does not verify: exit 3
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --tls --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	[[ "$output" == *"certificate"* ]]
}

@test "mail --tls refuses a server that does not offer STARTTLS (exit 3, no credentials sent)" {
	fakes
	printf 'x\n' >"$W/in"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --tls --user alice --from alice@example.org -t bob@example.net 127.0.0.1 send <"$W/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"does not offer STARTTLS"* ]]
	! grep -q '^AUTH' "$W/smtp.log"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --tls --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	! grep -q '^PASS' "$W/pop3.log"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" --tls --imap --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
	! grep -q 'LOGIN' "$W/imap.log"
}

@test "mail --tls-implicit: TLS from the first byte on all three protocols" {
	fakes --tls-cert "$CERT" --tls-key "$KEY" --implicit-tls
	T=(--tls-implicit --ca-file "$CERT")
	printf 'über TLS\n' >"$W/in"
	POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${T[@]}" --user alice \
		--from alice@example.org -s 'implicit' -t alice@example.org 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	! grep -q '^STARTTLS' "$W/smtp.log"
	grep -q '^AUTH PLAIN' "$W/smtp.log"
	for f in "" --imap; do
		POSTERN_PASSWORD=secret run "$M" "${PORTS[@]}" "${T[@]}" $f --user alice 127.0.0.1 list
		[ "$status" -eq 0 ]
		[[ "$output" == *$'\timplicit' ]]
	done
	# plain text against a TLS port is a protocol failure, not a hang
	POSTERN_PASSWORD=secret run "$M" --timeout 2 "${PORTS[@]}" --user alice 127.0.0.1 list
	[ "$status" -eq 3 ]
}

# ---------------------------------------------------------------- real handlers

@test "mail real: UTF-8 round trip through postern-smtpd and postern-pop3d, byte-exact body" {
	need postern-smtpd postern-pop3d
	smtp=$(serve_real postern-smtpd)
	pop3=$(serve_real postern-pop3d)
	printf '%s' "$UTF8_BODY" >"$W/body"
	POSTERN_PASSWORD=secret run "$M" --smtp-port "$smtp" --user alice --from alice@example.org \
		-s 'Grüße, 😀 a subject long enough to be folded over more than a single line' \
		-t alice@example.org 127.0.0.1 send <"$W/body"
	[ "$status" -eq 0 ]
	POSTERN_PASSWORD=secret "$M" --pop3-port "$pop3" --user alice 127.0.0.1 read 1 >"$W/got"
	body_of "$W/got" >"$W/got.body"
	cmp "$W/body" "$W/got.body"
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$pop3" --user alice --json 127.0.0.1 list
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert len(l) == 1 and l[0]["from"] == "alice@example.org", l
assert l[0]["subject"] == "Grüße, 😀 a subject long enough to be folded over more than a single line", l'
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$pop3" --user alice 127.0.0.1 delete 1
	[ "$status" -eq 0 ]
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$pop3" --user alice 127.0.0.1 list
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "mail real: UTF-8 round trip through postern-smtpd and postern-imapd, byte-exact body" {
	need postern-smtpd postern-imapd
	smtp=$(serve_real postern-smtpd)
	imap=$(serve_real postern-imapd)
	printf '%s' "$UTF8_BODY" >"$W/body"
	run "$M" --smtp-port "$smtp" --from bob@example.net -s 'Ünïcödé ✓' -t alice@example.org 127.0.0.1 send <"$W/body"
	[ "$status" -eq 0 ]
	POSTERN_PASSWORD=secret "$M" --imap --imap-port "$imap" --user alice 127.0.0.1 read 1 >"$W/got"
	body_of "$W/got" >"$W/got.body"
	cmp "$W/body" "$W/got.body"
	POSTERN_PASSWORD=secret run "$M" --imap --imap-port "$imap" --user alice 127.0.0.1 list
	[ "$status" -eq 0 ]
	[[ "$output" == "1"$'\t'*$'\tbob@example.net\t'*$'\tÜnïcödé ✓' ]]
	POSTERN_PASSWORD=secret run "$M" --imap --imap-port "$imap" --user alice 127.0.0.1 delete 1
	[ "$status" -eq 0 ]
	POSTERN_PASSWORD=secret run "$M" --imap --imap-port "$imap" --user alice 127.0.0.1 list
	[ -z "$output" ]
}

@test "mail real: interactive send, list, read, delete and the error messages (POP3)" {
	need postern-smtpd postern-pop3d
	smtp=$(serve_real postern-smtpd)
	pop3=$(serve_real postern-pop3d)
	PORTS=(--smtp-port "$smtp" --pop3-port "$pop3")
	run ui alice secret 2 'From: alice@example.org' 'To: alice@example.org' 'Subject: Hello' 'one' '..' '.' \
		2 'From: alice@example.org' 'To: nobody@example.org' 'Subject: x' 'y' '.' \
		2 'To: alice@example.org' 'From: alice@example.org' 'Subject: x' '.' \
		1 7 1 d -1 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"Mail sent successfully"* ]]
	[[ "$output" == *"Error in sending mail: 550 "* ]]
	[[ "$output" == *"Incorrect format"* ]]
	[[ "$output" =~ $'\n'"1 alice@example.org "[0-9]{2}/[0-9]{2}/[0-9]{4}" : "[0-9]{2}" : "[0-9]{2}" Hello"$'\n' ]]
	[[ "$output" == *"Mail no. out of range, give again"* ]]
	[[ "$output" == *"Subject: Hello"$'\n'"Received: "*$'\n\n'"one"$'\n'".."$'\n'* ]]
	[[ "$output" == *"Mail deleted"* ]]
	POSTERN_PASSWORD=secret run "$M" --pop3-port "$pop3" --user alice 127.0.0.1 list
	[ -z "$output" ]
}

@test "mail real: interactive manage over postern-imapd" {
	need postern-smtpd postern-imapd
	smtp=$(serve_real postern-smtpd)
	imap=$(serve_real postern-imapd)
	PORTS=(--smtp-port "$smtp" --imap-port "$imap")
	EXTRA=(--imap)
	run ui alice secret 2 'From: bob@example.net' 'To: alice@example.org' 'Subject: Über' 'body ü' '.' 1 3 1 x 1 d -1 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"Mail sent successfully"* ]]
	[[ "$output" =~ $'\n'"1 bob@example.net "[0-9]{2}/[0-9]{2}/[0-9]{4}" : "[0-9]{2}" : "[0-9]{2}" Über"$'\n' ]]
	[[ "$output" == *"Mail no. out of range, give again"* ]]
	[[ "$output" == *$'\n\n'"body ü"$'\n'* ]]
	[[ "$output" == *"Mail deleted"* ]]
	POSTERN_PASSWORD=secret run "$M" --imap --imap-port "$imap" --user alice 127.0.0.1 list
	[ -z "$output" ]
}
