#!/usr/bin/env bats
# postern-imapd fed session files (examples/imap-*.session) on stdin; the
# transcript must equal examples/<name>.expected byte for byte. The fixture
# mailbox has a fixed uid list (UIDVALIDITY 1700000000) and fixed file
# times, and TZ=UTC, so nothing needs normalising. Inputs a CRLF session
# file cannot hold (huge literals, timeouts) are written with printf here.

load helpers

M1=$'From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: one\r\nDate: Tue, 14 Nov 2023 22:13:21 +0000\r\n\r\nHello Alice.\r\n'
M2=$'From: carol@example.org\r\nSubject: two\r\nDate: Wed, 15 Nov 2023 08:00:00 +0100\r\n\r\nline 1\r\nline 2\r\n'
M3=$'Subject: three\r\n\r\nthird body\r\n'

# put_msg SUBDIR BASE INFO CONTENT MTIME: write a message file, print its
# base (with ,S=).
put_msg() {
	local size
	size=$(printf '%s' "$4" | wc -c)
	printf '%s' "$4" >"$MD/$1/$2,S=$size$3"
	touch -d "@$5" "$MD/$1/$2,S=$size$3"
	echo "$2,S=$size"
}

setup() {
	setup_world
	export TZ=UTC
	MD=$W/mail/example.org/alice
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	B1=$(put_msg new 1700000001.M1P1Q1.fixture "" "$M1" 1700000001)
	B2=$(put_msg cur 1700000002.M1P1Q2.fixture ":2,F" "$M2" 1700000002)
	B3=$(put_msg cur 1700000003.M1P1Q3.fixture ":2,S" "$M3" 1700000003)
	printf 'V1 1700000000 4\n1 %s\n2 %s\n3 %s\n' "$B1" "$B2" "$B3" >"$MD/postern-uidlist"
}

teardown() {
	stop_servers
}

# session NAME: run examples/NAME.session through the handler; $out is the
# transcript, $log the log. UIDVALIDITY of folders created during the
# session (time-based) is normalised to <UV>; the fixture's stays; so are
# time-based modseqs (<MS>).
session() {
	local name=$1
	out=$BATS_TEST_TMPDIR/$name.out
	log=$BATS_TEST_TMPDIR/$name.log
	"$BIN/postern-imapd" <"$TOP/examples/$name.session" >"$out.raw" 2>"$log" || {
		echo "postern-imapd exited with $?"
		cat "$log"
		return 1
	}
	# a fixture mailbox without a modseq file starts at a time-based
	# HIGHESTMODSEQ (modseq.c); fresh ones count from 1 and stay
	sed -E -e '/1700000000/!s/(UIDVALIDITY|COPYUID|APPENDUID) [0-9]+/\1 <UV>/' \
		-e 's/(HIGHESTMODSEQ|MODSEQ \(?)[0-9]{13,}/\1<MS>/g' "$out.raw" >"$out"
}

# golden NAME: the transcript equals examples/NAME.expected.
golden() {
	if ! cmp -s "$TOP/examples/$1.expected" "$out"; then
		diff -u <(cat -A "$TOP/examples/$1.expected") <(cat -A "$out") || true
		cat "$log"
		return 1
	fi
}

@test "seed session: CAPABILITY, LOGIN, LIST, SELECT, UID FETCH BODY[], LOGOUT" {
	session imap-seed
	golden imap-seed
	# BODY[] set \Seen: message 1 moved from new/ to cur/
	[ -e "$MD/cur/$B1:2,S" ]
	[ -e "$MD/cur/$B2:2,FS" ]
	[ -e "$MD/cur/$B3:2,S" ]
	grep -q 'login: user=alice@example.org rip=127.0.0.1 method=LOGIN' "$log"
}

@test "error paths: syntax, wrong state, bad names, literal too big, bad sets" {
	session imap-errors
	golden imap-errors
	# nothing was created or appended
	[ "$(count_files "$MD/cur")" -eq 2 ] && [ "$(count_files "$MD/new")" -eq 1 ]
	[ -z "$(ls -A "$W/mail/example.org/alice" | grep '^\.' | grep -v '^\.\.\?$')" ]
	[ ! -e "$W/mail/etc" ] && [ ! -e "$W/mail/example.org/etc" ]
}

@test "AUTHENTICATE PLAIN: continuation, cancel, bad base64, SASL-IR" {
	session imap-auth
	golden imap-auth
	grep -q 'auth failed: proto=imap peer=127.0.0.1 user=alice mech=PLAIN reason=password failures=1' "$log"
	grep -q 'login: user=alice@example.org rip=127.0.0.1 method=PLAIN' "$log"
}

