#!/usr/bin/env bats
# postern-imapd driven by Python's imaplib through systemd-socket-activate
# on loopback (per-connection spawn, as systemd does): folders, APPEND,
# COPY, STORE, SEARCH, EXPUNGE, partial fetches, BODYSTRUCTURE, and two
# concurrent sessions seeing each other's changes at command boundaries.

load helpers

setup() {
	setup_world
	MD=$W/mail/example.org/alice
	# alice has a mailbox already (a new user would get the special folders)
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	PORT=$(free_port)
	# systemd-socket-activate passes no environment: hand it over with env
	serve "$PORT" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		POSTERN_FAIL_DELAY_MS=0 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" TZ=UTC "$BIN/postern-imapd"
	export PORT MD
}

teardown() {
	stop_servers
}

# imap PYTHON-CODE: run code with imaplib imported and connect() logging in
# as alice. Every check is an assert; a failed one fails the test.
imap() {
	python3 - <<PY
import imaplib, os, re, sys, time
PORT = int(os.environ["PORT"])
MD = os.environ["MD"]
def connect(user="alice", password="secret"):
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    typ, _ = m.login(user, password)
    assert typ == "OK"
    return m
def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data
MSG1 = (b"From: Bob <bob@example.net>\r\nTo: alice@example.org\r\n"
        b"Subject: Meeting tomorrow\r\nDate: Tue, 14 Nov 2023 22:13:21 +0000\r\n"
        b"Message-ID: <m1@example.net>\r\n\r\nLet us meet at noon.\r\nBob\r\n")
MSG2 = (b"From: carol@example.org\r\nTo: alice@example.org\r\nSubject: Photos\r\n"
        b"Date: Wed, 15 Nov 2023 08:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
        b"--xx\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the photo.\r\n"
        b"--xx\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"iVBORw0KGgo=\r\n--xx--\r\n")
$1
PY
}

@test "imaplib: create, list, rename, delete folders; status" {
	imap '
m = connect()
ok(m.create("Archive"))
ok(m.create("Archive/2023"))
ok(m.create("Drafts"))
names = [l.decode() for l in ok(m.list())]
assert any(n.endswith(" \"/\" \"Archive/2023\"") for n in names), names
assert any("\\HasChildren" in n and n.endswith("\"Archive\"") for n in names), names
assert any(n.endswith("\"INBOX\"") for n in names), names
ok(m.rename("Archive", "Old"))
names = [l.decode() for l in ok(m.list("\"\"", "Old/*"))]
assert names == ["(\\HasNoChildren) \"/\" \"Old/2023\""], names
assert m.create("Drafts")[0] == "NO"
assert m.select("Archive")[0] == "NO"
ok(m.delete("Drafts"))
assert not any("Drafts" in l.decode() for l in ok(m.list()))
st = ok(m.status("Old/2023", "(MESSAGES UIDNEXT UNSEEN)"))[0].decode()
assert st == "\"Old/2023\" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)", st
m.logout()
'
	[ -d "$MD/.Old.2023/cur" ] && [ ! -e "$MD/.Archive" ] && [ ! -e "$MD/.Drafts" ]
}

@test "imaplib: APPEND, FETCH (whole, partial, header fields), STORE, SEARCH, COPY, EXPUNGE" {
	imap '
m = connect()
r = ok(m.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(1700000000), MSG1))
assert re.search(rb"APPENDUID \d+ 1\]", r[0]), r
ok(m.append("INBOX", None, None, MSG2))
n = int(ok(m.select("INBOX"))[0])
assert n == 2, n
# whole message, byte-exact, and its size
d = ok(m.fetch("1", "(RFC822.SIZE BODY.PEEK[] INTERNALDATE)"))
assert d[0][1] == MSG1, d
assert b"RFC822.SIZE %d" % len(MSG1) in d[0][0], d
assert d[1] == b" INTERNALDATE \"14-Nov-2023 22:13:20 +0000\")", d
# PEEK did not set \Seen
assert b"\\Seen" not in ok(m.fetch("1", "FLAGS"))[0]
# partial fetch
d = ok(m.fetch("1", "(BODY.PEEK[]<6.3>)"))
assert d[0][0].endswith(b"BODY[]<6> {3}") and d[0][1] == b"Bob", d
d = ok(m.fetch("1", "(BODY.PEEK[TEXT]<100.10>)"))
assert d[0][1] == b"", d
# header fields
d = ok(m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])"))
assert d[0][1] == b"From: Bob <bob@example.net>\r\nSubject: Meeting tomorrow\r\n\r\n", d
d = ok(m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM DATE MESSAGE-ID)])"))
assert d[0][1] == b"To: alice@example.org\r\n\r\n", d
# a non-PEEK fetch sets \Seen and says so
d = ok(m.fetch("2", "(BODY[TEXT])"))
assert b"FLAGS (\\Seen" in d[0][0] or b"\\Seen" in d[1], d
# STORE
d = ok(m.store("1", "+FLAGS", "(\\Answered $Label1)"))
assert b"\\Answered" in d[0] and b"$Label1" in d[0] and b"\\Flagged" in d[0], d
d = ok(m.store("1", "-FLAGS", "(\\Flagged)"))
assert b"\\Flagged" not in d[0], d
ok(m.store("2", "+FLAGS.SILENT", "(\\Deleted)"))
# SEARCH
assert ok(m.search(None, "ALL"))[0] == b"1 2"
assert ok(m.search(None, "SUBJECT", "meeting"))[0] == b"1"
assert ok(m.search(None, "FROM", "CAROL"))[0] == b"2"
assert ok(m.search(None, "BODY", "photo"))[0] == b"2"
assert ok(m.search(None, "TEXT", "noon"))[0] == b"1"
assert ok(m.search(None, "DELETED"))[0] == b"2"
assert ok(m.search(None, "UNSEEN"))[0] == b"1"
assert ok(m.search(None, "KEYWORD", "$Label1"))[0] == b"1"
assert ok(m.search(None, "OR", "ANSWERED", "DELETED"))[0] == b"1 2"
assert ok(m.search(None, "NOT", "(ANSWERED)"))[0] == b"2"
assert ok(m.search(None, "SENTBEFORE", "15-Nov-2023"))[0] == b"1"
assert ok(m.search(None, "SENTON", "15-Nov-2023"))[0] == b"2"
assert ok(m.search(None, "BEFORE", "15-Nov-2023"))[0] == b"1"
assert ok(m.search(None, "LARGER", str(len(MSG1))))[0] == b"2"
assert ok(m.search(None, "HEADER", "Message-ID", "m1@"))[0] == b"1"
assert ok(m.search("UTF-8", "SUBJECT", "Photos"))[0] == b"2"
# encoded words are decoded before matching (RFC 2047, any charset iconv knows)
ok(m.append("INBOX", None, None, b"Subject: =?ISO-8859-1?Q?Caf=E9?= =?utf-8?B?w6AgbGE=?= carte\r\n\r\nx\r\n"))
ok(m.noop())
# (white space between two encoded words is not part of the text)
m.literal = "caféà la carte".encode()
assert ok(m.search("UTF-8", "SUBJECT"))[0] == b"3"
m.literal = "é à".encode()
assert ok(m.search("UTF-8", "SUBJECT"))[0] == b""
ok(m.store("3", "+FLAGS.SILENT", "(\\Seen)"))
# bodies are searched after undoing base64 / quoted-printable and charsets
import base64
ok(m.append("INBOX", None, None,
    b"Subject: enc\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode("Grüße aus Köln".encode()) + b"\r\n"
    b"--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Cr=E8me br=FBl=\r\ne\r\n--b--\r\n"))
