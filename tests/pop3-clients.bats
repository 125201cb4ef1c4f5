#!/usr/bin/env bats
# postern-pop3d driven by real clients through systemd-socket-activate on
# loopback: Python poplib, curl, mpop and fetchmail, over a mailbox of
# mixed messages (plain, multipart, 8-bit, dot lines, a large one).

load helpers

# A test CA and a server certificate for STLS and POP3S (openssl CLI).
setup_file() {
	make_test_pki "$BATS_FILE_TMPDIR/pki"
	export PKI=$BATS_FILE_TMPDIR/pki
}

setup() {
	setup_world
	MD=$W/mail/example.org/alice
	ORIG=$BATS_TEST_TMPDIR/orig
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp" "$ORIG"
	# messages stored as they travel: CRLF; originals kept for comparison
	python3 - "$MD" "$ORIG" <<'PY'
import os, random, sys
md, orig = sys.argv[1], sys.argv[2]
rnd = random.Random(1939)
def b64lines(n):
    import base64
    data = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(n))).decode()
    return "\r\n".join(data[i:i + 76] for i in range(0, len(data), 76))
msgs = [
    # plain, with a 998-octet line
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: plain\r\n"
    "Message-ID: <plain@test>\r\n\r\nHello Alice.\r\n" + "x" * 998 + "\r\nBye.\r\n",
    # multipart with a base64 attachment
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: multipart\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n"
    "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64lines(6000) + "\r\n--b1--\r\nepilogue\r\n",
    # 8-bit body (UTF-8 and raw Latin-1 octets)
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: 8bit\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Gr\u00fc\u00dfe, na\u00efve caf\u00e9 \u2603\r\n",
    # dot lines, including a lone "." that would end an unstuffed response
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n"
    ".\r\n..\r\n.hidden\r\nend.\r\n.\r\n\r\n.\r\nlast\r\n",
    # headers only
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: headers only\r\n",
    # large: about 6 MB
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: large\r\n"
    "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64lines(4500000) + "\r\n",
]
extra = b"\xe9\xff raw latin-1\r\n"
for i, m in enumerate(msgs, 1):
    data = m.encode("utf-8")
    if i == 3:
        data += extra
    base = "17000000%02d.M%dP1Q%d.mixed,S=%d" % (i, i, i, len(data))
    with open(os.path.join(md, "new", base), "wb") as f:
        f.write(data)
    with open(os.path.join(orig, "%d.eml" % i), "wb") as f:
        f.write(data)
PY
	PORT=$(free_port)
	serve "$PORT" "$BIN/postern-pop3d"
	export PORT MD ORIG
}

teardown() {
	stop_servers
}

# pop PYTHON-CODE: run code with poplib imported, `connect()` logging in as
# alice, and `originals` (content -> number) loaded.
pop() {
	python3 - <<PY
import glob, hashlib, os, poplib, socket, sys, time
PORT = int(os.environ["PORT"])
MD = os.environ["MD"]
originals = {}
for p in glob.glob(os.environ["ORIG"] + "/*.eml"):
    originals[open(p, "rb").read()] = p
def connect(user="alice", password="secret"):
    p = poplib.POP3("127.0.0.1", PORT, timeout=30)
    p.user(user)
    p.pass_(password)
    return p
def content(lines):
    return b"".join(l + b"\r\n" for l in lines)
def files():
    return sorted(os.listdir(MD + "/new") + os.listdir(MD + "/cur"))
$1
PY
}

@test "poplib: STAT, LIST, RETR of every message byte-exact" {
	pop '
p = connect()
n, size = p.stat()
assert n == len(originals), (n, len(originals))
assert size == sum(len(o) for o in originals), size
resp, listing, _ = p.list()
seen = set()
for entry in listing:
    num, octets = entry.split()
    resp, lines, got = p.retr(int(num))
    assert resp == b"+OK " + octets + b" octets", resp
    data = content(lines)
    assert data in originals, "message %s differs from every original" % num
    assert len(data) == int(octets)
    seen.add(data)
assert len(seen) == len(originals)
p.quit()
'
}

@test "poplib: TOP returns headers, blank line and n body lines" {
	pop '
p = connect()
for num in range(1, len(originals) + 1):
    full = content(p.retr(num)[1])
    head, sep, body = full.partition(b"\r\n\r\n")
    for n in (0, 1, 3):
        top = content(p.top(num, n)[1])
        if not sep:
            assert top == full, num
            continue
        want = head + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in body.split(b"\r\n")[:-1][:n])
        assert top == want, (num, n, top[:200], want[:200])