@test "three failed logins: BYE and the connection closes" {
	session imap-auth-failures
	golden imap-auth-failures
	grep -q 'too many authentication failures' "$log"
	! grep -q 'login:' "$log"
}

@test "folders: CREATE, LIST patterns, SUBSCRIBE/LSUB, RENAME (INBOX too), DELETE, STATUS" {
	session imap-folders
	golden imap-folders
	[ -d "$MD/.Jobs" ] && [ -d "$MD/.Jobs.Projects" ] && [ ! -e "$MD/.Work" ]
	[ ! -e "$MD/.Jobs.Projects.2024" ]
	[ -d "$MD/.Trash/cur" ] && [ -f "$MD/.Trash/maildirfolder" ]
	# RENAME INBOX moved the three messages; INBOX is empty but still there
	[ "$(count_files "$MD/.Old/cur") $(count_files "$MD/.Old/new")" = "2 1" ]
	[ "$(count_files "$MD/cur") $(count_files "$MD/new")" = "0 0" ]
	[ -d "$MD/.Entw&APw-rfe" ]
}

@test "LOGIN is refused without TLS unless allow_plaintext_auth or a loopback peer" {
	sed -i 's/^allow_plaintext_auth = yes/allow_plaintext_auth = no/' "$W/postern.conf"
	printf 'a LOGIN alice secret\r\nb LOGOUT\r\n' | "$BIN/postern-imapd" 2>/dev/null | grep -q '^a OK'
	export POSTERN_PEER=192.0.2.7
	printf 'a CAPABILITY\r\nb LOGIN alice secret\r\nc AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\nd LOGOUT\r\n' |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	grep -q '^\* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID LOGINDISABLED'$'\r''$' "$BATS_TEST_TMPDIR/out"
	grep -q '^b NO \[PRIVACYREQUIRED\]' "$BATS_TEST_TMPDIR/out"
	grep -q '^c NO ' "$BATS_TEST_TMPDIR/out"
	! grep -q 'Logged in' "$BATS_TEST_TMPDIR/out"
}

@test "a non-synchronizing literal over the limit is refused and skipped" {
	{
		printf 'a LOGIN alice secret\r\nb LOGIN {70000+}\r\n'
		head -c 70000 /dev/zero | tr '\0' 'x'
		printf ' y\r\nc NOOP\r\nd APPEND INBOX {2000000+}\r\n'
		head -c 2000000 /dev/zero | tr '\0' 'z'
		printf '\r\ne NOOP\r\nf LOGOUT\r\n'
	} | "$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	sed 1,2d "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/rest"
	diff -u - "$BATS_TEST_TMPDIR/rest" <<EXP
b BAD Literal too large$(printf '\r')
c OK NOOP completed.$(printf '\r')
d NO [TOOBIG] Message too large$(printf '\r')
e OK NOOP completed.$(printf '\r')
* BYE Logging out$(printf '\r')
f OK LOGOUT completed.$(printf '\r')
EXP
	[ "$(count_files "$MD/cur")" -eq 2 ]
}

@test "a 64 KiB command line is accepted; a longer one gets BAD and the session goes on" {
	set=$(python3 -c 'print(",".join(["1:3"] * 16000))')
	long=$(python3 -c 'print("x" * 70000)')
	printf 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc UID FETCH %s (FLAGS)\r\nd NOOP %s\r\ne LOGOUT\r\n' "$set" "$long" |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	[ ${#set} -gt 60000 ]
	grep -q '^\* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent))'$'\r''$' "$BATS_TEST_TMPDIR/out"
	grep -q '^c OK UID FETCH completed' "$BATS_TEST_TMPDIR/out"
	grep -q '^\* BAD Command line too long\|^d BAD Command line too long' "$BATS_TEST_TMPDIR/out"
	grep -q '^e OK LOGOUT completed' "$BATS_TEST_TMPDIR/out"
}

@test "idle timeout: BYE Autologout" {
	echo 'imap_timeout = 1' >>"$W/postern.conf"
	{ printf 'a LOGIN alice secret\r\n'; sleep 4; } |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	tail -n 1 "$BATS_TEST_TMPDIR/out" | grep -q '^\* BYE Autologout'
	grep -q 'timeout' "$BATS_TEST_TMPDIR/log"
}

@test "mailbox: EXAMINE vs SELECT, FETCH items, STORE, SEARCH keys, COPY, UID EXPUNGE, APPEND, CLOSE" {
	session imap-mailbox
	golden imap-mailbox
	# what is left on disk: message 1 answered, the appended draft; Kept emptied by CLOSE
	[ -e "$MD/cur/$B1:2,R" ] && [ ! -e "$MD/cur/$B2:2,F" ] && [ ! -e "$MD/cur/$B3:2,S" ]
	[ "$(ls "$MD/cur" | grep -c ':2,D$')" -eq 1 ]
	[ "$(count_files "$MD/.Kept/cur") $(count_files "$MD/.Kept/new")" = "0 0" ]
	grep -q '^0 Work$' "$MD/dovecot-keywords"
}