ok(m.noop())
m.literal = "grüße aus köln".encode()
assert ok(m.search("UTF-8", "BODY"))[0] == b"4"
m.literal = "crème brûle".encode()
assert ok(m.search("UTF-8", "TEXT"))[0] == b"4"
assert ok(m.search(None, "BODY", "Cr=E8me"))[0] == b"4"
ok(m.store("4", "+FLAGS.SILENT", "(\\Seen)"))
assert ok(m.uid("SEARCH", None, "UID", "2:*"))[0] == b"2 3 4"
assert ok(m.search(None, "2"))[0] == b"2"
# COPY with COPYUID, keywords follow the message
ok(m.create("Saved"))
r = ok(m.copy("1:2", "Saved"))
assert re.search(rb"\[COPYUID \d+ 1:2|\[COPYUID \d+ 1,2 1,2\]", r[0]), r
assert m.copy("1", "Nosuch")[0] == "NO"
# EXPUNGE reports the deleted message
d = ok(m.expunge())
assert d == [b"2"], d
assert ok(m.search(None, "ALL"))[0] == b"1 2 3"
ok(m.select("Saved"))
d = ok(m.fetch("1:2", "(FLAGS)"))
assert b"$Label1" in d[0] and b"\\Answered" in d[0], d
assert b"\\Deleted" in d[1], d
ok(m.close())
m.logout()
'
}

