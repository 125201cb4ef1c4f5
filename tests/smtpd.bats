#!/usr/bin/env bats
# postern-smtpd fed session files (examples/smtp-*.session) on stdin; the
# transcript must equal examples/<name>.expected byte for byte, with only
# the message ids normalised to <ID>. Delivered files are compared byte for
# byte too, with the id and date of the Received: field normalised.
# Error paths that need bytes a CRLF-normalised session file cannot hold
# (bare LF, NUL) are written with printf here.

load helpers

# smtp_world [EXTRA-CONFIG-LINES]: a private world with the domains the
# session files use (uliege.be for the seed session).
smtp_world() {
	W=$BATS_TEST_TMPDIR/world
	mkdir -p "$W/mail" "$W/queue"
	cat >"$W/postern.conf" <<CONF
hostname = mx.example.org
domains = example.org, example.net, uliege.be
mail_root = $W/mail
users_file = $W/users
aliases_file = $W/aliases
queue_dir = $W/queue
max_message_size = 4096
max_recipients = ${MAX_RCPT:-100}
smtp_timeout = ${SMTP_TIMEOUT:-300}
CONF
	cat >"$W/users" <<USERS
alice secret
bob@example.net hunter2
vj@uliege.be vincent
USERS
	cat >"$W/aliases" <<ALIASES
postmaster: alice
team: alice, bob@example.net
remote: someone@elsewhere.test
mixed: alice, someone@elsewhere.test
ALIASES
	export POSTERN_CONF=$W/postern.conf
	export POSTERN_LOG=stderr
	export POSTERN_PEER=127.0.0.1
	export POSTERN_RELAY_SPAWN=0 # no queue runner: nothing here is meant to leave
}

setup() {
	smtp_world
}

# run_smtpd NAME: examples/NAME.session through the handler; $out is the
# normalised transcript, $log the log.
run_smtpd() {
	out=$BATS_TEST_TMPDIR/$1.out
	log=$BATS_TEST_TMPDIR/$1.log
	"$BIN/postern-smtpd" <"$TOP/examples/$1.session" >"$out.raw" 2>"$log" || {
		echo "postern-smtpd exited with $?"
		cat "$log"
		return 1
	}
	normalise <"$out.raw" >"$out"
}

normalise() {
	sed -E 's/OK [0-9a-f]{16}-[0-9]+ Message/OK <ID> Message/'
}

# golden NAME: the transcript equals examples/NAME.expected.
golden() {
	if ! cmp -s "$TOP/examples/$1.expected" "$out"; then
		diff -u <(cat -A "$TOP/examples/$1.expected") <(cat -A "$out") || true
		cat "$log"
		return 1
	fi
}

# msgs USER-DIR: the message files in a mailbox's new/, oldest first.
msgs() {
	# names start "<sec>.M<usec>": sort on both numbers
	ls -1 "$W/mail/$1/new" 2>/dev/null | sort -t. -k1,1n -k2.2n | sed "s|^|$W/mail/$1/new/|"
}

# stored FILE: the file with the Received id and date normalised.
stored() {
	sed -E -e 's/ id [0-9a-f]{16}-[0-9]+/ id <ID>/' \
		-e 's/[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}/<DATE>/' "$1"
}

# same_bytes EXPECTED-STRING FILE: stored FILE equals the string exactly.
same_bytes() {
	if ! cmp -s <(printf '%s' "$1") <(stored "$2"); then
		diff -u <(printf '%s' "$1" | cat -A) <(stored "$2" | cat -A) || true
		return 1
	fi
}

@test "seed session: HELO, one message, QUIT" {
	run_smtpd smtp-seed
	golden smtp-seed
	[ "$(msgs uliege.be/vj | wc -l)" -eq 1 ]
	f=$(msgs uliege.be/vj)
	same_bytes $'Return-Path: <dcd@uliege.be>\r\nReceived: from uliege.be ([127.0.0.1])\r\n\tby mx.example.org (Postern) with SMTP id <ID>\r\n\tfor <vj@uliege.be>; <DATE>\r\nFrom: dcd@uliege.be\r\nTo: vj@uliege.be\r\nSubject: seed\r\n\r\nHello Vincent,\r\n.a line that starts with a dot\r\nBye.\r\n' "$f"
	# the id in the reply is the one in the Received: field
	id=$(grep -oE 'OK [0-9a-f]{16}-[0-9]+' "$out.raw" | cut -d' ' -f2)
	grep -q " id $id"$'\r'"\$" "$f"
	# the S= of the name is the file size
	size=$(stat -c %s "$f")
	[[ "$f" == *",S=$size" ]]
	# nothing left behind in tmp/
	[ "$(count_files "$W/mail/uliege.be/vj/tmp")" -eq 0 ]
	grep -q "delivered id=$id size=.* from=<dcd@uliege.be> nrcpt=1 to=vj@uliege.be" "$log"
}