@test "\\Recent: EXAMINE and STATUS leave it, the first SELECT takes it" {
	run_imap() { printf '%s\r\n' "a LOGIN alice secret" "$@" "z LOGOUT" | "$BIN/postern-imapd" 2>/dev/null; }
	run_imap "b EXAMINE INBOX" | grep -q '^\* 3 RECENT'
	run_imap "b STATUS INBOX (RECENT)" | grep -q '^\* STATUS "INBOX" (RECENT 3)'
	run_imap "b SELECT INBOX" | grep -q '^\* 3 RECENT'
	run_imap "b SELECT INBOX" | grep -q '^\* 0 RECENT'
	run_imap "b STATUS INBOX (RECENT)" | grep -q '^\* STATUS "INBOX" (RECENT 0)'
	# a new delivery is recent for the next session only
	printf 'Subject: four\r\n\r\nx\r\n' >"$MD/new/1700000004.M1P1Q4.fixture,S=20"
	run_imap "b SELECT INBOX" "c SEARCH RECENT" | grep -q '^\* SEARCH 4'
	run_imap "b SELECT INBOX" "c SEARCH RECENT" | grep -q '^\* SEARCH'$'\r''$'
}

@test "twenty invalid commands in a row: BYE and the connection closes" {
	{ for i in $(seq 1 19); do printf 'x%d FROB\r\n' "$i"; done
	  printf 'ok NOOP\r\n'
	  for i in $(seq 1 20); do printf 'y%d FROB\r\n' "$i"; done
	  printf 'never NOOP\r\n'; } |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	grep -q '^ok OK NOOP completed' "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c '^y[0-9]* BAD Unknown command' "$BATS_TEST_TMPDIR/out")" -eq 20 ]
	tail -n 1 "$BATS_TEST_TMPDIR/out" | grep -q '^\* BYE Too many invalid commands'
	! grep -q '^never' "$BATS_TEST_TMPDIR/out"
}

# The per-mailbox state files imapd writes itself (modseq, \Recent, keyword
# map) are opened O_NOFOLLOW: a symlink planted as the file or as its tmp
# file never leads a read or a write outside the mail root; a FIFO in their
# place does not hang the session.
@test "symlinked postern-modseq(.tmp), postern-recent(.tmp), dovecot-keywords(.tmp): nothing outside read or written" {
	run_imap() { printf '%s\r\n' "a LOGIN alice secret" "$@" "z LOGOUT" | timeout 20 "$BIN/postern-imapd" 2>>"$BATS_TEST_TMPDIR/log"; }
	run_imap "b SELECT INBOX" | grep -q '^b OK'
	local O=$W/outside f
	mkdir -p "$O"
	printf 'KEEP modseq\n' >"$O/t1"
	printf 'KEEP recent\n' >"$O/t2"
	printf 'KEEP keywords\n' >"$O/t3"
	printf '99\n' >"$O/recent"
	printf '0 Planted\n' >"$O/kw"
	printf 'M1 1700000000 5 0\n' >"$O/modseq"
	cp -a "$O" "$W/outside.orig"
	rm -f "$MD/postern-modseq" "$MD/postern-recent" "$MD/dovecot-keywords"
	ln -s "$O/t1" "$MD/postern-modseq.tmp"
	ln -s "$O/t2" "$MD/postern-recent.tmp"
	ln -s "$O/t3" "$MD/dovecot-keywords.tmp"
	ln -s "$O/recent" "$MD/postern-recent"
	ln -s "$O/kw" "$MD/dovecot-keywords"
	ln -s "$O/modseq" "$MD/postern-modseq"
	# new mail: the modseq file and \Recent must be written
	printf 'Subject: four\r\n\r\nx\r\n' >"$MD/new/1700000004.M1P1Q4.fixture,S=20"
	run_imap "b SELECT INBOX" "c STORE 1 +FLAGS (Fresh)" "d FETCH 1:* (MODSEQ)" >"$BATS_TEST_TMPDIR/out"
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/log"
	grep -q '^b OK' "$BATS_TEST_TMPDIR/out"
	grep -q '^c OK' "$BATS_TEST_TMPDIR/out"
	grep -q '^d OK' "$BATS_TEST_TMPDIR/out"
	# the outside recent file (99) was not read: all four are recent
	grep -q '^\* 4 RECENT' "$BATS_TEST_TMPDIR/out"
	# the outside keyword map was not read
	! grep -q 'Planted' "$BATS_TEST_TMPDIR/out"
	# the outside modseq file (highest 5) was not read
	! grep -q 'HIGHESTMODSEQ 5\]' "$BATS_TEST_TMPDIR/out"
	# nothing outside changed; the links were replaced by our own files
	diff -r "$W/outside.orig" "$O"
	for f in postern-modseq postern-recent dovecot-keywords; do
		[ -f "$MD/$f" ] && [ ! -L "$MD/$f" ]
	done
	grep -q '^0 Fresh$' "$MD/dovecot-keywords"
}

