#!/usr/bin/env bats
# Real sync clients against postern-imapd on loopback (systemd-socket-
# activate, one process per connection): mbsync (isync) and offlineimap
# each sync several folders with flags both ways, then a change is made on
# each side and a second sync must converge. After every sync the server's
# messages (octets up to CRLF/LF, and flags, per folder, fetched over IMAP)
# must equal the client's local maildir.

load helpers

setup() {
	setup_world
	PORT=$(free_port)
	serve "$PORT" env POSTERN_CONF="$POSTERN_CONF" POSTERN_LOG=stderr \
		POSTERN_FAIL_DELAY_MS=0 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" TZ=UTC "$BIN/postern-imapd"
	L=$BATS_TEST_TMPDIR/local
	mkdir -p "$L"
	export PORT L
	# the server side: three folders, messages with flags
	py '
m = connect()
for f in ("Work", "Lists"):
    ok(m.create(f))
ok(m.append("INBOX", "(\\Seen)", None, msg(1)))
ok(m.append("INBOX", "(\\Flagged)", None, msg(2)))
ok(m.append("INBOX", None, None, msg(3)))
ok(m.append("Work", "(\\Answered \\Seen)", None, msg(4)))
ok(m.append("Work", "(\\Draft)", None, msg(5)))
ok(m.append("Lists", None, None, msg(6)))
m.logout()
'
}

teardown() {
	stop_servers
}

# py CODE: Python with imaplib, connect(), ok(), msg(n) and same(layout):
# the server's folders equal the local maildirs under $L (LAYOUT "dirs":
# $L/<Folder>, INBOX as $L/INBOX).
py() {
	python3 - <<PY
import imaplib, os, re, sys
PORT = int(os.environ["PORT"])
L = os.environ["L"]
def connect():
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    assert m.login("alice", "secret")[0] == "OK"
    return m
def ok(r):
    assert r[0] == "OK", r
    return r[1]
def msg(n):
    return (b"From: Sender %d <s%d@example.net>\r\nTo: alice@example.org\r\n"
            b"Subject: message %d\r\nMessage-ID: <m%d@example.net>\r\n\r\nbody %d\r\n" % (n, n, n, n, n))
LETTERS = {"S": "\\\\Seen", "F": "\\\\Flagged", "R": "\\\\Answered", "T": "\\\\Deleted", "D": "\\\\Draft"}
def strip(data):
    # headers a sync client may add to its local copy
    # and the line ends: maildirs hold LF, IMAP speaks CRLF
    data = data.replace(b"\r\n", b"\n")
    return re.sub(rb"(?im)^(X-TUID|X-OfflineIMAP): [^\n]*\n", b"", data)
def server_state():
    m = connect()
    st = {}
    for line in ok(m.list()):
        name = line.decode().rsplit(' "/" ', 1)[1].strip('"')
        if "\\\\Noselect" in line.decode():
            continue
        ok(m.select('"%s"' % name, readonly=True))
        msgs = []
        typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
            flags = sorted(f for f in flags if f != "\\\\Recent")
            msgs.append((strip(item[1]), tuple(flags)))
        st[name] = sorted(msgs)
        m.close()
    m.logout()
    return st
def local_state(root, sub):
    st = {}
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(os.path.join(d, "cur")):
            continue
        msgs = []
        for s in ("new", "cur"):
            for f in os.listdir(os.path.join(d, s)):
                data = open(os.path.join(d, s, f), "rb").read()
                letters = f.rsplit(":2,", 1)[1] if ":2," in f else ""
                flags = sorted(LETTERS[c] for c in letters if c in LETTERS)
                msgs.append((strip(data), tuple(flags)))
        st[sub(name)] = sorted(msgs)
    return st
def same(sub=lambda n: n):
    s, l = server_state(), local_state(L, sub)
    for k in sorted(set(s) | set(l)):
        if s.get(k) != l.get(k):
            sys.stderr.write("folder %s differs:\n server %r\n local  %r\n" % (k, s.get(k), l.get(k)))
    assert s == l
    return s
$1
PY
}

