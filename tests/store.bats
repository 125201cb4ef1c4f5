#!/usr/bin/env bats
# The maildir store under concurrency and crashes (tests/helpers/store-stress.c
# does the work and the checking; see its header for the modes).

load helpers

setup() {
	STRESS=$BIN/tests/store-stress
	if [ ! -x "$STRESS" ]; then
		echo "missing $STRESS (make unit builds it)"
		return 1
	fi
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/mbox/cur" "$D/mbox/new" "$D/mbox/tmp"
}

@test "store: 8 deliverers x 500 with 2 syncers moving and flagging: 4000 messages, one stable UID each" {
	local s1 s2 p rc=0 pids=
	"$STRESS" sync "$D/mbox" "$D/stop" 1000000 >"$D/sync1.out" 2>"$D/sync1.err" &
	s1=$!
	"$STRESS" sync "$D/mbox" "$D/stop" 1000000 >"$D/sync2.out" 2>"$D/sync2.err" &
	s2=$!
	for i in 0 1 2 3 4 5 6 7; do
		"$STRESS" deliver "$D/mbox" 500 "$i" 2>"$D/deliver$i.err" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || rc=1
	done
	# the syncers run one last round once every delivery is done
	touch "$D/stop"
	wait "$s1" || rc=2
	wait "$s2" || rc=3
	cat "$D"/sync*.out "$D"/*.err
	[ "$rc" -eq 0 ]
	# both syncers really worked concurrently with the deliveries
	for f in "$D/sync1.out" "$D/sync2.out"; do
		grep -Eq '^rounds=([2-9]|[1-9][0-9]+) moved=[1-9][0-9]* flagged=[1-9][0-9]* .*messages=4000 failures=0$' "$f"
	done
	run "$STRESS" check "$D/mbox" 8 500
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"messages=4000 uids=4000 "*"next_uid=4001 failures=0"* ]]
	[ "$(count_files "$D/mbox/tmp")" -eq 0 ]
	[ "$(($(count_files "$D/mbox/new") + $(count_files "$D/mbox/cur")))" -eq 4000 ]
}

@test "store: SIGKILL at random points 200 times never leaves a partial message; later syncs work" {
	run "$STRESS" crash "$D/mbox" 200
	echo "$output" | grep -v 'removed stale'
	[ "$status" -eq 0 ]
	[[ "$output" =~ kills=200\ delivered=([0-9]+)\ listed=([0-9]+) ]]
	local delivered=${BASH_REMATCH[1]} listed=${BASH_REMATCH[2]}
	# enough deliveries completed to make the check mean something
	[ "$delivered" -ge 50 ]
	[ "$delivered" -eq "$listed" ]
	# some kills landed mid-delivery (a tmp/ file was left), and the
	# 36-hour cleanup removed those leftovers
	[[ "$output" =~ tmp_left=[1-9][0-9]*\ tmp_after_cleanup=0\ failures=0 ]]
	# the store is still fully usable: more deliveries, listed and verified
	"$STRESS" deliver "$D/mbox" 20 9999
	run "$STRESS" sync "$D/mbox" "$D/none" 3
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"messages=$((delivered + 20)) failures=0"* ]]
}
