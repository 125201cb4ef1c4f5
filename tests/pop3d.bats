#!/usr/bin/env bats
# postern-pop3d fed session files (examples/pop3-*.session) on stdin; the
# transcript must equal examples/<name>.expected byte for byte, with only
# the APOP timestamp of the greeting normalised to <TIMESTAMP>.

load helpers

# Three fixture messages for alice, with a uid list fixed in advance so
# that UIDL values (uid, uidvalidity 1700000000 = 6553F100) are golden.
M1=$'From: bob@example.net\r\nTo: alice@example.org\r\nSubject: one\r\n\r\nHello Alice.\r\n.a line starting with a dot\r\n..two dots\r\nBye.\r\n'
M2=$'Subject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n'
M3=$'Subject: three\r\n\r\n.\r\n'

# put_msg SUBDIR BASE INFO CONTENT: write a message file, print its base
# (with ,S=).
put_msg() {
	local size
	size=$(printf '%s' "$4" | wc -c)
	printf '%s' "$4" >"$MD/$1/$2,S=$size$3"
	echo "$2,S=$size"
}

setup() {
	setup_world
	MD=$W/mail/example.org/alice
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	B1=$(put_msg new 1700000001.M1P1Q1.fixture "" "$M1")
	B2=$(put_msg cur 1700000002.M1P1Q2.fixture ":2,F" "$M2")
	B3=$(put_msg new 1700000003.M1P1Q3.fixture "" "$M3")
	printf 'V1 1700000000 4\n1 %s\n2 %s\n3 %s\n' "$B1" "$B2" "$B3" >"$MD/postern-uidlist"
}

teardown() {
	stop_servers
}

# session NAME [COMMAND-PREFIX...]: run examples/NAME.session through the
# handler; $out is the normalised transcript file, $log the log.
session() {
	local name=$1
	shift
	out=$BATS_TEST_TMPDIR/$name.out
	log=$BATS_TEST_TMPDIR/$name.log
	"$@" "$BIN/postern-pop3d" <"$TOP/examples/$name.session" >"$out.raw" 2>"$log" || {
		echo "postern-pop3d exited with $?"
		cat "$log"
		return 1
	}
	sed '1s/<[0-9]*\.[0-9]*@[^>]*>/<TIMESTAMP>/' "$out.raw" >"$out"
}

# golden NAME: the transcript equals examples/NAME.expected.
golden() {
	if ! cmp -s "$TOP/examples/$1.expected" "$out"; then
		diff -u <(cat -A "$TOP/examples/$1.expected") <(cat -A "$out") || true
		cat "$log"
		return 1
	fi
}

# files: the sorted message file names of alice's new/ and cur/.
files() {
	(cd "$MD" && ls new cur)
}

@test "seed session: USER, PASS, STAT, LIST, RETR 1, DELE 1, QUIT" {
	session pop3-seed
	golden pop3-seed
	[ ! -e "$MD/new/$B1" ]
	[ -e "$MD/cur/$B2:2,F" ]
	[ -e "$MD/new/$B3" ]
	[ "$(count_files "$MD/new")" -eq 1 ]
	[ "$(count_files "$MD/cur")" -eq 1 ]
	grep -q 'login: user=alice@example.org peer=127.0.0.1 mech=USER messages=3 octets=184' "$log"
	grep -q 'quit: user=alice@example.org retrieved=1 deleted=1 removed=1' "$log"
}

@test "greeting carries an RFC 1939 APOP timestamp <pid.time@hostname>" {
	session pop3-capa
	head -n 1 "$out.raw" | grep -Eq '^\+OK POP3 server ready <[0-9]+\.[0-9]+@mx\.example\.org>'$'\r''$'
}

@test "CAPA before and after login" {
	session pop3-capa
	golden pop3-capa
}

@test "commands in the wrong state get -ERR and change nothing" {
	session pop3-wrong-state
	golden pop3-wrong-state
	[ -e "$MD/new/$B1" ] && [ -e "$MD/cur/$B2:2,F" ] && [ -e "$MD/new/$B3" ]
}

