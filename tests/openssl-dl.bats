#!/usr/bin/env bats
# OpenSSL is loaded only when a session uses TLS (lib/openssl-dl.h): no
# program links libssl/libcrypto, a plain session never maps them, STARTTLS
# and APOP load them; and when they cannot be loaded (POSTERN_OPENSSL_DIR
# naming a directory without them) every protocol fails the way a TLS
# failure does, with the reason logged, never a crash. Which libraries a
# process loaded is read from the dynamic loader's own trace
# (LD_DEBUG=files, one file per process via LD_DEBUG_OUTPUT).

load helpers

setup_file() {
	make_test_pki "$BATS_FILE_TMPDIR/pki"
}

setup() {
	setup_world
	PKI=$BATS_FILE_TMPDIR/pki
	printf 'tls_cert = %s\ntls_key = %s\n' "$PKI/cert.pem" "$PKI/key.pem" >>"$W/postern.conf"
	TRACE=$BATS_TEST_TMPDIR/ld
	mkdir -p "$TRACE"
	# a directory without the libraries: loading OpenSSL from it fails
	NOSSL=$BATS_TEST_TMPDIR/no-openssl
	mkdir -p "$NOSSL"
}

teardown() {
	stop_servers
	# handlers behind the socket activator: their sanitizer reports land here
	if grep -E 'Sanitizer|runtime error' "$BATS_TEST_TMPDIR/serve.log" 2>/dev/null; then
		return 1
	fi
}

# traced CMD...: run CMD with the loader writing its trace to $TRACE/t.<pid>.
traced() {
	LD_DEBUG=files LD_DEBUG_OUTPUT=$TRACE/t "$@"
}

# loaded NAME: true when a traced process loaded a library NAME.so.*;
# fails the test when there is no trace at all (it would prove nothing).
loaded() {
	ls "$TRACE"/t.* >/dev/null
	grep -h 'file=libc\.so' "$TRACE"/t.* >/dev/null
	grep -h "file=$1\\.so\\." "$TRACE"/t.* >/dev/null
}

# not_loaded NAME: the opposite (a bare "! loaded" would not fail a bats test).
not_loaded() {
	ls "$TRACE"/t.* >/dev/null
	grep -h 'file=libc\.so' "$TRACE"/t.* >/dev/null
	! grep -h "file=$1\\.so\\." "$TRACE"/t.* >/dev/null
}

# serve_traced PROGRAM ARGS...: PROGRAM on a free port ($PORT), traced.
serve_traced() {
	PORT=$(free_port)
	serve "$PORT" env -u POSTERN_PEER POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		POSTERN_FAIL_DELAY_MS=0 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" LD_DEBUG=files LD_DEBUG_OUTPUT="$TRACE/t" \
		"$BIN/$1" "${@:2}"
}

@test "no program links libssl or libcrypto" {
	local p n=0
	for p in postern-smtpd postern-pop3d postern-imapd postern-relay postern-mail postern-user; do
		[ -x "$BIN/$p" ] || continue
		n=$((n + 1))
		run ldd "$BIN/$p"
		[ "$status" -eq 0 ]
		[[ "$output" == *libc.so* ]]
		[[ "$output" != *libssl* && "$output" != *libcrypto* ]]
	done
	[ "$n" -ge 5 ]
}

