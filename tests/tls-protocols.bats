#!/usr/bin/env bats
# TLS on POP3 and IMAP with stock clients (SMTP has its own suite,
# tests/smtp-tls.bats): openssl s_client with -starttls and implicit TLS,
# and curl --ssl-reqd, all verifying the server against a test CA.

load helpers

setup_file() {
	make_test_pki "$BATS_FILE_TMPDIR/pki"
}

setup() {
	setup_world
	PKI=$BATS_FILE_TMPDIR/pki
	cat >>"$W/postern.conf" <<CONF
tls_cert = $PKI/cert.pem
tls_key = $PKI/key.pem
CONF
	sed -i 's/^allow_plaintext_auth = yes/allow_plaintext_auth = no/' "$W/postern.conf"
	mkdir -p "$W/mail/example.org/alice/new" "$W/mail/example.org/alice/cur" "$W/mail/example.org/alice/tmp"
	printf 'Subject: over tls\r\n\r\nsecret body\r\n' >"$W/mail/example.org/alice/new/1700000000.M1P1.test,S=39"
}

teardown() {
	stop_servers
	if grep -E 'Sanitizer|runtime error' "$BATS_TEST_TMPDIR/serve.log" 2>/dev/null; then
		return 1
	fi
}

# s_client ARGS...: a scripted s_client session; the commands come on stdin.
s_client() {
	timeout 20 openssl s_client -quiet -verify_return_error -CAfile "$PKI/ca.pem" \
		-verify_hostname mx.example.org "$@" 2>/dev/null
}

@test "POP3 STLS with openssl s_client -starttls pop3" {
	port=$(free_port)
	serve "$port" "$BIN/postern-pop3d"
	run s_client -starttls pop3 -connect "127.0.0.1:$port" \
		< <(printf 'CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n')
	[[ "$output" == *"+OK 1 39"* ]]
	[[ "$output" != *"STLS"* ]] # not offered again inside TLS
}

@test "POP3S (--tls) with openssl s_client" {
	port=$(free_port)
	serve "$port" "$BIN/postern-pop3d" --tls
	run s_client -connect "127.0.0.1:$port" \
		< <(printf 'USER alice\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n')
	[[ "$output" == *"+OK POP3 server ready"* ]]
	[[ "$output" == *"secret body"* ]]
}

@test "IMAP STARTTLS with openssl s_client -starttls imap" {
	port=$(free_port)
	serve "$port" "$BIN/postern-imapd"
	run s_client -starttls imap -connect "127.0.0.1:$port" \
		< <(printf 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc LOGOUT\r\n')
	[[ "$output" == *"a OK"* ]]
	[[ "$output" == *"* 1 EXISTS"* ]]
}

@test "IMAPS (--tls) with openssl s_client" {
	port=$(free_port)
	serve "$port" "$BIN/postern-imapd" --tls
	run s_client -connect "127.0.0.1:$port" \
		< <(printf 'a LOGIN alice secret\r\nb SELECT INBOX\r\nd FETCH 1 BODY[TEXT]\r\nc LOGOUT\r\n')
	[[ "$output" == *"secret body"* ]]
}

@test "a remote peer is refused a plaintext password before TLS, on POP3 and IMAP" {
	run env POSTERN_PEER=203.0.113.5 "$BIN/postern-pop3d" < <(printf 'CAPA\r\nUSER alice\r\nQUIT\r\n')
	[[ "$output" == *"STLS"* ]]
	[[ "$output" != *$'\nUSER\r'* ]]
	[[ "$output" == *"-ERR"* ]]
	run env POSTERN_PEER=203.0.113.5 "$BIN/postern-imapd" < <(printf 'a CAPABILITY\r\nb LOGIN alice secret\r\nc LOGOUT\r\n')
	[[ "$output" == *"LOGINDISABLED"* ]]
	[[ "$output" == *"b NO"* ]]
	[[ "$output" != *"b OK"* ]]
}

@test "curl --ssl-reqd over POP3 and IMAP STARTTLS" {
	p1=$(free_port)
	serve "$p1" "$BIN/postern-pop3d"
	run curl -sS --max-time 20 --ssl-reqd --cacert "$PKI/ca.pem" --resolve "mx.example.org:$p1:127.0.0.1" \
		-u alice:secret "pop3://mx.example.org:$p1/1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"secret body"* ]]
	p2=$(free_port)
	serve "$p2" "$BIN/postern-imapd"
	run curl -sS --max-time 20 --ssl-reqd --cacert "$PKI/ca.pem" --resolve "mx.example.org:$p2:127.0.0.1" \
		-u alice:secret "imap://mx.example.org:$p2/INBOX;UID=1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"secret body"* ]]
}