@test "bad message numbers, deleted messages are invisible, RSET restores" {
	session pop3-bad-number
	golden pop3-bad-number
	# RSET undid DELE 2: nothing removed
	[ -e "$MD/new/$B1" ] && [ -e "$MD/cur/$B2:2,F" ] && [ -e "$MD/new/$B3" ]
}

@test "TOP and UIDL (uid + uidvalidity, byte-stuffed bodies)" {
	session pop3-top-uidl
	golden pop3-top-uidl
}

@test "bad password keeps AUTHORIZATION; the right one then works" {
	session pop3-bad-password
	golden pop3-bad-password
	grep -q 'auth failed: proto=pop3 peer=127.0.0.1 user=alice mech=USER reason=bad-credentials failures=1' "$log"
	grep -q 'auth failed: proto=pop3 peer=127.0.0.1 user=nobody mech=USER reason=bad-credentials failures=2' "$log"
}

@test "three failed logins close the connection" {
	session pop3-auth-failures
	golden pop3-auth-failures
	grep -q 'too many authentication failures' "$log"
	! grep -q 'login:' "$log"
}

@test "AUTH PLAIN with continuation, cancel and bad base64" {
	session pop3-auth-plain
	golden pop3-auth-plain
}

@test "AUTH PLAIN with initial response (and authzid = authcid)" {
	session pop3-auth-plain-initial
	golden pop3-auth-plain-initial
	# a user without a maildir gets one at login
	[ -d "$W/mail/example.net/bob/new" ] && [ -d "$W/mail/example.net/bob/cur" ]
}

@test "AUTH PLAIN refuses a proxy login; client names are escaped in the log" {
	printf 'AUTH PLAIN %s\r\nUSER ev\001il=x\r\nPASS y\r\nQUIT\r\n' \
		"$(printf 'bob\0alice\0secret' | base64)" >"$BATS_TEST_TMPDIR/proxy.in"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/proxy.in" >"$BATS_TEST_TMPDIR/proxy.out" \
		2>"$BATS_TEST_TMPDIR/proxy.log"
	sed -n 2p "$BATS_TEST_TMPDIR/proxy.out" | grep -q '^-ERR \[AUTH\] Authentication failed'
	sed -n 4p "$BATS_TEST_TMPDIR/proxy.out" | grep -q '^-ERR \[AUTH\] Authentication failed'
	grep -q 'user=alice mech=PLAIN reason=authzid failures=1' "$BATS_TEST_TMPDIR/proxy.log"
	grep -qF 'user=ev\x01il\x3dx mech=USER reason=bad-credentials failures=2' \
		"$BATS_TEST_TMPDIR/proxy.log"
	! grep -q 'login:' "$BATS_TEST_TMPDIR/proxy.log"
}

@test "hashed password (yescrypt) logs in with USER/PASS" {
	printf 'USER carol\r\nPASS s3cret\r\nSTAT\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/carol.in"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/carol.in" >"$BATS_TEST_TMPDIR/carol.out" 2>/dev/null
	sed -n 3p "$BATS_TEST_TMPDIR/carol.out" | grep -q '^+OK maildrop locked and ready, 0 messages'
	sed -n 4p "$BATS_TEST_TMPDIR/carol.out" | grep -q '^+OK 0 0'$'\r''$'
	[ -d "$W/mail/example.org/carol/new" ]
}

@test "a locked maildrop: -ERR [IN-USE] and the connection closes" {
	session pop3-in-use flock -o "$MD/postern-pop3.lock"
	golden pop3-in-use
	grep -q 'maildrop locked by another session' "$log"
	[ "$(count_files "$MD/new")" -eq 2 ]
}

@test "over-long lines get -ERR line too long" {
	session pop3-long-line
	golden pop3-long-line
}

@test "unknown commands get -ERR; ten bad commands in a row close" {
	session pop3-unknown
	golden pop3-unknown
	grep -q 'too many bad commands' "$log"
}

