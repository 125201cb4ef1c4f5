#!/usr/bin/env bats
# systemd units, xinetd/inetd files and `make install`: what the issue asks
# of each file, `systemd-analyze verify` and `security` on the installed
# units, the installed tree and programs, and `make uninstall`.
# Installs go to a temporary DESTDIR with PREFIX=/usr, from the programs in
# $POSTERN_BUILD (`-o all`: never rebuild them with other flags here).

load helpers

LISTENERS="smtp submission smtps pop3 pop3s imap imaps"

# mk ARGS...: make in the checkout, not steered by a calling make.
mk() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$TOP" -o all BUILD="$BIN" "$@"
}

setup_file() {
	D=$BATS_FILE_TMPDIR/root
	mk UNITS_OUT="$BATS_FILE_TMPDIR/gen" PREFIX=/usr DESTDIR="$D" install >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&3; return 1; }
}

setup() {
	D=$BATS_FILE_TMPDIR/root
	U=$D/usr/lib/systemd/system
}

# listener_line NAME: "program args port max per-source" as the issue wants
listener() {
	case $1 in
	smtp) echo "postern-smtpd|| 25" ;;
	submission) echo "postern-smtpd| --submission| 587" ;;
	smtps) echo "postern-smtpd| --tls --submission| 465" ;;
	pop3) echo "postern-pop3d|| 110" ;;
	pop3s) echo "postern-pop3d| --tls| 995" ;;
	imap) echo "postern-imapd|| 143" ;;
	imaps) echo "postern-imapd| --tls| 993" ;;
	esac
}

@test "install: the expected tree under DESTDIR, nothing else" {
	{
		echo etc/postern/postern.conf
		echo usr/bin/postern-mail
		for l in $LISTENERS; do
			echo "usr/lib/systemd/system/postern-$l.socket"
			echo "usr/lib/systemd/system/postern-$l@.service"
			echo "usr/share/postern/xinetd/postern-$l"
		done
		echo usr/lib/systemd/system/postern-relay.path
		echo usr/lib/systemd/system/postern-relay.service
		echo usr/lib/systemd/system/postern-relay.timer
		echo usr/lib/systemd/system/postern.target
		echo usr/lib/sysusers.d/postern.conf
		echo usr/lib/tmpfiles.d/postern.conf
		for p in imapd pop3d relay smtpd user; do
			echo "usr/sbin/postern-$p"
			echo "usr/share/man/man8/postern-$p.8"
		done
		echo usr/share/man/man1/postern-mail.1
		echo usr/share/man/man5/postern.conf.5
		echo usr/share/postern/examples/aliases
		echo usr/share/postern/examples/postern.conf
		echo usr/share/postern/examples/users
		echo usr/share/postern/xinetd/inetd.conf
	} | sort >"$BATS_TEST_TMPDIR/expected"
	(cd "$D" && find . ! -type d | sed 's|^\./||' | sort) >"$BATS_TEST_TMPDIR/actual"
	diff -u "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/actual"
	# programs executable, everything else not
	[ -z "$(find "$D/usr/sbin" "$D/usr/bin" -type f ! -perm 755)" ]
	[ -z "$(find "$D" -type f ! -path '*/usr/sbin/*' ! -path '*/usr/bin/*' ! -perm 644)" ]
	# one man page per program
	for p in "$D"/usr/sbin/* "$D"/usr/bin/*; do
		n=${p##*/}
		[ -f "$D/usr/share/man/man8/$n.8" ] || [ -f "$D/usr/share/man/man1/$n.1" ] ||
			{ echo "no man page for $n"; return 1; }
	done
}

@test "install: creates nothing outside DESTDIR" {
	# unique PREFIX and SYSCONFDIR that exist nowhere: had install used them
	# without DESTDIR, they would exist afterwards
	u=postern-test-$$-$RANDOM
	[ ! -e "/opt/$u" ] && [ ! -e "/etc/$u" ]
	mk UNITS_OUT="$BATS_TEST_TMPDIR/gen" PREFIX="/opt/$u" SYSCONFDIR="/etc/$u" \
		DESTDIR="$BATS_TEST_TMPDIR/root" install
	[ ! -e "/opt/$u" ] && [ ! -e "/etc/$u" ]
	[ -x "$BATS_TEST_TMPDIR/root/opt/$u/sbin/postern-smtpd" ]
	[ -f "$BATS_TEST_TMPDIR/root/etc/$u/postern/postern.conf" ]
	# and the generated files carry the new paths
	grep -qx "ExecStart=/opt/$u/sbin/postern-smtpd -c /etc/$u/postern/postern.conf" \
		"$BATS_TEST_TMPDIR/root/opt/$u/lib/systemd/system/postern-smtp@.service"
	grep -q "server[[:space:]]*= /opt/$u/sbin/postern-imapd" "$BATS_TEST_TMPDIR/root/opt/$u/share/postern/xinetd/postern-imaps"
}