@test "imaplib: BODYSTRUCTURE and part fetches of a multipart message" {
	imap '
m = connect()
ok(m.append("INBOX", None, None, MSG2))
ok(m.select("INBOX", readonly=True))
d = ok(m.fetch("1", "(BODYSTRUCTURE)"))[0]
assert d.startswith(b"1 (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\")"), d
assert b"(\"image\" \"png\" NIL NIL NIL \"base64\" 12 NIL" in d, d
assert b"\"mixed\" (\"boundary\" \"xx\")" in d, d
d = ok(m.fetch("1", "(BODY[1] BODY[2] BODY[2.MIME] BODY[1]<4.3>)"))
assert d[0][1] == b"See the photo.", d
assert d[1][1] == b"iVBORw0KGgo=", d
assert d[2][1] == b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n", d
assert d[3][1] == b"the", d
# EXAMINE: read-only, a body fetch does not set \Seen
assert b"\\Seen" not in ok(m.fetch("1", "FLAGS"))[0]
m.logout()
'
}

@test "imaplib: two sessions (and direct maildir changes) seen as EXISTS, FETCH FLAGS, EXPUNGE after NOOP" {
	imap '
a = connect()
b = connect()
ok(a.append("INBOX", None, None, MSG1))
ok(a.append("INBOX", None, None, MSG2))
ok(a.select("INBOX"))
ok(b.select("INBOX"))
a.untagged_responses.clear()
# b delivers a third message; a sees EXISTS at its next command
ok(b.append("INBOX", None, None, MSG1.replace(b"noon", b"three")))
ok(a.noop())
assert a.response("EXISTS")[1] == [b"3"], a.untagged_responses
# b flags message 2; a sees FETCH FLAGS
ok(b.store("2", "+FLAGS", "(\\Flagged)"))
ok(a.noop())
f = a.response("FETCH")[1]
assert any(x.startswith(b"2 (") and b"\\Flagged" in x for x in f), f
# b expunges message 1; no EXPUNGE to a during FETCH, but after NOOP
ok(b.store("1", "+FLAGS", "(\\Deleted)"))
ok(b.expunge())
d = ok(a.fetch("1:*", "(UID)"))
assert a.response("EXPUNGE")[1] == [None], a.untagged_responses
ok(a.noop())
assert a.response("EXPUNGE")[1] == [b"1"], a.untagged_responses
d = ok(a.fetch("1:*", "(UID)"))
assert [x.decode() for x in d] == ["1 (UID 2)", "2 (UID 3)"], d
# several expunged at once: numbers stay right (highest first)
ok(b.store("1:2", "+FLAGS", "(\\Deleted)"))
ok(b.expunge())
ok(a.noop())
assert a.response("EXPUNGE")[1] == [b"2", b"1"], a.untagged_responses
assert ok(a.search(None, "ALL")) == [b""]
# changes made straight in the maildir (POP3, a local MUA, a delivery)
ok(b.append("INBOX", None, None, MSG1))
ok(b.append("INBOX", None, None, MSG2))
ok(a.noop())
a.untagged_responses.clear()
import glob
f1, f2 = sorted(glob.glob(MD + "/cur/*"))
os.rename(f1, f1[:f1.index(":2,")] + ":2,FS")   # flags changed by a MUA
os.unlink(f2)                                    # deleted by POP3
with open(MD + "/new/1800000000.M1P1Q1.test,S=%d" % len(MSG1), "wb") as f:
    f.write(MSG1)                                # delivered
ok(a.noop())
assert a.response("EXPUNGE")[1] == [b"2"], a.untagged_responses
assert a.response("EXISTS")[1] == [b"2"], a.untagged_responses
f = a.response("FETCH")[1]
assert any(x.startswith(b"1 (") and b"\\Flagged \\Seen" in x for x in f), f
assert ok(a.search(None, "NEW")) == [b"2"]
a.logout()
b.logout()
'
}

