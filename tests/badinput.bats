#!/usr/bin/env bats
# Hostile inputs per protocol: the catalogue tests/badinput/cases.tsv, run by
# tests/helpers/rel-badinput.py (each case in a fresh world: defined reply,
# clean exit, memory bound on non-ASan builds, mail root unchanged except as
# intended, nothing outside it read or written), and slow clients against
# the idle timeout (tests/helpers/rel-slow.py). STARTTLS injection is
# covered in tests/smtp-tls.bats; fuzzing of the parsers in tests/fuzz/.

load helpers

TABLE=tests/badinput/cases.tsv

# catalogue PROTO [FILTER]: run the protocol's cases (by default all but the
# regression rows tagged "[bug]", run by their own test); skipped when the
# handler is absent
catalogue() {
	local prog=postern-${1}d
	[ -x "$BIN/$prog" ] || skip "$prog not built in $BIN"
	TMPDIR=$BATS_TEST_TMPDIR run python3 "$TOP/tests/helpers/rel-badinput.py" "$BIN" "$TOP/$TABLE" "$1" "${2:-![bug]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ cases=([0-9]+)\ failed=0 ]]
}

@test "badinput: SMTP catalogue (long lines, NUL, 8-bit, bare CR/LF, BDAT sizes, path traversal, SASL base64, symlinks)" {
	catalogue smtp
	[[ "$output" =~ cases=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 20 ]
}

@test "badinput: POP3 catalogue (long lines, NUL, 8-bit, message numbers, path traversal, SASL base64, symlinks)" {
	catalogue pop3
	[[ "$output" =~ cases=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 20 ]
}

@test "badinput: IMAP catalogue (literal sizes, 2^32 sequence numbers, mailbox traversal, modified UTF-7, deep/wide MIME, 1 MB headers, symlinks)" {
	catalogue imap
	[[ "$output" =~ cases=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 20 ]
}

# Regressions (rows tagged "[bug]", found by this catalogue and fixed):
# directories of a maildir (new/, cur/, tmp/, a .Folder) that are symlinks
# to elsewhere must never be followed out of the mail root; modified UTF-7
# folder names that encode control characters (U+0000, LF, DEL) are refused.
@test "badinput: regressions: symlinked maildir directories and encoded control characters in folder names" {
	local p failed=0
	for p in smtp pop3 imap; do
		[ -x "$BIN/postern-${p}d" ] || continue
		TMPDIR=$BATS_TEST_TMPDIR run python3 "$TOP/tests/helpers/rel-badinput.py" "$BIN" "$TOP/$TABLE" "$p" "[bug]"
		echo "$output"
		[ "$status" -eq 0 ] || failed=1
	done
	[ "$failed" -eq 0 ]
}

@test "badinput: the catalogue runner fails on a wrong reply and on a store changed against the disk column" {
	[ -x "$BIN/postern-smtpd" ] || skip "postern-smtpd not built in $BIN"
	local t=$BATS_TEST_TMPDIR/wrong.tsv
	printf 'smtp\twrong reply\t-\t-\t-\tb"HELO a\\0b\\r\\nQUIT\\r\\n"\t250 OK\tsame\n' >"$t"
	printf 'smtp\tdelivery with disk=same\t-\t-\t-\tENV + b"DATA\\r\\n" + msg() + b".\\r\\nQUIT\\r\\n"\t250 2\\.0\\.0\tsame\n' >>"$t"
	printf 'smtp\tdelivery with disk=new1\t-\t-\t-\tENV + b"DATA\\r\\n" + msg() + b".\\r\\nQUIT\\r\\n"\t250 2\\.0\\.0\tnew1\n' >>"$t"
	TMPDIR=$BATS_TEST_TMPDIR run python3 "$TOP/tests/helpers/rel-badinput.py" "$BIN" "$t" smtp
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not ok 1 - smtp wrong reply"*"does not match"* ]]
	[[ "$output" == *"not ok 2 - smtp delivery with disk=same"*"the store changed"* ]]
	[[ "$output" == *"ok 3 - smtp delivery with disk=new1"* ]]
	[[ "$output" == *"cases=3 failed=2"* ]]
}

@test "badinput: one byte per second is served (not idle); then silence hits the 2 s idle timeout in every protocol" {
	setup_world
	printf 'smtp_timeout = 2\npop3_timeout = 2\nimap_timeout = 2\n' >>"$POSTERN_CONF"
	local protos=smtp p
	for p in pop3 imap; do
		[ -x "$BIN/postern-${p}d" ] && protos="$protos $p"
	done
	run python3 "$TOP/tests/helpers/rel-slow.py" "$BIN" 2 $protos
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"smtp: ok"* ]]
}