@test "install: the installed handler delivers a piped SMTP session" {
	setup_world
	printf '%s\r\n' 'EHLO client.example.net' 'MAIL FROM:<sender@example.net>' \
		'RCPT TO:<alice@example.org>' DATA 'Subject: installed' '' 'from the installed program' . QUIT \
		| "$D/usr/sbin/postern-smtpd" -c "$W/postern.conf" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	cat "$BATS_TEST_TMPDIR/out"
	grep -q '^250 .*' "$BATS_TEST_TMPDIR/out"
	grep -q '^221 ' "$BATS_TEST_TMPDIR/out"
	[ "$(count_files "$W/mail/example.org/alice/new")" -eq 1 ]
	grep -q '^from the installed program' "$W"/mail/example.org/alice/new/*
	# the installed programs answer with the test config
	"$D/usr/sbin/postern-user" -c "$W/postern.conf" list | grep -q alice
}

@test "install: the installed config is valid and points at /etc and /var" {
	c=$D/etc/postern/postern.conf
	grep -qx 'mail_root = /var/mail/postern' "$c"
	grep -qx 'queue_dir = /var/spool/postern' "$c"
	grep -qx 'users_file = /etc/postern/users' "$c"
	grep -qx 'allow_plaintext_auth = no' "$c"
	# the units let the handlers write exactly these two
	grep -qx 'ReadWritePaths=/var/mail/postern /var/spool/postern' "$U/postern-smtp@.service"
	printf 'QUIT\r\n' | POSTERN_LOG=stderr "$D/usr/sbin/postern-smtpd" -c "$c" >"$BATS_TEST_TMPDIR/out"
	grep -q '^220 ' "$BATS_TEST_TMPDIR/out"
	grep -q '^221 ' "$BATS_TEST_TMPDIR/out"
}

@test "install: sysusers.d and tmpfiles.d make the postern user and its directories" {
	command -v systemd-sysusers >/dev/null || skip "no systemd-sysusers"
	[ "$(id -u)" -eq 0 ] || skip "systemd-tmpfiles needs root to chown"
	r=$BATS_TEST_TMPDIR/sysroot
	mkdir -p "$r/etc" "$r/usr/lib"
	cp -r "$D/usr/lib/sysusers.d" "$D/usr/lib/tmpfiles.d" "$r/usr/lib/"
	systemd-sysusers --root="$r"
	systemd-tmpfiles --create --root="$r"
	uid=$(awk -F: '$1 == "postern" { print $3 }' "$r/etc/passwd")
	[ -n "$uid" ]
	grep -q '^postern:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$r/etc/passwd"
	for d in var/mail/postern var/spool/postern; do
		[ "$(stat -c '%u %a' "$r/$d")" = "$uid 700" ]
	done
}

@test "units: sockets and services say what the issue asks" {
	for l in $LISTENERS; do
		IFS='|' read -r prog args port <<<"$(listener "$l")"
		s=$U/postern-$l.socket
		v=$U/postern-$l@.service
		grep -qx "ListenStream=${port# }" "$s"
		grep -qx 'Accept=yes' "$s"
		grep -q '^MaxConnections=[1-9]' "$s"
		grep -q '^MaxConnectionsPerSource=[1-9]' "$s"
		grep -qx 'TriggerLimitIntervalSec=0' "$s"
		grep -qx "ExecStart=/usr/sbin/$prog -c /etc/postern/postern.conf$args" "$v"
		grep -qx 'StandardInput=socket' "$v"
		grep -qx 'StandardOutput=socket' "$v"
		grep -qx 'StandardError=journal' "$v"
		grep -qx 'User=postern' "$v"
		grep -qx 'PrivateNetwork=yes' "$v"
		grep -q '^MemoryMax=' "$v"
		grep -q '^TasksMax=' "$v"
		grep -q '^LimitNOFILE=' "$v"
		grep -q "^Wants=.*postern-$l.socket" "$U/postern.target"
		x=$D/usr/share/postern/xinetd/postern-$l
		grep -q "port[[:space:]]*= ${port# }\$" "$x"
		grep -q "server[[:space:]]*= /usr/sbin/$prog\$" "$x"
		grep -q "server_args[[:space:]]*= -c /etc/postern/postern.conf$args\$" "$x"
		for k in instances per_source cps; do grep -q "^[[:space:]]*$k[[:space:]]*= [0-9]" "$x"; done
		grep -q "user[[:space:]]*= postern\$" "$x"
		grep -q "	/usr/sbin/$prog	$prog -c /etc/postern/postern.conf$args\$" "$D/usr/share/postern/xinetd/inetd.conf"
	done
	grep -qx 'Wants=postern-relay.path postern-relay.timer' "$U/postern.target"
	[ "$(grep -vc '^#' "$D/usr/share/postern/xinetd/inetd.conf")" -eq 7 ]
	# every inetd service name is known to /etc/services (inetd looks it up)
	if [ -f /etc/services ]; then
		for n in $(grep -v '^#' "$D/usr/share/postern/xinetd/inetd.conf" | cut -f1); do
			grep -q "^$n[[:space:]]" /etc/services || { echo "not in /etc/services: $n"; return 1; }
		done
	fi
}

# verify_dir: the installed units, their ExecStart= pointing into DESTDIR
# (verify checks that the program exists and is executable).
verify_dir() {
	V=$BATS_TEST_TMPDIR/units
	mkdir -p "$V"
	for f in "$U"/*; do
		sed "s|^ExecStart=/usr/sbin/|ExecStart=$D/usr/sbin/|" "$f" >"$V/${f##*/}"
	done
}