p.quit()
'
}

@test "poplib: UIDL values are distinct, uid+uidvalidity, stable across sessions" {
	pop '
p = connect()
first = p.uidl()[1]
one = p.uidl(2)
p.quit()
assert len(first) == len(originals)
uids = [l.split()[1] for l in first]
assert len(set(uids)) == len(uids)
for u in uids:
    assert len(u) == 16 and all(c in b"0123456789ABCDEF" for c in u), u
assert one.split()[2] == uids[1], one
# the uidvalidity half is the same for all, the uid half grows
assert len({u[8:] for u in uids}) == 1
assert [int(u[:8], 16) for u in uids] == sorted(int(u[:8], 16) for u in uids)
p = connect()
assert p.uidl()[1] == first
p.quit()
'
}

@test "poplib: DELE + QUIT removes exactly the deleted messages" {
	pop '
p = connect()
sizes = dict((int(a), int(b)) for a, b in (l.split() for l in p.list()[1]))
uidls = dict((int(a), b) for a, b in (l.split() for l in p.uidl()[1]))
p.dele(2)
p.dele(4)
n, _ = p.stat()
assert n == len(originals) - 2
assert p.quit().startswith(b"+OK")
p = connect()
left = dict((int(a), b) for a, b in (l.split() for l in p.uidl()[1]))
assert sorted(left.values()) == sorted(v for k, v in uidls.items() if k not in (2, 4)), left
assert p.stat()[0] == len(originals) - 2
p.quit()
'
	[ "$(ls "$MD/new" "$MD/cur" | grep -c mixed)" -eq 4 ]
}

@test "poplib: DELE + RSET + QUIT removes nothing" {
	pop '
p = connect()
p.dele(1)
p.dele(3)
p.rset()
assert p.stat()[0] == len(originals)
p.quit()
p = connect()
assert p.stat()[0] == len(originals)
p.quit()
'
	[ "$(ls "$MD/new" "$MD/cur" | grep -c mixed)" -eq 6 ]
}

@test "poplib: a dropped connection after DELE leaves every message" {
	pop '
before = files()
p = connect()
for i in range(1, len(originals) + 1):
    p.dele(i)
p.sock.shutdown(socket.SHUT_RDWR)  # no QUIT
p.sock.close()
p.file.close()
# the old session holds the lock until it is gone; then log in again
for _ in range(200):
    try:
        p = connect()
        break
    except poplib.error_proto as e:
        assert b"[IN-USE]" in e.args[0], e
        time.sleep(0.05)
else:
    raise SystemExit("old session never released the lock")
assert p.stat()[0] == len(originals)
p.quit()
assert files() == before, (files(), before)
'
}

@test "two concurrent logins: the second gets [IN-USE], the first is unaffected" {
	pop '
a = connect()
b = poplib.POP3("127.0.0.1", PORT, timeout=30)
b.user("alice")
try:
    b.pass_("secret")
    raise SystemExit("second login succeeded")
except poplib.error_proto as e:
    assert e.args[0] == b"-ERR [IN-USE] maildrop already locked", e
# the server closed the second connection
assert b.file.readline() == b""
b.close()
assert a.stat()[0] == len(originals)
data = content(a.retr(1)[1])
assert data in originals
a.dele(1)
assert a.quit().startswith(b"+OK")
assert len(files()) == len(originals) - 1
'
}

@test "poplib: APOP works for a plain-text secret, fails with [AUTH] for a hash" {
	pop '
p = poplib.POP3("127.0.0.1", PORT, timeout=30)
p.apop("alice", "secret")
assert p.stat()[0] == len(originals)
p.quit()
p = poplib.POP3("127.0.0.1", PORT, timeout=30)
try:
    p.apop("carol", "s3cret")
    raise SystemExit("APOP with a hashed secret succeeded")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR [AUTH]"), e
p.user("carol")
p.pass_("s3cret")   # the hashed user still logs in with USER/PASS
p.quit()
p = poplib.POP3("127.0.0.1", PORT, timeout=30)
try:
    p.apop("alice", "wrong")
    raise SystemExit("APOP with a wrong secret succeeded")
except poplib.error_proto as e:
    assert e.args[0] == b"-ERR [AUTH] Authentication failed", e
p.quit()
'
}

