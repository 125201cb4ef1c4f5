#!/usr/bin/env bats
# Replay every fuzzing corpus (tests/fuzz/corpus/<harness>/: seeds and the
# regression inputs of crashes found so far, crash-*) once through its
# harness, built without libFuzzer into $POSTERN_BUILD/fuzz/replay-<harness>
# (`make unit` builds them; tests/fuzz/fuzz.mk). A crash, a sanitizer
# report or a broken property assertion fails the test.

load helpers

replay() {
	local name=$1 prog=$BIN/fuzz/replay-$1 corpus=$TOP/tests/fuzz/corpus/$1
	[ -x "$prog" ] || { echo "missing $prog (make unit builds it)"; return 1; }
	[ -d "$corpus" ] || { echo "missing corpus $corpus"; return 1; }
	local n
	n=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	[ "$n" -gt 0 ] || { echo "empty corpus $corpus"; return 1; }
	TMPDIR=$BATS_TEST_TMPDIR run "$prog" "$corpus"
	if [ "$status" -ne 0 ]; then
		echo "$output" | tail -40
		return 1
	fi
	[ "${lines[${#lines[@]} - 1]}" = "$n inputs replayed" ] || { echo "$output" | tail -5; return 1; }
	# the harness cleaned up its temporary files
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep postern-fuzz)" ]
}

@test "fuzz corpus: imap-parser (commands, literals, quote round trip)" { replay imap-parser; }
@test "fuzz corpus: smtp-path (MAIL/RCPT paths and parameters)" { replay smtp-path; }
@test "fuzz corpus: smtp-dot (DATA/BDAT decoder, smuggling)" { replay smtp-dot; }
@test "fuzz corpus: mime (parse, ENVELOPE, BODYSTRUCTURE, sections)" { replay mime; }
@test "fuzz corpus: pop3-parse (numbers, arguments)" { replay pop3-parse; }
@test "fuzz corpus: config (config file)" { replay config; }
@test "fuzz corpus: users (users file, plain passwords)" { replay users; }
@test "fuzz corpus: aliases (aliases file, expansion)" { replay aliases; }
@test "fuzz corpus: sasl (base64, PLAIN)" { replay sasl; }
@test "fuzz corpus: mutf7 (modified UTF-7 names)" { replay mutf7; }
@test "fuzz corpus: mailcache (cache file read, rewritten, read back)" { replay mailcache; }
@test "fuzz corpus: maildir-folder (folder name <-> directory round trip)" { replay maildir-folder; }

@test "fuzz corpus: every harness in tests/fuzz/ is replayed by this suite" {
	local f name missing=
	for f in "$TOP"/tests/fuzz/fuzz-*.c; do
		name=$(basename "$f" .c)
		name=${name#fuzz-}
		[ "$name" = util ] && continue
		grep -q "{ replay $name; }" "$BATS_TEST_FILENAME" || missing="$missing $name"
	done
	[ -z "$missing" ] || { echo "not replayed:$missing"; return 1; }
}