@test "systemd-analyze verify: every installed unit" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	verify_dir
	# Documentation=man:... is checked against the installed pages: by
	# systemd-analyze through MANPATH when man(1) is there, and here always
	for m in $(grep -ho '^Documentation=man:.*' "$V"/* | sed 's/^Documentation=man://' | sort -u); do
		n=${m%(*}
		s=${m#*(}
		s=${s%)}
		[ -f "$D/usr/share/man/man$s/$n.$s" ] || { echo "no page for $m"; return 1; }
	done
	if command -v man >/dev/null; then manopt=--man=yes; else manopt=--man=no; fi
	cd "$V"
	units=""
	for f in *; do
		case $f in *@.service) units="$units ${f%@.service}@1.service" ;; *) units="$units $f" ;; esac
	done
	# shellcheck disable=SC2086
	run env MANPATH="$D/usr/share/man" systemd-analyze verify $manopt $units
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "systemd-analyze security: every service is well sandboxed" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	verify_dir
	cd "$V"
	for f in *.service; do
		case $f in *@.service) u=${f%@.service}@1.service ;; *) u=$f ;; esac
		score=$(systemd-analyze security --offline=true "$u" 2>/dev/null |
			sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
		echo "# $u: $score" >&3
		[ -n "$score" ]
		# the per-connection handlers need no network of their own; the
		# queue runner does
		case $u in postern-relay.service) max=2.0 ;; *) max=1.0 ;; esac
		awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' ||
			{ echo "$u scores $score, more than $max"; return 1; }
	done
}

@test "sandbox: a handler serves its socket from a private network namespace" {
	# PrivateNetwork=yes: the accepted socket comes from outside the namespace
	unshare -n true 2>/dev/null || skip "cannot create network namespaces here"
	[ -x "$BIN/postern-smtpd" ] || skip "postern-smtpd not built"
	setup_world
	unset POSTERN_PEER
	port=$(free_port)
	serve "$port" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		unshare -n "$BIN/postern-smtpd"
	PORT=$port python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20)
s.ehlo('client.example.net')
assert s.sendmail('sender@example.net', ['alice@example.org'], 'Subject: ns\r\n\r\nfrom a namespace\r\n') == {}
s.quit()
PY
	f=$(find "$W/mail/example.org/alice/new" -type f)
	# getpeername() still sees the real client, not the namespace
	grep -q '^Received: from client.example.net (\[127.0.0.1\])' "$f"
}

@test "uninstall: removes everything but the config" {
	r=$BATS_TEST_TMPDIR/root
	mk UNITS_OUT="$BATS_TEST_TMPDIR/gen" PREFIX=/usr DESTDIR="$r" install
	echo '# edited' >>"$r/etc/postern/postern.conf"
	# a second install keeps the edited config
	mk UNITS_OUT="$BATS_TEST_TMPDIR/gen" PREFIX=/usr DESTDIR="$r" install
	grep -q '^# edited' "$r/etc/postern/postern.conf"
	mk UNITS_OUT="$BATS_TEST_TMPDIR/gen" PREFIX=/usr DESTDIR="$r" uninstall
	left=$(cd "$r" && find . ! -type d)
	echo "left: $left"
	[ "$left" = "./etc/postern/postern.conf" ]
}

teardown() {
	stop_servers
}