@test "imaplib: AUTHENTICATE PLAIN and a wrong password" {
	imap '
m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
try:
    m.login("alice", "wrong")
    raise SystemExit("login with a wrong password succeeded")
except imaplib.IMAP4.error:
    pass
typ, _ = m.authenticate("PLAIN", lambda _: b"\0alice\0secret")
assert typ == "OK"
ok(m.select("INBOX"))
m.logout()
'
}

@test "IDLE: a delivery by another session arrives as EXISTS while idling; DONE ends it" {
	imap '
import socket
a = socket.create_connection(("127.0.0.1", PORT), timeout=30)
f = a.makefile("rb")
def line():
    l = f.readline()
    assert l, "connection closed"
    return l
assert line().startswith(b"* OK")
a.sendall(b"1 LOGIN alice secret\r\n2 SELECT INBOX\r\n3 IDLE\r\n")
while not line().startswith(b"2 OK"):
    pass
assert line() == b"+ idling\r\n"
b = connect()
ok(b.append("INBOX", None, None, MSG1))
assert line() == b"* 1 EXISTS\r\n"
assert line() == b"* 1 RECENT\r\n"
a.sendall(b"DONE\r\n")
assert line().startswith(b"3 OK")
a.sendall(b"4 LOGOUT\r\n")
assert line().startswith(b"* BYE")
b.logout()
'
}

@test "STARTTLS and implicit TLS (--tls): LOGIN only after encryption when plaintext is off" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example.org \
		-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
	sed -i 's/^allow_plaintext_auth = yes/allow_plaintext_auth = no/' "$W/postern.conf"
	printf 'tls_cert = %s\ntls_key = %s\n' "$W/cert.pem" "$W/key.pem" >>"$W/postern.conf"
	# a peer that is not loopback (passwords need TLS there)
	TLSPORT=$(free_port)
	serve "$TLSPORT" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr POSTERN_PEER=192.0.2.7 \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$BIN/postern-imapd" --tls
	PORT=$(free_port)
	serve "$PORT" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr POSTERN_PEER=192.0.2.7 \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "$BIN/postern-imapd"
	export TLSPORT PORT
	imap '
import ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
assert "LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities, m.capabilities
try:
    m.login("alice", "secret")
    raise SystemExit("plaintext LOGIN accepted")
except imaplib.IMAP4.error:
    pass
ok(m.starttls(ssl_context=ctx))
assert "STARTTLS" not in m.capabilities and "AUTH=PLAIN" in m.capabilities, m.capabilities
ok(m.login("alice", "secret"))
ok(m.select("INBOX"))
m.logout()
# a command pipelined behind STARTTLS is dropped, never run (CVE-2011-0411)
import socket
raw = socket.create_connection(("127.0.0.1", PORT), timeout=30)
rf = raw.makefile("rb")
assert rf.readline().startswith(b"* OK")
raw.sendall(b"a STARTTLS\r\nb LOGIN alice secret\r\n")
assert rf.readline().startswith(b"a OK"), "no STARTTLS OK"
t = ctx.wrap_socket(raw, server_hostname="mx.example.org")
t.sendall(b"c NOOP\r\n")
tf = t.makefile("rb")
line = tf.readline()
assert line.startswith(b"c OK"), line
t.sendall(b"d LOGOUT\r\n")
rest = tf.read()
assert b"b " not in rest and b"d OK" in rest, rest
t.close()
s = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["TLSPORT"]), ssl_context=ctx, timeout=30)
assert "STARTTLS" not in s.capabilities
ok(s.login("alice", "secret"))
s.logout()
'
}

