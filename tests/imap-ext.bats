#!/usr/bin/env bats
# IMAP extensions for modern clients (issue 6): ENABLE, LITERAL+,
# LIST-EXTENDED / LIST-STATUS / CHILDREN, STATUS=SIZE, ESEARCH, CONDSTORE
# and QRESYNC — session files (examples/imap-ext-*.session) piped into
# postern-imapd, transcripts compared with examples/<name>.expected byte
# for byte — and IDLE pushing changes made by other processes (a delivery
# through postern-smtpd, a flag rename, a deletion) while it waits.

load helpers

M1=$'From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: Meeting\r\nDate: Tue, 14 Nov 2023 22:13:21 +0000\r\n\r\nLet us meet.\r\n'
M2=$'From: carol@example.org\r\nSubject: Photos\r\n\r\nSee the photo.\r\n'
M3=$'From: dave@example.org\r\nSubject: Old news\r\n\r\nRead already.\r\n'

# put_msg SUBDIR BASE FLAGS CONTENT MTIME: a fixture message; prints its base.
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
	# a modseq file that knows none of them yet: they get modseqs 2, 3, 4
	printf 'M1 1700000000 1 1\n' >"$MD/postern-modseq"
	export MD
}

teardown() {
	stop_servers
}

# session NAME: examples/NAME.session through the handler into $out; the
# time-based UIDVALIDITY of folders created in the session becomes <UV>.
session() {
	local name=$1
	out=$BATS_TEST_TMPDIR/$name.out
	log=$BATS_TEST_TMPDIR/$name.log
	"$BIN/postern-imapd" <"$TOP/examples/$name.session" >"$out.raw" 2>"$log" || {
		echo "postern-imapd exited with $?"
		cat "$log"
		return 1
	}
	sed -E '/1700000000/!s/(UIDVALIDITY|COPYUID|APPENDUID) [0-9]+/\1 <UV>/' "$out.raw" >"$out"
}

golden() {
	if ! cmp -s "$TOP/examples/$1.expected" "$out"; then
		diff -u <(cat -A "$TOP/examples/$1.expected") <(cat -A "$out") || true
		cat "$log"
		return 1
	fi
}

@test "ENABLE, LITERAL+, LIST-EXTENDED, LIST-STATUS, CHILDREN, STATUS=SIZE, ESEARCH" {
	session imap-ext-basics
	golden imap-ext-basics
	# every extension tested here is advertised
	for cap in ENABLE LITERAL+ LIST-EXTENDED LIST-STATUS CHILDREN STATUS=SIZE ESEARCH \
		CONDSTORE QRESYNC; do
		grep "^\* CAPABILITY" "$out" | grep -qw -- "$cap"
	done
	# UTF8=ACCEPT does not work yet, so it is not advertised
	! grep -q "UTF8=ACCEPT" "$out"
}

@test "CONDSTORE: MODSEQ, UNCHANGEDSINCE / MODIFIED, CHANGEDSINCE, SEARCH MODSEQ, implicit \\Seen" {
	session imap-ext-condstore
	golden imap-ext-condstore
}

@test "QRESYNC: a reconnect with known UIDVALIDITY/MODSEQ gets only VANISHED and changed FETCHes" {
	session imap-ext-qresync-1
	golden imap-ext-qresync-1
	# meanwhile, without IMAP: POP3-style \Seen by rename, and a delivery
	f=$(ls "$MD/cur/" | grep Q2)
	mv "$MD/cur/$f" "$MD/cur/${f%:2,*}:2,FRS"
	printf 'Subject: new\r\n\r\nnew\r\n' >"$MD/new/1700000009.M9P9Q9.fixture,S=22"
	session imap-ext-qresync-2
	golden imap-ext-qresync-2
	# modseqs only grow and survive in the file, uid 3's expunge is remembered
	grep -q '^M1 1700000000 ' "$MD/postern-modseq"
	grep -q '^- 3 ' "$MD/postern-modseq"
}

@test "CONDSTORE: \\Seen set by POP3 RETR gets a new modseq, seen by CHANGEDSINCE" {
	session imap-ext-qresync-1
	hms=$(awk 'NR==1 {print $3}' "$MD/postern-modseq")
	printf 'USER alice\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n' |
		"$BIN/postern-pop3d" >"$BATS_TEST_TMPDIR/pop3.out" 2>/dev/null
	grep -q '^+OK' "$BATS_TEST_TMPDIR/pop3.out"
	printf 'a LOGIN alice secret\r\nb ENABLE CONDSTORE\r\nc SELECT INBOX\r\nd UID FETCH 1:* (FLAGS) (CHANGEDSINCE %s)\r\ne LOGOUT\r\n' "$hms" |
		"$BIN/postern-imapd" 2>/dev/null | tr -d '\r' >"$BATS_TEST_TMPDIR/o"
	cat "$BATS_TEST_TMPDIR/o"
	# only message 1 changed since, and its modseq is above the old highest
	[ "$(grep -c '^\* [0-9]* FETCH' "$BATS_TEST_TMPDIR/o")" -eq 1 ]
	line=$(grep '^\* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (' "$BATS_TEST_TMPDIR/o")
	ms=$(echo "$line" | sed -E 's/.*MODSEQ \(([0-9]+)\).*/\1/')
	[ "$ms" -gt "$hms" ]
}

