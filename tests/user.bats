#!/usr/bin/env bats
# postern-user: add, passwd, del, list; hashes are yescrypt; the users file
# keeps its other lines, mode and owner; maildirs belong to the mail owner.

load helpers

setup() {
	setup_world
}

login_ok() { # NAME PASSWORD: a POP3 login through the real handler
	printf 'USER %s\r\nPASS %s\r\nQUIT\r\n' "$1" "$2" | "$BIN/postern-pop3d" | grep -q '^+OK Logged in\|^+OK.*maildrop'
}

@test "add writes a yescrypt hash, creates the maildir, and the user can log in" {
	run "$BIN/postern-user" add dave@example.org <<<"pw-of-dave"
	[ "$status" -eq 0 ]
	grep -q '^dave \$y\$' "$W/users"
	[ -d "$W/mail/example.org/dave/new" ] && [ -d "$W/mail/example.org/dave/cur" ]
	grep -q '^alice secret$' "$W/users" # other lines kept
	run "$BIN/postern-user" list
	[[ "$output" == *"dave@example.org"* ]]
	[[ "$output" == *"bob@example.net"* ]]
	login_ok dave pw-of-dave
	! login_ok dave wrong
}

@test "passwd changes the password; del removes the user and keeps the maildir" {
	"$BIN/postern-user" add erin <<<"first"
	run "$BIN/postern-user" passwd erin <<<"second"
	[ "$status" -eq 0 ]
	! login_ok erin first
	login_ok erin second
	run "$BIN/postern-user" del erin
	[ "$status" -eq 0 ]
	! grep -q '^erin ' "$W/users"
	[ -d "$W/mail/example.org/erin" ]
	run "$BIN/postern-user" del erin
	[ "$status" -eq 1 ]
}

@test "bad names, duplicates and empty passwords are refused" {
	run "$BIN/postern-user" add ../evil <<<"x"
	[ "$status" -eq 1 ]
	run "$BIN/postern-user" add alice <<<"x"
	[ "$status" -eq 1 ]
	run "$BIN/postern-user" add frank </dev/null
	[ "$status" -eq 1 ]
	! grep -q '^frank' "$W/users"
	run "$BIN/postern-user" add
	[ "$status" -eq 1 ]
}

@test "run as root, the users file keeps its owner and the maildir goes to the mail owner" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to change owners"
	chown nobody:nogroup "$W/users" "$W/mail"
	chmod 640 "$W/users"
	"$BIN/postern-user" add gina <<<"pw"
	[ "$(stat -c %U:%a "$W/users")" = "nobody:640" ]
	[ "$(stat -c %U "$W/mail/example.org/gina")" = nobody ]
	[ "$(stat -c %U "$W/mail/example.org/gina/new")" = nobody ]
}