@test "EHLO with PIPELINING: aliases, dedup, null sender, Postmaster" {
	run_smtpd smtp-pipelining
	golden smtp-pipelining
	[ "$(msgs example.org/alice | wc -l)" -eq 2 ]
	[ "$(msgs example.net/bob | wc -l)" -eq 1 ]
	first=$(msgs example.org/alice | head -1)
	bounce=$(msgs example.org/alice | tail -1)
	# alice and bob get the same bytes; three recipients: no "for" clause
	cmp "$first" "$(msgs example.net/bob)"
	same_bytes $'Return-Path: <sender@example.net>\r\nReceived: from client.example.net ([127.0.0.1])\r\n\tby mx.example.org (Postern) with ESMTP id <ID>;\r\n\t<DATE>\r\nSubject: pipelined\r\n\r\nOne copy each for alice and bob, even though team means both.\r\n' "$first"
	same_bytes $'Return-Path: <>\r\nReceived: from client.example.net ([127.0.0.1])\r\n\tby mx.example.org (Postern) with ESMTP id <ID>\r\n\tfor <Postmaster>; <DATE>\r\nSubject: bounce\r\n\r\nto the postmaster, from the null sender\r\n' "$bounce"
}

@test "bad command order gets 503, unknown and malformed commands 500/501" {
	run_smtpd smtp-sequence
	golden smtp-sequence
	[ "$(find "$W/mail" -type f | wc -l)" -eq 0 ]
}

@test "syntax errors, parameters, and an SMTPUTF8 message" {
	run_smtpd smtp-syntax
	golden smtp-syntax
	[ "$(msgs example.org/alice | wc -l)" -eq 1 ]
	f=$(msgs example.org/alice)
	same_bytes $'Return-Path: <jos\xc3\xa9@example.net>\r\nReceived: from client.example.net ([127.0.0.1])\r\n\tby mx.example.org (Postern) with UTF8SMTP id <ID>\r\n\tfor <alice@example.org>; <DATE>\r\nSubject: caf\xc3\xa9\r\n\r\n8-bit body: \xc3\xa9\xc3\xa8\xc3\xa0\r\n' "$f"
}

