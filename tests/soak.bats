#!/usr/bin/env bats
# Concurrency soak: 16 SMTP senders, 4 IMAP sessions and 2 POP3 sessions on
# one mailbox, servers started per connection by systemd-socket-activate on
# loopback (tests/helpers/rel-soak.py drives them and checks the ledger of
# what each session did against the final store). Bounded by rounds, not
# time: SOAK_ROUNDS (default 8); SOAK_SECONDS=600 for a long manual run.

load helpers

setup() {
	setup_world
	RELCHECK=$BIN/tests/rel-check
	[ -x "$RELCHECK" ] || { echo "missing $RELCHECK (make unit builds it)" >&2; return 1; }
	BOX=$W/mail/example.org/alice
}

teardown() {
	stop_servers
}

@test "soak: 16 SMTP + 4 IMAP + 2 POP3 sessions on one mailbox: nothing lost or duplicated, UIDs stable and increasing" {
	local sp ip=0 pp=0
	sp=$(free_port)
	serve "$sp" "$BIN/postern-smtpd"
	if [ -x "$BIN/postern-imapd" ]; then
		ip=$(free_port)
		serve "$ip" "$BIN/postern-imapd"
	else
		echo "# postern-imapd not built: SMTP and POP3 only" >&3
	fi
	if [ -x "$BIN/postern-pop3d" ]; then
		pp=$(free_port)
		serve "$pp" "$BIN/postern-pop3d"
	else
		echo "# postern-pop3d not built: no POP3 sessions" >&3
	fi
	run timeout 900 python3 "$TOP/tests/helpers/rel-soak.py" "$BOX" "$RELCHECK" "$sp" "$ip" "$pp"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"INBOX: messages="*" failures=0"* ]]
	[[ "$output" =~ acked=([0-9]+)\  ]]
	# 16 senders x rounds x 3 messages, all accepted
	[ "${BASH_REMATCH[1]}" -eq $((16 * ${SOAK_ROUNDS:-8} * 3)) ] || [ -n "${SOAK_SECONDS:-}" ]
	if [ "$ip" != 0 ]; then
		# the sessions really did their work concurrently
		[[ "$output" =~ copied=([1-9][0-9]*) ]]
		[[ "$output" =~ \ moved=([1-9][0-9]*)\  ]]
		[[ "$output" =~ expunged=([1-9][0-9]*) ]]
		[[ "$output" == *"Moved: messages="*" failures=0"* ]]
		[[ "$output" == *"Archive: messages="*" failures=0"* ]]
	fi
	if [ "$pp" != 0 ]; then
		[[ "$output" =~ pop3_deleted=([1-9][0-9]*) ]]
	fi
	[[ "$output" == *" failures=0" ]]
}

@test "soak: the checks catch a message lost behind the sessions' back (self-test)" {
	# SMTP only, so that no session may legitimately have deleted the
	# removed message: the outcome is deterministic
	local sp
	sp=$(free_port)
	serve "$sp" "$BIN/postern-smtpd"
	SOAK_ROUNDS=1 SOAK_SABOTAGE=1 run python3 "$TOP/tests/helpers/rel-soak.py" "$BOX" "$RELCHECK" "$sp" 0 0
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"sabotage: removed"* ]]
	[[ "$output" == *"is lost"* || "$output" == *"vanished without a delete or move"* ]]
}