@test "mbsync (isync): two-way sync of folders, new messages, flags and deletions" {
	imap '
m = connect()
ok(m.create("Work"))
ok(m.append("INBOX", None, None, MSG1))
ok(m.append("Work", "(\\Flagged)", None, MSG2))
m.logout()
'
	L=$BATS_TEST_TMPDIR/local
	mkdir -p "$L"
	cat >"$BATS_TEST_TMPDIR/mbsyncrc" <<RC
IMAPAccount t
Host 127.0.0.1
Port $PORT
User alice
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account t

MaildirStore local
Path $L/
Inbox $L/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
RC
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	[ "$(ls "$L/INBOX/new" "$L/INBOX/cur" | grep -c ,U=)" -eq 1 ]
	ls "$L/Work/cur" "$L/Work/new" | grep -q ',U=1:2,F$'
	# a message written locally goes up; a local \Deleted one is expunged up there
	printf 'Subject: local\r\n\r\nfrom local\r\n' >"$L/INBOX/new/1.local"
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	[ "$(count_files "$MD/cur") $(count_files "$MD/new")" = "2 0" ]
	grep -l 'from local' "$MD"/cur/* >/dev/null
	f=$(ls "$L"/Work/*/*,U=1:2,F)
	mv "$f" "$L/Work/cur/$(basename "${f%:2,F}"):2,FT"
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	[ "$(count_files "$MD/.Work/cur") $(count_files "$MD/.Work/new")" = "0 0" ]
	# a second run changes nothing (no duplicates)
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	[ "$(count_files "$MD/cur")" -eq 2 ]
	[ "$(ls "$L/INBOX/new" "$L/INBOX/cur" | grep -c ,U=)" -eq 2 ]
}