@test "recipients: unknown user, relay denied, literal local parts, remote aliases" {
	run_smtpd smtp-rcpt
	golden smtp-rcpt
	# one copy per mailbox although alice was named four ways
	[ "$(msgs example.org/alice | wc -l)" -eq 1 ]
	[ "$(msgs example.net/bob | wc -l)" -eq 1 ]
	[ "$(msgs uliege.be/vj | wc -l)" -eq 1 ]
	[ "$(find "$W/mail" -type f -path '*/new/*' | wc -l)" -eq 3 ]
	# remote alias targets are queued once (tests/relay.bats delivers them)
	[ "$(find "$W/queue/env" -type f | wc -l)" -eq 1 ]
	grep -q "^R	pending	0	0	someone@elsewhere.test	" "$W"/queue/env/*
	grep -q 'rejected rcpt=<someone@elsewhere.test> .*relaying denied' "$log"
}

@test "too many recipients: 452 4.5.3 past max_recipients" {
	MAX_RCPT=2 smtp_world
	printf 'HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<vj@uliege.be>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	run sed -n '5p;6p' "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = $'250 2.1.5 Recipient OK\r' ]
	[ "${lines[1]}" = $'452 4.5.3 Too many recipients\r' ]
	[ "$(msgs example.org/alice | wc -l)" -eq 1 ]
	[ "$(msgs example.net/bob | wc -l)" -eq 1 ]
	[ "$(msgs uliege.be/vj | wc -l)" -eq 0 ]
}

@test "ten bad commands in a row close the session with 421" {
	run_smtpd smtp-bad-commands
	golden smtp-bad-commands
}

@test "command lines over 1000 octets: one 500, the session goes on; long text lines are fine" {
	run_smtpd smtp-longline
	golden smtp-longline
	[ "$(grep -c 'Line too long' "$out")" -eq 2 ]
	f=$(msgs example.org/alice)
	grep -q "^$(printf 'L%.0s' $(seq 1 3000))"$'\r'"\$" "$f"
}

@test "message over max_message_size: 552 after the data, nothing delivered" {
	run_smtpd smtp-size
	golden smtp-size
	[ "$(msgs example.org/alice | wc -l)" -eq 1 ]
	grep -q '^Subject: small' "$(msgs example.org/alice)"
	[ "$(count_files "$W/mail/example.org/alice/tmp")" -eq 0 ]
}

@test "BDAT: chunks, refused chunks are read not executed, DATA after BDAT, empty LAST" {
	run_smtpd smtp-bdat
	golden smtp-bdat
	f=$(msgs example.org/alice)
	same_bytes $'Return-Path: <a@example.net>\r\nReceived: from client.example.net ([127.0.0.1])\r\n\tby mx.example.org (Postern) with ESMTP id <ID>\r\n\tfor <alice@example.org>; <DATE>\r\nSubject: chunked\r\n\r\nfirst chunk\r\nsecond chunk\r\n' "$f"
	same_bytes $'Return-Path: <a@example.net>\r\nReceived: from client.example.net ([127.0.0.1])\r\n\tby mx.example.org (Postern) with ESMTP id <ID>\r\n\tfor <bob@example.net>; <DATE>\r\n' "$(msgs example.net/bob)"
}

@test "BDAT with a bare LF or over the size limit is refused" {
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nBDAT 5 LAST\r\na\nb\r\nQ\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	grep -q '^550 5.5.2 bare LF/CR not allowed' "$BATS_TEST_TMPDIR/out"
	grep -q '^500 5.5.1 Command unrecognized' "$BATS_TEST_TMPDIR/out" # "Q": back to commands
	big=$(head -c 5000 /dev/zero | tr '\0' 'x')
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nBDAT 5000\r\n%sBDAT 2 LAST\r\nQ\nQUIT\r\n' "$big" |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out2" 2>>"$BATS_TEST_TMPDIR/log"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/out2"
	[ "${lines[10]}" = '552 5.3.4 Message size exceeds fixed maximum message size' ]
	[ "${lines[11]}" = '503 5.5.1 Need MAIL command' ]
	[ "${lines[12]}" = '221 2.0.0 mx.example.org Service closing transmission channel' ]
	[ "$(find "$W/mail" -type f -path '*/new/*' | wc -l)" -eq 0 ]
}

@test "NUL in a command: 500 5.5.2, the session goes on" {
	printf 'EHLO c\r\nNO\0OP\r\nNOOP\r\nQUIT\r\n' | "$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	run tr -d '\r' <"$BATS_TEST_TMPDIR/out"
	[ "${lines[8]}" = '500 5.5.2 NUL characters not allowed in commands' ]
	[ "${lines[9]}" = '250 2.0.0 OK' ]
	[ "${lines[10]}" = '221 2.0.0 mx.example.org Service closing transmission channel' ]
}

# bare_data BODY: one message with BODY (printf format) then a good one.
bare_data() {
	printf "HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n$1\r\n.\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\ngood\r\n.\r\nQUIT\r\n" |
		"$BIN/postern-smtpd" 2>"$BATS_TEST_TMPDIR/log" | tr -d '\r'
}

@test "bare LF or bare CR in DATA: 550 after the real end, nothing delivered, session continues" {
	for body in 'a\nb' 'a\rb' 'a\n.\nMAIL FROM:<x@example.net>' 'a\n.\r\nMAIL FROM:<x@example.net>' \
		'a\r\n.\nRSET' 'line\r' '\n'; do
		rm -rf "$W/mail"/*
		run bare_data "$body"
		[ "${lines[5]}" = '550 5.5.2 bare LF/CR not allowed' ] || { echo "body $body: ${lines[5]}"; false; }
		[ "${lines[6]}" = '250 2.1.0 Sender OK' ]
		[[ "${lines[9]}" == '250 2.0.0 OK '*' Message accepted for delivery' ]]
		[ "${#lines[@]}" -eq 11 ]
		[ "$(msgs example.org/alice | wc -l)" -eq 0 ]
		[ "$(msgs example.net/bob | wc -l)" -eq 1 ]
		[ "$(count_files "$W/mail/example.org/alice/tmp")" -eq 0 ]
	done
}

# with_open_pipe FILE: run the handler on a fifo that FILE is written to
# and that stays open, so only the idle timeout can end the session.
with_open_pipe() {
	local fifo=$BATS_TEST_TMPDIR/fifo
	mkfifo "$fifo"
	"$BIN/postern-smtpd" <"$fifo" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
	local pid=$!
	exec 9>"$fifo" # not fd 3: bats reports on it
	cat "$1" >&9
	# bounded wait: the handler must exit by itself (timeout 1 s)
	local i
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	exec 9>&-
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid" || true
		echo "handler did not time out"
		return 1
	fi
	wait "$pid"
}

@test "idle timeout: 421 4.4.2 and exit 0, between commands and inside DATA" {
	SMTP_TIMEOUT=1 smtp_world
	printf 'EHLO c\r\nNOOP\r\n' >"$BATS_TEST_TMPDIR/in"
	with_open_pipe "$BATS_TEST_TMPDIR/in"
	run tail -1 "$BATS_TEST_TMPDIR/out"
	[ "$output" = $'421 4.4.2 mx.example.org Timeout, closing connection\r' ]

	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nhalf a message\r\n' >"$BATS_TEST_TMPDIR/in"
	rm -f "$BATS_TEST_TMPDIR/fifo"
	with_open_pipe "$BATS_TEST_TMPDIR/in"
	run tail -2 "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = $'354 End data with <CR><LF>.<CR><LF>\r' ]
	[ "${lines[1]}" = $'421 4.4.2 mx.example.org Timeout, closing connection\r' ]
	[ "$(find "$W/mail" -type f | wc -l)" -eq 0 ]
}

@test "a copy that cannot be made: 451, and no recipient keeps one" {
	# bob's tmp/ is a plain file: the clone into it fails (even as root)
	mkdir -p "$W/mail/example.net/bob/new" "$W/mail/example.net/bob/cur"
	echo blocker >"$W/mail/example.net/bob/tmp"
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/out"
	[ "${lines[11]}" = '354 End data with <CR><LF>.<CR><LF>' ]
	[ "${lines[12]}" = '451 4.3.0 Local error in processing, message not delivered' ]
	# the first mailbox failing: refused before 354
	[ "${lines[15]}" = '451 4.3.0 Local error in processing, try again later' ]
	[ "${lines[16]}" = '221 2.0.0 mx.example.org Service closing transmission channel' ]
	[ "$(find "$W/mail/example.org/alice" -type f | wc -l)" -eq 0 ]
	grep -q 'delivery to bob@example.net failed' "$BATS_TEST_TMPDIR/log"
}

@test "a mailbox that is not a plain directory: 451 at RCPT, the other recipient served" {
	mkdir -p "$W/mail/example.net" "$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" "$W/mail/example.net/bob"
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/out"
	[ "${lines[10]}" = '451 4.3.0 Temporary local problem, try again later' ]
	[[ "${lines[12]}" == '250 2.0.0 OK '* ]]
	[ "$(find "$W/mail/example.org/alice/new" -type f | wc -l)" -eq 1 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
}

@test "a commit that fails after another copy was committed takes that copy back" {
	# bob's new/ is a plain file: his copy is made in tmp/ but cannot be
	# committed, after alice's copy already was
	mkdir -p "$W/mail/example.net/bob/tmp" "$W/mail/example.net/bob/cur"
	echo blocker >"$W/mail/example.net/bob/new"
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	run tr -d '\r' <"$BATS_TEST_TMPDIR/out"
	[ "${lines[12]}" = '451 4.3.0 Local error in processing, message not delivered' ]
	[ "$(find "$W/mail/example.org/alice" -type f | wc -l)" -eq 0 ]
	[ "$(find "$W/mail/example.net/bob/tmp" -type f | wc -l)" -eq 0 ]
	grep -q 'delivery to bob@example.net failed' "$BATS_TEST_TMPDIR/log"
}

@test "commands per session are bounded: 421 4.7.0 after 10000" {
	{
		printf 'EHLO c\r\n'
		for i in $(seq 1 10000); do printf 'NOOP\r\n'; done
	} >"$BATS_TEST_TMPDIR/in"
	"$BIN/postern-smtpd" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	[ "$(grep -c '^250 2.0.0 OK' "$BATS_TEST_TMPDIR/out")" -eq 9999 ]
	run tail -1 "$BATS_TEST_TMPDIR/out"
	[ "$output" = $'421 4.7.0 Too many commands, closing connection\r' ]
}

@test "several messages in one session get distinct ids" {
	printf 'EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\none\r\n.\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n' |
		"$BIN/postern-smtpd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	run grep -oE 'OK [0-9a-f]{16}-[0-9]+ Message' "$BATS_TEST_TMPDIR/out"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "$(msgs example.org/alice | wc -l)" -eq 2 ]
}

@test "a broken config gives 421 and no session" {
	echo 'bogus_key = 1' >"$BATS_TEST_TMPDIR/bad.conf"
	run "$BIN/postern-smtpd" -c "$BATS_TEST_TMPDIR/bad.conf" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *'421 4.3.5 Service not available'* ]]
}