@test "poplib: CAPA, AUTH PLAIN (SASL) and the RFC 2449 capabilities" {
	pop '
p = poplib.POP3("127.0.0.1", PORT, timeout=30)
caps = p.capa()
for c in ("TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "SASL"):
    assert c in caps, (c, caps)
assert caps["SASL"] == ["PLAIN"], caps
assert caps["IMPLEMENTATION"] == ["Postern"], caps
assert "STLS" not in caps
import base64
resp = p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0alice\0secret").decode())
assert resp.startswith(b"+OK"), resp
assert p.stat()[0] == len(originals)
p.quit()
'
}

@test "poplib: RETR follows a file renamed by IMAP during the session" {
	pop '
p = connect()
uidls = p.uidl()[1]
orig1 = content(p.retr(1)[1])
# what an IMAP STORE +FLAGS (\Flagged) does to every message meanwhile
for d in ("new", "cur"):
    for f in os.listdir(MD + "/" + d):
        base = f.split(":")[0]
        os.rename(MD + "/" + d + "/" + f, MD + "/cur/" + base + ":2,F")
assert content(p.retr(1)[1]) == orig1
for i in range(2, len(originals) + 1):
    assert content(p.retr(i)[1]) in originals
assert p.uidl()[1] == uidls
p.quit()
# RETR gave \Seen at QUIT without losing the IMAP flag
assert all(f.endswith(":2,FS") for f in os.listdir(MD + "/cur")), os.listdir(MD + "/cur")
p = connect()
assert p.uidl()[1] == uidls
p.quit()
'
}

@test "poplib: messages removed or made unremovable behind the session's back" {
	pop '
p = connect()
n = p.stat()[0]
names = {}
for d in ("new", "cur"):
    for f in os.listdir(MD + "/" + d):
        names[f.split(",")[0]] = MD + "/" + d + "/" + f
paths = [names[k] for k in sorted(names)]   # base names sort like the uids
# message 1 expunged over IMAP meanwhile: RETR fails, DELE of it is harmless
os.unlink(paths[0])
try:
    p.retr(1)
    raise SystemExit("RETR of a vanished message succeeded")
except poplib.error_proto as e:
    assert e.args[0] == b"-ERR message was removed by another session", e
p.dele(1)
# message 2 replaced by something unlink() cannot remove
os.unlink(paths[1])
os.mkdir(paths[1])
p.dele(2)
p.dele(3)
try:
    p.quit()
    raise SystemExit("QUIT claimed every deletion worked")
except poplib.error_proto as e:
    assert e.args[0] == b"-ERR some deleted messages not removed", e
os.rmdir(paths[1])
assert not os.path.exists(paths[2])
p = connect()
assert p.stat()[0] == n - 3
p.quit()
'
}

@test "poplib: a 25 MiB message streams byte-exact" {
	python3 - "$MD" "$ORIG" <<'PY'
import os, sys
md, orig = sys.argv[1], sys.argv[2]
line = b"".join(bytes([65 + (i % 26)]) for i in range(76)) + b"\r\n"
data = b"Subject: huge\r\n\r\n" + line * (25 * 1024 * 1024 // len(line)) + b".\r\n..\r\n"
with open(os.path.join(md, "new", "1800000000.M1P1Q1.huge,S=%d" % len(data)), "wb") as f:
    f.write(data)
with open(os.path.join(orig, "huge.eml"), "wb") as f:
    f.write(data)
PY
	pop '
p = connect()
num = [int(a) for a, b in (l.split() for l in p.list()[1]) if int(b) > 25 * 1024 * 1024]
assert len(num) == 1, num
resp, lines, octets = p.retr(num[0])
data = content(lines)
assert data in originals and len(data) > 25 * 1024 * 1024
p.quit()
'
}

@test "curl pop3://: LIST, RETR byte-exact, UIDL, DELE" {
	url=pop3://127.0.0.1:$PORT
	curl -sS --max-time 60 -u alice:secret "$url/" >"$BATS_TEST_TMPDIR/list"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/list")" -eq 6 ]
	for i in 1 2 3 4 5 6; do
		curl -sS --max-time 60 -u alice:secret "$url/$i" >"$BATS_TEST_TMPDIR/got.$i"
		size=$(awk -v n="$i" '$1 == n { print $2 }' "$BATS_TEST_TMPDIR/list" | tr -d '\r')
		[ "$(wc -c <"$BATS_TEST_TMPDIR/got.$i")" -eq "$size" ]
		# equal to one of the originals
		found=0
		for o in "$ORIG"/*.eml; do
			cmp -s "$o" "$BATS_TEST_TMPDIR/got.$i" && found=1
		done
		[ "$found" -eq 1 ]
	done
	curl -sS --max-time 60 -u alice:secret -X UIDL "$url/" >"$BATS_TEST_TMPDIR/uidl"
	[ "$(grep -Ec '^[1-6] [0-9A-F]{16}'$'\r''?$' "$BATS_TEST_TMPDIR/uidl")" -eq 6 ]
	curl -sS --max-time 60 -u alice:secret -X 'DELE 1' -I "$url/"
	[ "$(ls "$MD/new" "$MD/cur" | grep -c mixed)" -eq 5 ]
	# a wrong password is an error for curl
	run curl -sS --max-time 60 -u alice:wrong "$url/"
	[ "$status" -ne 0 ]
}

# normalise: CRLF -> LF, the way the clients store mail locally
lf() {
	sed 's/\r$//' "$1"
}

@test "mpop downloads the mailbox into a maildir, content intact" {
	local out=$BATS_TEST_TMPDIR/mpop
	mkdir -p "$out/cur" "$out/new" "$out/tmp"
	(cd "$BATS_TEST_TMPDIR" && timeout 120 mpop -C /dev/null --host=127.0.0.1 --port="$PORT" --tls=off \
		--auth=user --user=alice --passwordeval='echo secret' --received-header=off \
		--delivery=maildir,"$out" --keep=off --only-new=off --uidls-file="$out.uidls")
	[ "$(count_files "$out/new")" -eq 6 ]
	for o in "$ORIG"/*.eml; do
		lf "$o" >"$o.lf"
		found=0
		for f in "$out"/new/*; do
			cmp -s "$o.lf" "$f" && found=1
		done
		[ "$found" -eq 1 ] || { echo "no download matches $o"; return 1; }
	done
	# --keep=off: mpop deleted them at QUIT
	[ "$(ls "$MD/new" "$MD/cur" | grep -c mixed)" -eq 0 ]
}

@test "fetchmail keeps mail on the server and fetches it once (UIDL)" {
	local out=$BATS_TEST_TMPDIR/fetchmail
	mkdir -p "$out"
	cat >"$BATS_TEST_TMPDIR/fetchmailrc" <<RC
set no bouncemail
poll 127.0.0.1 service $PORT protocol pop3 uidl auth password:
  user "alice" there password "secret" is "$USER" here
  keep sslproto '' no sslcertck
  mda "cat > $out/msg.\$\$"
RC
	chmod 600 "$BATS_TEST_TMPDIR/fetchmailrc"
	export FETCHMAILHOME=$BATS_TEST_TMPDIR
	timeout 120 fetchmail -f "$BATS_TEST_TMPDIR/fetchmailrc" -i "$BATS_TEST_TMPDIR/fetchids" --nodetach \
		--pidfile "$BATS_TEST_TMPDIR/fetchmail.pid" -s
	[ "$(count_files "$out")" -eq 6 ]
	for o in "$ORIG"/*.eml; do
		lf "$o" >"$o.lf"
		# fetchmail ends a header-only message with an empty line
		grep -q '^$' "$o.lf" || echo >>"$o.lf"
		found=0
		for f in "$out"/msg.*; do
			# fetchmail adds its own Received: header first; drop it
			awk 'NR == 1 && /^Received:/ { skip = 1; next }
			     skip && /^[ \t]/ { next } { skip = 0; print }' "$f" >"$f.body"
			cmp -s "$o.lf" "$f.body" && found=1
		done
		[ "$found" -eq 1 ] || { echo "no download matches $o"; return 1; }
	done
	# kept on the server; a second run fetches nothing new (stable UIDL)
	[ "$(ls "$MD/new" "$MD/cur" | grep -c mixed)" -eq 6 ]
	rm -f "$out"/msg.*
	run timeout 120 fetchmail -f "$BATS_TEST_TMPDIR/fetchmailrc" -i "$BATS_TEST_TMPDIR/fetchids" --nodetach \
		--pidfile "$BATS_TEST_TMPDIR/fetchmail.pid" -s
	[ "$status" -eq 1 ] # 1 = no new mail
	[ "$(count_files "$out")" -eq 0 ]
}

@test "POP3 and IMAP agree: UIDL = IMAP UID + UIDVALIDITY, \\Seen and deletions shared" {
	[ -x "$BIN/postern-imapd" ] || skip "postern-imapd not built"
	IMAP_PORT=$(free_port)
	serve "$IMAP_PORT" "$BIN/postern-imapd"
	export IMAP_PORT
	pop '
import imaplib, re
def imap_state():
    m = imaplib.IMAP4("127.0.0.1", int(os.environ["IMAP_PORT"]), timeout=30)
    m.login("alice", "secret")
    typ, data = m.select("INBOX")
    uidvalidity = int(m.response("UIDVALIDITY")[1][0])
    typ, data = m.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
    msgs = {}
    for d in data:
        d = d.decode()
        uid = int(re.search(r"UID (\d+)", d).group(1))
        msgs[uid] = (re.search(r"FLAGS \(([^)]*)\)", d).group(1), int(re.search(r"RFC822.SIZE (\d+)", d).group(1)))
    m.logout()
    return uidvalidity, msgs
uidvalidity, msgs = imap_state()
p = connect()
uidl = [l.split() for l in p.uidl()[1]]
sizes = dict((int(a), int(b)) for a, b in (l.split() for l in p.list()[1]))
assert len(uidl) == len(msgs) == len(originals)
for num, u in uidl:
    uid, uv = int(u[:8], 16), int(u[8:], 16)
    assert uv == uidvalidity, (u, uidvalidity)
    assert uid in msgs, (u, msgs.keys())
    assert msgs[uid][1] == sizes[int(num)], (num, msgs[uid], sizes[int(num)])
# RETR 1 and DELE 2 over POP3
p.retr(1)
p.dele(2)
p.quit()
uid1, uid2 = int(uidl[0][1][:8], 16), int(uidl[1][1][:8], 16)
uidvalidity2, after = imap_state()
assert uidvalidity2 == uidvalidity
assert uid2 not in after, after
assert "\\Seen" in after[uid1][0], after[uid1]
assert all("\\Seen" not in f for uid, (f, s) in after.items() if uid != uid1), after
'
}

# with_tls: give the world a certificate and refuse plaintext passwords
# from remote peers.
with_tls() {
	sed -i 's/^allow_plaintext_auth = yes/allow_plaintext_auth = no/' "$W/postern.conf"
	printf 'tls_cert = %s\ntls_key = %s\n' "$PKI/cert.pem" "$PKI/key.pem" >>"$W/postern.conf"
	export CA=$PKI/ca.pem
}

@test "POP3S (--tls): certificate verified, login and RETR byte-exact" {
	with_tls
	TLS_PORT=$(free_port)
	serve "$TLS_PORT" "$BIN/postern-pop3d" --tls
	export TLS_PORT
	pop '
import ssl
ctx = ssl.create_default_context(cafile=os.environ["CA"])
p = poplib.POP3_SSL("127.0.0.1", int(os.environ["TLS_PORT"]), timeout=30, context=ctx)
caps = p.capa()
assert "STLS" not in caps and "USER" in caps, caps
p.user("alice")
p.pass_("secret")
for i in range(1, len(originals) + 1):
    assert content(p.retr(i)[1]) in originals
p.quit()
'
	grep -q 'connect: peer=127.0.0.1 tls=yes' "$BATS_TEST_TMPDIR/serve.log"
}

@test "STLS: a remote peer gets USER only after TLS; pipelined plaintext is dropped" {
	with_tls
	RPORT=$(free_port)
	# a remote address: the plaintext rule applies
	serve "$RPORT" env POSTERN_PEER=192.0.2.7 "$BIN/postern-pop3d"
	export RPORT
	pop '
import ssl
ctx = ssl.create_default_context(cafile=os.environ["CA"])
p = poplib.POP3("127.0.0.1", int(os.environ["RPORT"]), timeout=30)
caps = p.capa()
assert "STLS" in caps and "USER" not in caps and "SASL" not in caps, caps
try:
    p.user("alice")
    raise SystemExit("USER accepted without TLS")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR [AUTH]"), e
p.stls(ctx)
caps = p.capa()
assert "STLS" not in caps and "USER" in caps and caps["SASL"] == ["PLAIN"], caps
p.user("alice")
p.pass_("secret")
assert p.stat()[0] == len(originals)
p.quit()

# CVE-2011-0411: a command sent with STLS, before the handshake, is discarded
s = socket.create_connection(("127.0.0.1", int(os.environ["RPORT"])), timeout=30)
f = s.makefile("rb")
assert f.readline().startswith(b"+OK")
s.sendall(b"STLS\r\nUSER alice\r\n")
assert f.readline() == b"+OK begin TLS negotiation\r\n"
t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
tf = t.makefile("rb")
t.sendall(b"PASS secret\r\n")
assert tf.readline() == b"-ERR send USER first\r\n"
t.sendall(b"STLS\r\n")
assert tf.readline() == b"-ERR TLS is already active\r\n"
t.sendall(b"QUIT\r\n")
assert tf.readline().startswith(b"+OK")
t.close()
'
}