@test "mutt: open INBOX over IMAP, copy to a folder, delete, sync" {
	command -v mutt >/dev/null || skip "mutt is not installed"
	imap '
m = connect()
ok(m.create("Archive"))
ok(m.append("INBOX", None, None, b"From: bob@example.net\r\nSubject: keep me\r\n\r\nbody one\r\n"))
ok(m.append("INBOX", None, None, b"From: bob@example.net\r\nSubject: delete me\r\n\r\nbody two\r\n"))
m.logout()
'
	cat >"$BATS_TEST_TMPDIR/muttrc" <<RC
set folder="imap://alice@127.0.0.1:$PORT/"
set imap_pass="secret"
set spoolfile="+INBOX"
set ssl_starttls=no
set ssl_force_tls=no
set confirmappend=no
set delete=yes
set move=no
set header_cache=""
set message_cachedir=""
RC
	# mutt needs a terminal: script(1) gives it a pty; keys are pushed
	TERM=vt100 timeout 60 script -qec "mutt -n -F $BATS_TEST_TMPDIR/muttrc -e 'push \
<tag-pattern>~s\"keep\"<enter><tag-prefix><copy-message>=Archive<enter>\
<delete-pattern>~s\"delete\"<enter><sync-mailbox><quit>'" /dev/null >"$BATS_TEST_TMPDIR/mutt.out" 2>&1
	[ "$(count_files "$MD/cur")" -eq 1 ]
	grep -q 'keep me' "$MD"/cur/*
	[ "$(count_files "$MD/.Archive/cur")" -eq 1 ]
	grep -q 'keep me' "$MD"/.Archive/cur/*
}

@test "a new user gets Sent, Drafts, Trash, Junk, Archive, subscribed and flagged (SPECIAL-USE)" {
	imap '
m = connect("bob@example.net", "hunter2")
assert "SPECIAL-USE" in m.capabilities or b"SPECIAL-USE" in ok(m.capability())[0], m.capabilities
names = [l.decode() for l in ok(m.list())]
for name, attr in (("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"),
                   ("Junk", "\\Junk"), ("Archive", "\\Archive")):
    assert "(\\HasNoChildren %s) \"/\" \"%s\"" % (attr, name) in names, (name, names)
subs = [l.decode() for l in ok(m.lsub())]
assert len(subs) == 5, subs
m.logout()
# the second login creates nothing new
m = connect("bob@example.net", "hunter2")
ok(m.delete("Junk"))
m.logout()
m = connect("bob@example.net", "hunter2")
assert not any("Junk" in l.decode() for l in ok(m.list()))
m.logout()
'
	[ -d "$W/mail/example.net/bob/.Sent/cur" ] && [ ! -e "$W/mail/example.net/bob/.Junk" ]
}

@test "imaplib: MOVE and UID MOVE report COPYUID and EXPUNGE; a concurrent session sees the expunge" {
	imap '
a = connect()
b = connect()
ok(a.create("Dest"))
for i in range(4):
    ok(a.append("INBOX", None, None, MSG1.replace(b"noon", b"noon %d" % i)))
ok(a.select("INBOX"))
ok(b.select("INBOX"))
b.untagged_responses.clear()
typ, d = a._simple_command("MOVE", "2:3", "Dest")
assert typ == "OK", (typ, d)
assert a.response("EXPUNGE")[1] == [b"3", b"2"], a.untagged_responses
cu = [x for x in a.response("OK")[1] if x and b"COPYUID" in x]
assert cu and re.search(rb"\[COPYUID \d+ 2:3|\[COPYUID \d+ 2,3 1,2\]", cu[0]), cu
typ, d = a.uid("MOVE", "4", "Dest")
assert typ == "OK", (typ, d)
assert a.response("EXPUNGE")[1] == [b"2"], a.untagged_responses
assert ok(a.search(None, "ALL")) == [b"1"]
assert a._simple_command("MOVE", "1", "Nosuch")[0] == "NO"
ok(b.noop())
assert b.response("EXPUNGE")[1] == [b"4", b"3", b"2"], b.untagged_responses
ok(a.select("Dest", readonly=True))
d = ok(a.fetch("1:*", "(UID BODY.PEEK[TEXT])"))
assert [x[1] for x in d if isinstance(x, tuple)] == [b"Let us meet at noon %d.\r\nBob\r\n" % i for i in (1, 2, 3)], d
assert a._simple_command("MOVE", "1", "INBOX")[0] == "NO"
a.logout()
b.logout()
'
}

@test "two sessions racing to MOVE the same messages: each lands in the target exactly once" {
	imap '
import threading
a = connect()
b = connect()
ok(a.create("Dest"))
N = 40
for i in range(N):
    ok(a.append("INBOX", None, None, MSG1.replace(b"noon", b"noon %d" % i)))
ok(a.select("INBOX"))
ok(b.select("INBOX"))
start = threading.Barrier(2)
won = {"a": [], "b": []}
def mover(m, who):
    for uid in range(1, N + 1):
        start.wait(timeout=30)
        m.untagged_responses.clear()
        typ, d = m.uid("MOVE", str(uid), "Dest")
        cu = [x for x in (m.untagged_responses.get("OK") or []) if x and b"COPYUID" in x]
        if typ == "OK" and cu:
            won[who].append(uid)
        else:
            # the other session got there first: EXPUNGEISSUED, nothing copied
            assert typ == "NO" or not cu, (typ, d)
ta = threading.Thread(target=mover, args=(a, "a"))
tb = threading.Thread(target=mover, args=(b, "b"))
ta.start(); tb.start(); ta.join(); tb.join()
both = sorted(won["a"] + won["b"])
assert both == list(range(1, N + 1)), won
ok(a.select("INBOX"))
assert ok(a.search(None, "ALL")) == [b""], "INBOX not empty"
ok(a.select("Dest", readonly=True))
d = ok(a.fetch("1:*", "(BODY.PEEK[TEXT])"))
bodies = sorted(x[1] for x in d if isinstance(x, tuple))
assert bodies == sorted(b"Let us meet at noon %d.\r\nBob\r\n" % i for i in range(N)), len(bodies)
a.logout()
b.logout()
'
	# the disk agrees: N files in Dest, none left in its tmp/
	[ "$(ls "$MD/.Dest/cur" | wc -l)" -eq 40 ]
	[ "$(ls "$MD/.Dest/tmp" | wc -l)" -eq 0 ]
}

@test "fetchmail over IMAP: fetches every message to an MDA, then deletes them on the server" {
	imap '
m = connect()
ok(m.append("INBOX", None, None, MSG1))
ok(m.append("INBOX", None, None, MSG2))
m.logout()
'
	cat >"$BATS_TEST_TMPDIR/fetchmailrc" <<RC
set no bouncemail
poll 127.0.0.1 protocol IMAP port $PORT user alice password secret sslproto "" mda "cat >> $BATS_TEST_TMPDIR/out.mbox" no keep fetchall
RC
	chmod 600 "$BATS_TEST_TMPDIR/fetchmailrc"
	HOME=$BATS_TEST_TMPDIR fetchmail -f "$BATS_TEST_TMPDIR/fetchmailrc" --nosyslog >"$BATS_TEST_TMPDIR/fetchmail.log" 2>&1
	grep -q '^Subject: Meeting tomorrow' "$BATS_TEST_TMPDIR/out.mbox"
	grep -q '^Subject: Photos' "$BATS_TEST_TMPDIR/out.mbox"
	grep -q '^iVBORw0KGgo=' "$BATS_TEST_TMPDIR/out.mbox"
	[ "$(count_files "$MD/cur") $(count_files "$MD/new")" = "0 0" ]
}
