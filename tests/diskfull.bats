#!/usr/bin/env bats
# Disk full: deliveries into a tiny file system (a 512 KiB tmpfs mounted
# over the mail root, root only) get a 4xx, never a 250 for a message that
# is not whole on disk; nothing acknowledged is lost, nothing partial is
# visible, and delivery works again once space returns.

load helpers

setup() {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	setup_world
	DRIVER=$TOP/tests/helpers/rel-driver.py
	RELCHECK=$BIN/tests/rel-check
	[ -x "$RELCHECK" ] || { echo "missing $RELCHECK (make unit builds it)" >&2; return 1; }
	mount -t tmpfs -o size=512k,mode=0700 tmpfs "$W/mail"
	MOUNTED=$W/mail
	BOX=$W/mail/example.org/alice
	LEDGER=$BATS_TEST_TMPDIR/ledger
	: >"$LEDGER"
}

teardown() {
	stop_servers
	if [ -n "${MOUNTED:-}" ]; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# send TOKEN SIZE: one SMTP delivery; records acked/refused in the ledger,
# sets $reply.
send() {
	reply=$(python3 "$DRIVER" smtp-send "$BIN/postern-smtpd" "$POSTERN_CONF" "$1" "$2" 2>>"$BATS_TEST_TMPDIR/log")
	echo "$1 $2 -> $reply"
	if [[ "$reply" == "250 "* ]]; then
		echo "$1 acked -" >>"$LEDGER"
	else
		echo "$1 refused -" >>"$LEDGER"
	fi
}

# fill: a filler file taking all the space that is left.
fill() {
	dd if=/dev/zero of="$W/mail/filler" bs=4k 2>/dev/null || true

}

# check_store [full]: the files (and, unless the disk is full, the uid list,
# which cannot be written then).
check_store() {
	if [ "${1:-}" = full ]; then
		run python3 "$DRIVER" verify "$BOX" "$LEDGER"
	else
		run python3 "$DRIVER" verify "$BOX" "$LEDGER" "$RELCHECK"
	fi
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" tmp=0 failures=0"* ]]
}

@test "diskfull: SMTP deliveries until the disk is full get 452 4.3.1, nothing acknowledged is lost, recovery after space returns" {
	local i refused=0 acked=0
	# space that comes back later
	dd if=/dev/zero of="$W/mail/reserve" bs=1k count=150 2>/dev/null
	for i in $(seq 1 20); do
		send "big$i" 60000
		if [[ "$reply" == "250 "* ]]; then
			acked=$((acked + 1))
		else
			refused=$((refused + 1))
			# a temporary failure with the storage code, never 5xx or silence
			[[ "$reply" == "452 4.3.1 "* ]]
			break
		fi
	done
	echo "acked=$acked refused=$refused"
	[ "$acked" -ge 3 ]
	[ "$refused" -eq 1 ]
	check_store full
	# smaller messages still fit while there is room; none when full
	fill
	send tiny-full 200
	[[ "$reply" == "452 4.3.1 "* ]]
	check_store full
	# space returns: delivery works again at once
	rm -f "$W/mail/filler" "$W/mail/reserve"
	send after1 60000
	[[ "$reply" == "250 "* ]]
	send after2 2000
	[[ "$reply" == "250 "* ]]
	check_store
	[ "$(grep -c ' acked ' "$LEDGER")" -eq $((acked + 2)) ]
}

@test "diskfull: a message too large for the space left is refused whole; a small one still fits" {
	send first 1000
	[[ "$reply" == "250 "* ]]
	dd if=/dev/zero of="$W/mail/filler" bs=1k count=400 2>/dev/null
	send too-big 200000
	[[ "$reply" == "452 4.3.1 "* ]]
	check_store full
	send small 1000
	[[ "$reply" == "250 "* ]]
	check_store
}