@test "FIFOs as postern-modseq, postern-recent, dovecot-keywords: SELECT does not hang" {
	rm -f "$MD/postern-modseq" "$MD/postern-recent" "$MD/dovecot-keywords"
	mkfifo "$MD/postern-modseq" "$MD/postern-recent" "$MD/dovecot-keywords"
	printf '%s\r\n' "a LOGIN alice secret" "b SELECT INBOX" "c STORE 1 +FLAGS (Fresh)" "z LOGOUT" |
		timeout 20 "$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/log"
	grep -q '^b OK' "$BATS_TEST_TMPDIR/out"
	grep -q '^c OK' "$BATS_TEST_TMPDIR/out"
	grep -q '^z OK' "$BATS_TEST_TMPDIR/out"
}

@test "LOGIN: a user directory that is a symlink out of the mail root is refused" {
	mkdir -p "$W/elsewhere/cur" "$W/elsewhere/new" "$W/elsewhere/tmp"
	rm -rf "$W/mail/example.org"
	mkdir -p "$W/mail"
	ln -s "$W/elsewhere" "$W/mail/example.org"
	printf '%s\r\n' "a LOGIN alice secret" "z LOGOUT" |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log"
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/log"
	grep -q '^a NO \[UNAVAILABLE\] Mailbox not available' "$BATS_TEST_TMPDIR/out"
	grep -q 'refus' "$BATS_TEST_TMPDIR/log"
	[ ! -e "$W/elsewhere/alice" ]
}

# The per-mailbox cache (lib/mailcache.c): once a FETCH has cached a
# message, ENVELOPE, BODYSTRUCTURE, BODY, INTERNALDATE and RFC822.SIZE are
# answered without opening the file. Message files are immutable, so this
# test rewrites each one with other bytes of the same size under the same
# name: the warm answer is still the original one; without the cache file
# the new contents show.
@test "FETCH from the cache: a warm FETCH does not read the message files" {
	local q='c FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE BODY)'
	run_imap() { printf '%s\r\n' "a LOGIN alice secret" "b EXAMINE INBOX" "$@" "z LOGOUT" | "$BIN/postern-imapd" 2>>"$BATS_TEST_TMPDIR/log"; }
	run_imap "$q" | grep '^\* [0-9]* FETCH' >"$BATS_TEST_TMPDIR/cold"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cold")" -eq 3 ]
	grep -q '"one"' "$BATS_TEST_TMPDIR/cold"
	[ -s "$MD/postern-cache" ]
	local f size
	for f in "$MD"/new/* "$MD"/cur/*; do
		size=$(wc -c <"$f")
		head -c "$size" /dev/zero | tr '\0' 'x' >"$f"
		touch -d '@1600000000' "$f"
	done
	run_imap "$q" | grep '^\* [0-9]* FETCH' >"$BATS_TEST_TMPDIR/warm"
	diff "$BATS_TEST_TMPDIR/cold" "$BATS_TEST_TMPDIR/warm"
	if command -v strace >/dev/null; then
		# and no message file is even opened (LeakSanitizer cannot run
		# under ptrace)
		printf '%s\r\n' "a LOGIN alice secret" "b EXAMINE INBOX" "$q" "z LOGOUT" |
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
			strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/trace" "$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/warm2" 2>/dev/null
		grep -q 'postern-cache' "$BATS_TEST_TMPDIR/trace"
		! grep 'fixture,S=' "$BATS_TEST_TMPDIR/trace"
		grep '^\* [0-9]* FETCH' "$BATS_TEST_TMPDIR/warm2" | diff "$BATS_TEST_TMPDIR/cold" -
	fi
	# the same request without the cache reads the rewritten files
	rm "$MD/postern-cache"
	run_imap "$q" | grep '^\* [0-9]* FETCH' >"$BATS_TEST_TMPDIR/recold"
	! diff -q "$BATS_TEST_TMPDIR/cold" "$BATS_TEST_TMPDIR/recold"
	! grep -q '"one"' "$BATS_TEST_TMPDIR/recold"
	grep -q '13-Sep-2020' "$BATS_TEST_TMPDIR/recold"
}