@test "a dropped connection after DELE deletes nothing and marks nothing" {
	before=$(files)
	session pop3-drop
	golden pop3-drop
	[ "$(files)" = "$before" ]
	grep -q 'disconnected without QUIT' "$log"
}

@test "RETR marks \\Seen at QUIT (new -> cur, other flags kept); TOP does not" {
	session pop3-seen
	golden pop3-seen
	[ -e "$MD/cur/$B1:2,S" ]
	[ -e "$MD/cur/$B2:2,FS" ]
	[ -e "$MD/new/$B3" ]
	[ "$(count_files "$MD/new")" -eq 1 ]
	[ "$(count_files "$MD/cur")" -eq 2 ]
}

@test "flags another session set after RETR are kept when QUIT adds \\Seen" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	timeout 60 "$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
	pid=$!
	exec 7>"$BATS_TEST_TMPDIR/in"
	printf 'USER alice\r\nPASS secret\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nNOOP\r\n' >&7
	for _ in $(seq 1 400); do
		[ "$(grep -c '^+OK' "$BATS_TEST_TMPDIR/out")" -ge 7 ] && break
		sleep 0.05
	done
	# meanwhile an IMAP client flags 1 (new -> cur) and answers 2
	mv "$MD/new/$B1" "$MD/cur/$B1:2,F"
	mv "$MD/cur/$B2:2,F" "$MD/cur/$B2:2,FR"
	printf 'QUIT\r\n' >&7
	exec 7>&-
	wait "$pid"
	[ -e "$MD/cur/$B1:2,FS" ]
	[ -e "$MD/cur/$B2:2,FRS" ]
	[ -e "$MD/cur/$B3:2,S" ]
	[ "$(count_files "$MD/new")" -eq 0 ]
	[ "$(count_files "$MD/cur")" -eq 3 ]
}

@test "UIDL is stable across sessions and after IMAP-style flag renames" {
	rm "$MD/postern-uidlist" # let the server assign uids and uidvalidity
	printf 'USER alice\r\nPASS secret\r\nUIDL\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/uidl.in"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/uidl.in" | sed 1d >"$BATS_TEST_TMPDIR/uidl1"
	grep -Eq '^1 [0-9A-F]{16}'$'\r''$' "$BATS_TEST_TMPDIR/uidl1"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/uidl.in" | sed 1d >"$BATS_TEST_TMPDIR/uidl2"
	cmp "$BATS_TEST_TMPDIR/uidl1" "$BATS_TEST_TMPDIR/uidl2"
	# what an IMAP client does: \Seen on 1 (new -> cur), \Answered on 2
	mv "$MD/new/$B1" "$MD/cur/$B1:2,S"
	mv "$MD/cur/$B2:2,F" "$MD/cur/$B2:2,FRS"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/uidl.in" | sed 1d >"$BATS_TEST_TMPDIR/uidl3"
	cmp "$BATS_TEST_TMPDIR/uidl1" "$BATS_TEST_TMPDIR/uidl3"
	# three distinct values
	[ "$(grep -c '^[123] ' "$BATS_TEST_TMPDIR/uidl1")" -eq 3 ]
	[ "$(grep '^[123] ' "$BATS_TEST_TMPDIR/uidl1" | cut -d' ' -f2 | sort -u | wc -l)" -eq 3 ]
}

@test "idle timeout: autologout, no UPDATE" {
	echo 'pop3_timeout = 1' >>"$W/postern.conf"
	# the client sends its commands, then stays connected and silent: the
	# write end stays open until the handler has gone (60 s watchdog)
	mkfifo "$BATS_TEST_TMPDIR/idle.in"
	timeout 60 "$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/idle.in" \
		>"$BATS_TEST_TMPDIR/idle.out" 2>"$BATS_TEST_TMPDIR/idle.log" &
	pid=$!
	exec 7>"$BATS_TEST_TMPDIR/idle.in"
	printf 'USER alice\r\nPASS secret\r\nDELE 1\r\n' >&7
	wait "$pid"
	exec 7>&-
	tail -n 1 "$BATS_TEST_TMPDIR/idle.out" | grep -q '^-ERR autologout'
	grep -q 'idle timeout' "$BATS_TEST_TMPDIR/idle.log"
	[ -e "$MD/new/$B1" ]
}