@test "diskfull: IMAP APPEND on a full disk gets NO and leaves nothing behind; works again after" {
	[ -x "$BIN/postern-imapd" ] || skip "postern-imapd not built in $BIN"
	send seed 1000
	[[ "$reply" == "250 "* ]]
	# the uid list exists before the disk fills up
	"$RELCHECK" "$BOX" >/dev/null
	fill
	reply=$(python3 "$DRIVER" imap-append "$BIN/postern-imapd" "$POSTERN_CONF" app-full 20000)
	echo "full: $reply"
	echo "app-full refused -" >>"$LEDGER"
	[[ "$reply" == "b NO "* ]]
	# a tagged NO, and ideally a response code saying why
	[[ "$reply" == "b NO ["* ]] || echo "note: no response code in the NO (OVERQUOTA/SERVERBUG/...)"
	check_store full
	rm -f "$W/mail/filler"
	reply=$(python3 "$DRIVER" imap-append "$BIN/postern-imapd" "$POSTERN_CONF" app-after 20000)
	echo "after: $reply"
	[[ "$reply" == "b OK "* ]]
	echo "app-after acked ${reply#*APPENDUID }" | sed 's/\] .*//; s/ \([0-9]*\) \([0-9]*\)$/ \1\/\2/' >>"$LEDGER"
	check_store
}

@test "diskfull: IMAP SELECT, STORE, FETCH on a full disk (uid list not yet written): an answer, store and uid list intact" {
	[ -x "$BIN/postern-imapd" ] || skip "postern-imapd not built in $BIN"
	local i
	for i in 1 2 3 4 5; do
		send "m$i" 3000
		[[ "$reply" == "250 "* ]]
	done
	fill
	# the uid list has never been written: SELECT must create it on a full disk
	run "$BIN/postern-imapd" -c "$POSTERN_CONF" < <(printf 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc STORE 1:3 +FLAGS (\\Seen)\r\nd UID FETCH 1:* (FLAGS)\r\ne LOGOUT\r\n')
	echo "$output"
	# any answer is fine as long as it is an answer (no crash) and the store is intact
	[[ "$output" == *"e OK"* ]]
	rm -f "$W/mail/filler"
	check_store
	run "$RELCHECK" "$BOX"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"messages=5 uids=5 "* ]]
}

@test "diskfull: POP3 RETR, DELE and QUIT on a full disk: nothing but the deleted message goes" {
	[ -x "$BIN/postern-pop3d" ] || skip "postern-pop3d not built in $BIN"
	local i tok
	for i in 1 2 3; do
		send "p$i" 3000
		[[ "$reply" == "250 "* ]]
	done
	# with an up-to-date uid list (nothing to write to open the maildrop)
	"$RELCHECK" "$BOX" >/dev/null
	fill
	run "$BIN/postern-pop3d" -c "$POSTERN_CONF" < <(printf 'USER alice\r\nPASS secret\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n')
	echo "$output"
	[[ "$output" == *"+OK"*"maildrop"* ]]
	tok=$(printf '%s\n' "$output" | sed -n 's/^X-Rel-Token: \([^[:space:]]*\).*/\1/p' | head -1)
	[ -n "$tok" ]
	if [[ "$output" == *"signing off (1 messages deleted)"* ]]; then
		# the deletion was done and said so: the message may go
		sed -i "s/^$tok acked /$tok deleted /" "$LEDGER"
	fi
	check_store full
	rm -f "$W/mail/filler"
	check_store
}

@test "diskfull: POP3 login when the uid list needs writing on a full disk: a temporary error, nothing lost" {
	[ -x "$BIN/postern-pop3d" ] || skip "postern-pop3d not built in $BIN"
	local i
	for i in 1 2 3; do
		send "q$i" 3000
		[[ "$reply" == "250 "* ]]
	done
	fill
	run "$BIN/postern-pop3d" -c "$POSTERN_CONF" < <(printf 'USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n')
	echo "$output"
	# either it can serve the maildrop or it says why it cannot (RFC 3206)
	[[ "$output" == *"+OK"*"maildrop"* || "$output" == *"-ERR [SYS/TEMP]"* ]]
	[[ "$output" == *"+OK"*"maildrop"* ]] || echo "note: the maildrop cannot be opened while the disk is full"
	check_store full
	rm -f "$W/mail/filler"
	check_store
}