@test "plain SMTP, POP3 and IMAP sessions never load OpenSSL" {
	run traced "$BIN/postern-smtpd" < <(printf 'EHLO client.example\r\nQUIT\r\n')
	[[ "$output" == *"250-STARTTLS"* && "$output" == *"221 "* ]]
	run traced "$BIN/postern-pop3d" < <(printf 'CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n')
	[[ "$output" == *"STLS"* && "$output" == *"maildrop locked"* ]]
	run traced "$BIN/postern-imapd" < <(printf 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc LOGOUT\r\n')
	[[ "$output" == *"STARTTLS"* && "$output" == *"b OK"* ]]
	[ "$(ls "$TRACE" | wc -l)" -eq 3 ]
	not_loaded libssl
	not_loaded libcrypto
}

@test "STARTTLS loads OpenSSL, and the handshake works" {
	serve_traced postern-smtpd
	run openssl s_client -starttls smtp -connect "127.0.0.1:$PORT" -CAfile "$PKI/ca.pem" \
		-verify_return_error -verify_hostname mx.example.org -quiet \
		< <(printf 'EHLO client.example\r\nQUIT\r\n')
	[ "$status" -eq 0 ]
	[[ "$output" == *"250 "* && "$output" == *"221 "* ]]
	loaded libssl
	loaded libcrypto
	grep -q 'TLS started: TLSv1' "$BATS_TEST_TMPDIR/serve.log"
}

@test "APOP loads libcrypto for MD5 and logs in" {
	serve_traced postern-pop3d
	run python3 -c "
import poplib, sys
p = poplib.POP3('127.0.0.1', $PORT, timeout=10)
print(p.apop('alice', 'secret').decode())
p.quit()
"
	[ "$status" -eq 0 ]
	[[ "$output" == *"+OK maildrop locked"* ]]
	loaded libcrypto
}

@test "without OpenSSL, SMTP STARTTLS is refused with 454 and the session goes on" {
	export POSTERN_OPENSSL_DIR=$NOSSL
	run "$BIN/postern-smtpd" < <(printf 'EHLO client.example\r\nSTARTTLS\r\nNOOP\r\nQUIT\r\n')
	[ "$status" -eq 0 ]
	# refused before the go-ahead: the client may go on in plain text
	[[ "$output" != *"220 2.0.0 Ready to start TLS"* ]]
	[[ "$output" == *"454 4.7.0 TLS not available due to temporary reason"* ]]
	[[ "$output" == *"250 2.0.0"* ]]
	[[ "$output" == *"221 2.0.0"* ]]
	[[ "$output" == *"TLS not available: cannot load OpenSSL: $NOSSL/libcrypto.so."*"No such file"* ]]
	run "$BIN/postern-smtpd" --tls </dev/null
	[[ "$output" == *"TLS not available: cannot load OpenSSL"* ]]
}

@test "without OpenSSL, POP3 STLS and APOP answer -ERR and the session goes on" {
	export POSTERN_OPENSSL_DIR=$NOSSL
	run "$BIN/postern-pop3d" < <(printf 'STLS\r\nAPOP alice 0123456789abcdef0123456789abcdef\r\nUSER alice\r\nPASS secret\r\nQUIT\r\n')
	[ "$status" -eq 0 ]
	[[ "$output" == *"-ERR TLS not available"* ]]
	[[ "$output" == *"-ERR [SYS/TEMP] authentication temporarily unavailable"* ]]
	[[ "$output" == *"+OK maildrop locked"* ]]
	[[ "$output" == *"APOP: cannot load OpenSSL for MD5: $NOSSL/libcrypto.so."* ]]
	# with the library the same wrong digest is a plain authentication failure
	unset POSTERN_OPENSSL_DIR
	run "$BIN/postern-pop3d" < <(printf 'APOP alice 0123456789abcdef0123456789abcdef\r\nQUIT\r\n')
	[[ "$output" == *"-ERR [AUTH] Authentication failed"* ]]
}

@test "without OpenSSL, IMAP STARTTLS is refused with NO; implicit TLS ends cleanly" {
	export POSTERN_OPENSSL_DIR=$NOSSL
	run "$BIN/postern-imapd" < <(printf 'a STARTTLS\r\nb NOOP\r\nc LOGOUT\r\n')
	[ "$status" -eq 0 ]
	[[ "$output" != *"a OK Begin TLS"* ]]
	[[ "$output" == *"a NO TLS is not available"* ]]
	[[ "$output" == *"b OK"* ]]
	[[ "$output" == *"TLS not available: cannot load OpenSSL"* ]]
	run "$BIN/postern-imapd" --tls </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"TLS not available: cannot load OpenSSL"* ]]
	run "$BIN/postern-pop3d" --tls </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"TLS not available: cannot load OpenSSL"* ]]
}

@test "without OpenSSL, postern-mail --tls fails with the reason, sending nothing" {
	serve_traced postern-smtpd
	printf 'hello\n' >"$W/in"
	POSTERN_OPENSSL_DIR=$NOSSL POSTERN_PASSWORD=secret run "$BIN/postern-mail" \
		--smtp-port "$PORT" --tls --ca-file "$PKI/ca.pem" --user alice \
		--from alice@example.org -t alice@example.org 127.0.0.1 send <"$W/in"
	[ "$status" -ne 0 ]
	[[ "$output" == *"TLS not available: cannot load OpenSSL: $NOSSL/libcrypto.so."* ]]
	[ "$(count_files "$W/mail/example.org/alice/new")" -eq 0 ]
	# the same with the library: sent over TLS
	POSTERN_PASSWORD=secret run "$BIN/postern-mail" \
		--smtp-port "$PORT" --tls --ca-file "$PKI/ca.pem" --user alice \
		--from alice@example.org -t alice@example.org 127.0.0.1 send <"$W/in"
	[ "$status" -eq 0 ]
	[ "$(count_files "$W/mail/example.org/alice/new")" -eq 1 ]
}