@test "messages delivered after login are not in the session's snapshot" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	timeout 60 "$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/snap.out" 2>/dev/null &
	pid=$!
	exec 7>"$BATS_TEST_TMPDIR/in"
	printf 'USER alice\r\nPASS secret\r\n' >&7
	# wait (bounded) until the login reply is out, then deliver
	for _ in $(seq 1 400); do
		grep -q '^+OK maildrop' "$BATS_TEST_TMPDIR/snap.out" && break
		sleep 0.05
	done
	put_msg new 1700000004.M1P1Q4.fixture "" $'Subject: late\r\n\r\nlate\r\n' >/dev/null
	printf 'STAT\r\nLIST 4\r\nQUIT\r\n' >&7
	exec 7>&-
	wait "$pid"
	grep -q '^+OK 3 ' "$BATS_TEST_TMPDIR/snap.out"
	grep -q '^-ERR no such message' "$BATS_TEST_TMPDIR/snap.out"
}

@test "commands ending in a bare LF are accepted; replies are CRLF" {
	printf 'user alice\npass secret\nstat\nquit\n' >"$BATS_TEST_TMPDIR/lf.in"
	"$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/lf.in" >"$BATS_TEST_TMPDIR/lf.out" 2>/dev/null
	[ "$(sed -n 4p "$BATS_TEST_TMPDIR/lf.out")" = $'+OK 3 184\r' ]
	[ "$(grep -c $'\r$' "$BATS_TEST_TMPDIR/lf.out")" -eq 5 ]
}

@test "a broken config gives -ERR and exit 111; --tls without a certificate exits 111" {
	run "$BIN/postern-pop3d" -c "$W/missing.conf" </dev/null
	[ "$status" -eq 111 ]
	[[ "$output" == *"-ERR [SYS/TEMP] server configuration error"* ]]
	# implicit TLS cannot say anything in plaintext: it just ends
	run "$BIN/postern-pop3d" --tls </dev/null
	[ "$status" -eq 111 ]
	[[ "$output" != *"+OK"* ]]
}

@test "no plaintext passwords from a remote peer without TLS (allow_plaintext_auth = no)" {
	sed -i 's/^allow_plaintext_auth = yes/allow_plaintext_auth = no/' "$W/postern.conf"
	printf 'CAPA\r\nUSER alice\r\nPASS secret\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nAPOP alice 0123456789abcdef0123456789abcdef\r\nSTLS\r\nQUIT\r\n' \
		>"$BATS_TEST_TMPDIR/remote.in"
	POSTERN_PEER=192.0.2.7 "$BIN/postern-pop3d" <"$BATS_TEST_TMPDIR/remote.in" \
		>"$BATS_TEST_TMPDIR/remote.out" 2>/dev/null
	tr -d '\r' <"$BATS_TEST_TMPDIR/remote.out" | sed 1d >"$BATS_TEST_TMPDIR/remote.txt"
	cat >"$BATS_TEST_TMPDIR/remote.want" <<'WANT'
+OK capability list follows
TOP
UIDL
RESP-CODES
PIPELINING
AUTH-RESP-CODE
EXPIRE NEVER
IMPLEMENTATION Postern
.
-ERR [AUTH] plaintext authentication disallowed without TLS
-ERR send USER first
-ERR [AUTH] plaintext authentication disallowed without TLS
-ERR [AUTH] plaintext authentication disallowed without TLS
-ERR TLS not available
+OK Postern POP3 server signing off
WANT
	diff -u "$BATS_TEST_TMPDIR/remote.want" "$BATS_TEST_TMPDIR/remote.txt"
	# the same config still lets a loopback peer in
	POSTERN_PEER=127.0.0.1 "$BIN/postern-pop3d" <"$TOP/examples/pop3-seed.session" 2>/dev/null |
		grep -q '^+OK maildrop locked and ready'
}