# local_flag DIR PATTERN LETTERS: give the local message whose contents
# match PATTERN the maildir flags LETTERS.
local_flag() {
	local f
	f=$(grep -l "$2" "$1"/cur/* "$1"/new/* 2>/dev/null | head -1)
	[ -n "$f" ]
	mv "$f" "$1/cur/$(basename "${f%%:2,*}"):2,$3"
}

server_changes() {
	py '
m = connect()
ok(m.select("INBOX"))
typ, d = m.search(None, "SUBJECT", "\"message 3\"")
ok(m.store(d[0].split()[0], "+FLAGS", "(\\Answered \\Seen)"))
typ, d = m.search(None, "SUBJECT", "\"message 1\"")
ok(m.store(d[0].split()[0], "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
ok(m.append("Lists", "(\\Flagged)", None, msg(8)))
m.logout()
'
}

@test "mbsync: two-way sync of several folders with flags converges after changes on both sides" {
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
	py 'st = same(); assert len(st["INBOX"]) == 3 and len(st["Work"]) == 2, st'
	# a change on each side: local flag + new local message; server flag,
	# expunge and a new message
	local_flag "$L/Work" "message 5" "DF"
	printf 'From: me@example.org\r\nSubject: message 7\r\n\r\nbody 7\r\n' >"$L/Work/new/1700000007.local"
	server_changes
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	py '
st = same()
assert len(st["INBOX"]) == 2 and len(st["Work"]) == 3 and len(st["Lists"]) == 2, st
assert any(b"message 3" in d and f == ("\\Answered", "\\Seen") for d, f in st["INBOX"]), st
assert any(b"message 5" in d and f == ("\\Draft", "\\Flagged") for d, f in st["Work"]), st
'
	# a third run changes nothing
	mbsync -q -c "$BATS_TEST_TMPDIR/mbsyncrc" c
	py 'same()'
}

@test "offlineimap: two-way sync of several folders with flags converges after changes on both sides" {
	command -v offlineimap >/dev/null || skip "offlineimap is not installed"
	cat >"$BATS_TEST_TMPDIR/offlineimaprc" <<RC
[general]
accounts = t
metadata = $BATS_TEST_TMPDIR/offlineimap-meta
ui = quiet

[Account t]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = $L
sep = /

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = $PORT
remoteuser = alice
remotepass = secret
ssl = no
starttls = no
RC
	oi() { timeout 120 offlineimap -c "$BATS_TEST_TMPDIR/offlineimaprc" -o -u quiet; }
	oi
	py 'st = same(); assert len(st["INBOX"]) == 3 and len(st["Work"]) == 2, st'
	local_flag "$L/Work" "message 5" "DF"
	printf 'From: me@example.org\r\nSubject: message 7\r\n\r\nbody 7\r\n' >"$L/Work/new/1700000007_0.local"
	server_changes
	oi
	py '
st = same()
assert len(st["INBOX"]) == 2 and len(st["Work"]) == 3 and len(st["Lists"]) == 2, st
assert any(b"message 3" in d and f == ("\\Answered", "\\Seen") for d, f in st["INBOX"]), st
assert any(b"message 5" in d and f == ("\\Draft", "\\Flagged") for d, f in st["Work"]), st
'
	oi
	py 'same()'
}

# imapflow from npm (a QRESYNC client): $POSTERN_NODE_DIR or build/node,
# installed there on first use; skipped when npm cannot fetch it.
imapflow_dir() {
	NODE_DIR=${POSTERN_NODE_DIR:-$TOP/build/node}
	command -v node >/dev/null || skip "node is not installed"
	if [ ! -d "$NODE_DIR/node_modules/imapflow" ]; then
		mkdir -p "$NODE_DIR"
		timeout 300 npm install --prefix "$NODE_DIR" --no-audit --no-fund imapflow@1.0.171 \
			>"$BATS_TEST_TMPDIR/npm.log" 2>&1 || skip "cannot install imapflow from npm"
	fi
}

@test "imapflow (QRESYNC): a reconnect with known UIDVALIDITY/MODSEQ gets only VANISHED and changed flags" {
	imapflow_dir
	flow() { NODE_PATH=$NODE_DIR/node_modules timeout 60 node "$TOP/tests/helpers/imapflow-qresync.js" "$PORT" "$@"; }
	flow >"$BATS_TEST_TMPDIR/first.json"
	# changes while the client is away: a flag, an expunge, a new message
	py '
m = connect()
ok(m.select("INBOX"))
ok(m.uid("STORE", "2", "+FLAGS", "(\\Answered)"))
ok(m.uid("STORE", "1", "+FLAGS", "(\\Deleted)"))
ok(m.expunge())
ok(m.append("INBOX", "(\\Seen)", None, msg(9)))
m.logout()
'
	uv=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["uidValidity"])' <"$BATS_TEST_TMPDIR/first.json")
	ms=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["highestModseq"])' <"$BATS_TEST_TMPDIR/first.json")
	flow "$uv" "$ms" >"$BATS_TEST_TMPDIR/second.json"
	cat "$BATS_TEST_TMPDIR/first.json" "$BATS_TEST_TMPDIR/second.json"
	python3 - "$BATS_TEST_TMPDIR/first.json" "$BATS_TEST_TMPDIR/second.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert "QRESYNC" in a["enabled"] and "CONDSTORE" in a["enabled"], a
assert "UTF8=ACCEPT" not in a["enabled"], a
assert [m["uid"] for m in a["messages"]] == [1, 2, 3], a
assert b["uidValidity"] == a["uidValidity"]
assert int(b["highestModseq"]) > int(a["highestModseq"]), (a, b)
# SELECT (QRESYNC ...): uid 1 vanished (EARLIER), uid 2's flags changed
# (imapflow reports VANISHED (EARLIER) of both the SELECT and the UID FETCH
# ... VANISHED, and FETCH responses as flag events too)
assert {"uid": 1, "vanished": True, "earlier": True} in b["events"]["vanished"], b
assert {e["uid"] for e in b["events"]["vanished"]} == {1}, b
assert (2, ["\\Answered", "\\Flagged"]) in [(e["uid"], e["flags"]) for e in b["events"]["flags"]], b
assert {e["uid"] for e in b["events"]["flags"]} <= {2, 4}, b
# UID FETCH 1:* CHANGEDSINCE: only the changed and the new message
assert [(m["uid"], m["flags"]) for m in b["messages"]] == [(2, ["\\Answered", "\\Flagged"]), (4, ["\\Seen"])], b
assert all(int(m["modseq"]) > int(a["highestModseq"]) for m in b["messages"]), b
PY
}