@test "modseq file lost: HIGHESTMODSEQ restarts above every earlier one, never at 1" {
	session imap-ext-qresync-1
	before=$(awk 'NR==1 {print $3}' "$MD/postern-modseq")
	rm "$MD/postern-modseq"
	printf 'a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n' |
		"$BIN/postern-imapd" >"$BATS_TEST_TMPDIR/o" 2>/dev/null
	after=$(sed -nE 's/.*HIGHESTMODSEQ ([0-9]+).*/\1/p' "$BATS_TEST_TMPDIR/o" | tr -d '\r')
	[ -n "$after" ]
	[ "$after" -gt "$before" ]
	[ "$after" -gt 1000000000000 ]
}

# idle_py PYTHON: run code with an IDLE helper: imapd on pipes, logged in,
# INBOX selected, IDLE started; expect(regex) waits (bounded) for a line.
idle_py() {
	POSTERN_IDLE_KEEPALIVE=${KEEPALIVE:-} python3 - <<PY
import os, re, select, subprocess, sys, time
BIN = os.environ["POSTERN_BUILD"] if os.environ.get("POSTERN_BUILD") else "$BIN"
MD = os.environ["MD"]
env = dict(os.environ)
p = subprocess.Popen([BIN + "/postern-imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=open(os.environ["BATS_TEST_TMPDIR"] + "/imapd.log", "w"), env=env)
buf = b""
def expect(rx, timeout=10):
    global buf
    deadline = time.monotonic() + timeout
    while True:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            sys.stderr.write("S: %r\n" % line)
            if re.search(rx, line):
                return line
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for %r" % rx
        r, _, _ = select.select([p.stdout], [], [], left)
        if r:
            d = os.read(p.stdout.fileno(), 65536)
            assert d, "EOF waiting for %r" % rx
            buf += d
def send(s):
    p.stdin.write(s.encode() + b"\r\n")
    p.stdin.flush()
def cpu():
    with open("/proc/%d/stat" % p.pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return int(v[11]) + int(v[12])
def reads():
    with open("/proc/%d/io" % p.pid) as f:
        return int(re.search(r"syscr: (\d+)", f.read()).group(1))
send("a LOGIN alice secret")
expect(rb"^a OK")
send("b SELECT INBOX")
expect(rb"^b OK")
send("c IDLE")
expect(rb"^\+ ")
$1
send("DONE")
expect(rb"^c OK IDLE")
send("d LOGOUT")
expect(rb"^d OK")
assert p.wait(10) == 0
PY
}

@test "IDLE: a delivery through postern-smtpd arrives as EXISTS, without a polling loop" {
	idle_py '
c0 = cpu()
smtp = subprocess.run([BIN + "/postern-smtpd"], input=(
    b"EHLO client.example.net\r\nMAIL FROM:<bob@example.net>\r\n"
    b"RCPT TO:<alice@example.org>\r\nDATA\r\nSubject: pushed\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30, env=env)
assert b"250 " in smtp.stdout.split(b"DATA")[0] or b"\r\n250" in smtp.stdout, smtp.stdout
expect(rb"^\* 4 EXISTS$")
expect(rb"^\* 4 RECENT$")
# idle for a while: inotify sleeps, so (almost) no CPU is spent, and
# nothing is read at all (a polling loop would re-read the uid list)
r0 = reads()
for i in range(50):  # settle: the syncs that follow the delivery end
    select.select([], [], [], 0.2)
    r1 = reads()
    if r1 == r0:
        break
    r0 = r1
select.select([p.stdout], [], [], 2.5)
assert reads() == r0, ("read calls while idle", reads() - r0)
assert cpu() - c0 < 50, ("CPU ticks while idle", cpu() - c0)
'
	# the message that arrived is the one postern-smtpd delivered
	grep -l '^Subject: pushed' "$MD"/new/* "$MD"/cur/* >/dev/null
}

@test "IDLE: flag changes and expunges by other processes are pushed; DONE ends it" {
	idle_py '
name = [f for f in os.listdir(MD + "/cur") if "Q2" in f][0]
os.rename(MD + "/cur/" + name, MD + "/cur/" + name.split(":2,")[0] + ":2,FS")
expect(rb"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Seen( \\Recent)?\)\)$")
name = [f for f in os.listdir(MD + "/cur") if "Q3" in f][0]
os.unlink(MD + "/cur/" + name)
expect(rb"^\* 3 EXPUNGE$")
'
}

@test "IDLE: \"* OK Still here\" keepalives; the idle timeout logs out" {
	KEEPALIVE=1 idle_py '
expect(rb"^\* OK Still here$")
expect(rb"^\* OK Still here$")
'
	# imap_timeout ends an IDLE without DONE
	echo "imap_timeout = 2" >>"$POSTERN_CONF"
	python3 - <<PY
import subprocess, time
p = subprocess.Popen(["$BIN/postern-imapd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
p.stdin.write(b"a LOGIN alice secret\r\nb SELECT INBOX\r\nc IDLE\r\n")
p.stdin.flush()
import threading
watchdog = threading.Timer(20, p.kill)
watchdog.start()
out = p.stdout.read()  # stdin stays open: only the idle timeout ends it
watchdog.cancel()
p.stdin.close()
p.wait()
assert b"* BYE Autologout" in out, out
assert b"c OK" not in out, out
PY
}
