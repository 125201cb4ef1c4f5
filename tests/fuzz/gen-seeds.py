#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/ (run from the top of the
checkout; existing seeds with the same names are overwritten, regression
inputs crash-* are left alone). Each harness's input layout is described
at the top of tests/fuzz/fuzz-<name>.c: some start with control bytes."""
import glob
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(TOP, path), "rb") as f:
        return f.read()


def base(path):
    return os.path.splitext(os.path.basename(path))[0]


# --- imap-parser: [literal limit index, chunk seed] + client bytes ---
for s in sorted(glob.glob(os.path.join(TOP, "examples", "imap-*.session"))):
    put("imap-parser", base(s), b"\x04\x07" + read(s))
imap = {
    "literals": "a LOGIN {5}\r\nalice {10+}\r\nwonderland\r\nb APPEND INBOX (\\Seen) {11}\r\nHello\r\nWorld\r\n",
    "literal-refused": "a APPEND INBOX {99999}\r\nb NOOP\r\nc X {3+}\r\nabc\r\n",
    "lists": "a FETCH 1:*,3,5:7 (FLAGS (UID) () BODY.PEEK[HEADER.FIELDS (From To)]<0.10> BODY[1.2.MIME])\r\n",
    "quoted": "a LOGIN \"al ice\" \"a\\\"b\\\\c\"\r\nb LIST \"\" \"*\"\r\nc SELECT NIL\r\n",
    "errors": "a LOGIN \"open\r\nb NOOP)\r\n(x NOOP\r\nc X {12a}\r\nd FETCH (1\r\ne\r\nf NOOP\n",
    "search": "a UID SEARCH CHARSET UTF-8 OR (FROM \"x\" SUBJECT {3}\r\nabc) NOT 2:4 UID 1:* LARGER 10\r\n",
    "store": "a UID STORE 1:3,7 +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\nb EXPUNGE\r\n",
    "deep": "a X " + "(" * 40 + ")" * 40 + "\r\nb NOOP\r\n",
    "idle": "a IDLE\r\nDONE\r\nb LOGOUT\r\n",
}
for i, (k, v) in enumerate(sorted(imap.items())):
    put("imap-parser", k, bytes([i % 7, 0x30 + i]) + v.encode())

# --- smtp-path: [flags] + text after FROM:/TO: ---
paths = set()
for s in sorted(glob.glob(os.path.join(TOP, "examples", "smtp-*.session"))):
    for line in read(s).split(b"\r\n"):
        m = re.match(rb"(?i)(MAIL FROM:|RCPT TO:)(.*)", line)
        if m and len(m.group(2)) < 600:
            paths.add((b"\x01" if m.group(1).upper().startswith(b"MAIL") else b"\x02") + m.group(2))
paths |= {
    b"\x01<alice@example.org> SIZE=1000 BODY=8BITMIME",
    b"\x01<>",
    b"\x01 <> RET=HDRS ENVID=abc+2Bdef",
    b"\x02<@relay.example,@b.example:bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net",
    b"\x02<\"john q\\\"doe\"@[192.0.2.1]>",
    b"\x02<x@[IPv6:2001:db8::1]>",
    b"\x02<Postmaster>",
    b"\x03postmaster",
    "\x01<jos\u00e9@ex\u00e4mple.org> SMTPUTF8".encode(),
    b"\x01<a..b@x>",
    b"\x01<" + b"a" * 65 + b"@x.org>",
    b"\x01<a@" + b"b" * 256 + b">",
    b"\x01<a@[300.1.1.1]>",
    b"\x01<a@-x.org>",
    b"\x00mail.example.org",
    b"\x00[127.0.0.1]",
}
for i, p in enumerate(sorted(paths)):
    put("smtp-path", "path-%02d" % i, p)

# --- smtp-dot: [mode (bit 0: BDAT) / limit, chunk seed] + content ---
for s in sorted(glob.glob(os.path.join(TOP, "examples", "smtp-*.session"))):
    data = read(s)
    i = data.upper().find(b"\r\nDATA\r\n")
    if i >= 0:
        put("smtp-dot", base(s), b"\x00\x11" + data[i + 8:])
dots = {
    "plain": b"Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n",
    "stuffed": b"..leading dot\r\n...\r\n.x\r\n.\r\n",
    "empty": b".\r\n",
    "smuggle-lf": b"a\r\n\n.\nMAIL FROM:<x@y>\r\n.\r\n",
    "smuggle-cr": b"a\r\n.\rRCPT TO:<x@y>\r\n\r.\r\n.\r\n",
    "smuggle-mixed": b"a\n.\r\nb\r\n.\n\r\n.\r\n",
    "unfinished": b"line\r\n.\r",
    "bare-cr-end": b"data\r",
    "limit": b"0123456789\r\n" * 3 + b".\r\n",
}
for i, (k, v) in enumerate(sorted(dots.items())):
    put("smtp-dot", k, bytes([(i % 8) << 1, 0x40 + i]) + v)
put("smtp-dot", "bdat", b"\x01\x05BDAT chunk\r\nwith lines\r\n.\r\nnot an end\r\n")
put("smtp-dot", "bdat-bare", b"\x03\x09a\nb\rc\r\n")
put("smtp-dot", "big", b"\x0a\x01" + (b"x" * 70 + b"\r\n") * 130 + b".\r\n")

# --- mime: [path depth, path...] + message ---
for i, e in enumerate(sorted(glob.glob(os.path.join(TOP, "tests", "mime", "*.eml")))):
    msg = read(e)
    if len(msg) > 16384:
        continue
    put("mime", base(e), b"\x00" + msg)
    put("mime", base(e) + "-sec", bytes([2, 1 + i % 3, 1 + i % 2]) + msg)
put("mime", "deep-nesting", b"\x03\x01\x01\x01" + b"".join(
    b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (d, d) for d in range(40)) + b"x\r\n")
put("mime", "rfc822-chain", b"\x03\x01\x01\x01" + b"Content-Type: message/rfc822\r\n\r\n" * 30 + b"Subject: end\r\n\r\nbody\r\n")

# --- pop3-parse: [number range] + line ---
for i, v in enumerate(["1", "007", "0", "65535", "65536", "4294967296", "18446744073709551615",
                       "18446744073709551616", "-1", "+1", "1 ", "RETR 1", "TOP 1 10",
                       "  USER   alice  ", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "", "a\tb"]):
    put("pop3-parse", "line-%02d" % i, bytes([i % 4]) + v.encode())
for s in sorted(glob.glob(os.path.join(TOP, "examples", "pop3-*.session"))):
    data = read(s)
    if len(data) < 2000:
        for j, line in enumerate(data.split(b"\r\n")[:4]):
            if line:
                put("pop3-parse", "%s-%02d" % (base(s), j), b"\x02" + line)

# --- config: the file ---
put("config", "postern.conf", read("examples/postern.conf"))
put("config", "routes", "domains = example.org, Example.NET.\nroutes = example.net=127.0.2.1:25, other.org=[::1]:2525, x.y=host.example:587\nresolver = 127.0.0.1:5353\n")
put("config", "sizes", "max_message_size = 10K\nmax_recipients = 5\nsmtp_timeout = 30\nqueue_lifetime = 3600\nallow_plaintext_auth = yes\n")
put("config", "bad", "hostname\n= x\nunknown = 1\n")
put("config", "paths", "mail_root = ../mail\nusers_file = /etc/postern/users\ntls_cert = cert.pem\ntls_key = key.pem\n# comment\n\n  queue_dir =  spool  \n")
put("config", "overflow", "max_message_size = 99999999999999999999G\nsmtp_timeout = 4294967296\n")

# --- users: name \n password \n file ---
users = read("examples/users")
for i, (n, p) in enumerate([("alice", "wonderland"), ("ALICE@Example.Org", "x"), ("vj@uliege.be", "gembloux"),
                            ("bob", "builder "), ("../etc", "x"), ("nobody", "x"), ("a@", ""), ("@b", "b")]):
    put("users", "user-%02d" % i, ("%s\n%s\n" % (n, p)).encode() + users)
put("users", "hashed", b"carol\nx\ncarol $6$salt$abc\ncarol plain\n")
put("users", "odd-lines", b"dave\nsecret\n\n#x\ndave\n dave secret\ndave  secret  \ndave\tsecret\n")

# --- aliases: address \n file ---
aliases = read("examples/aliases")
for i, a in enumerate(["postmaster@example.org", "team@example.org", "alice@example.org", "x@elsewhere.net"]):
    put("aliases", "alias-%02d" % i, ("%s\n" % a).encode() + aliases)
put("aliases", "loop", b"a@example.org\na: b\nb: a, c@remote.net\n")
put("aliases", "catchall", b"zz@example.net\n@example.net: alice, bob@example.net\n")
put("aliases", "fanout", b"f@example.org\nf: " + b", ".join(b"g%d" % i for i in range(20)) + b"\n" +
    b"".join(b"g%d: h%d@r.net, i%d@r.net, j%d@r.net\n" % (i, i, i, i) for i in range(20)))

# --- sasl: base64 or raw PLAIN ---
for i, v in enumerate([b"AGFsaWNlAHdvbmRlcmxhbmQ=", b"=", b"", b"YQ==", b"YR==", b"YWI=", b"YWJj",
                       b"\x00alice\x00wonderland", b"alice\x00alice\x00pw", b"bob\x00alice\x00pw",
                       b"\x00\x00pw", b"xYWJj", b"dGVzdA== "]):
    put("sasl", "sasl-%02d" % i, v)

# --- mutf7: a mailbox name ---
for i, v in enumerate(["INBOX", "&-", "Entw&APw-rfe", "&ZeVnLIqe-", "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
                       "&AC4-", "&Jjo-!", "&2D3eAA-", "&2D3-", "&", "&AGE-", "a&-b&-", "&U,BTF2XlZyyKng-"]):
    put("mutf7", "name-%02d" % i, v.encode())

# --- maildir-folder: an IMAP name or a directory entry ---
for i, v in enumerate(["INBOX", "inbox/x", "A/B", ".hidden", "a.b/c", ".A.B", ".&AC4-hidden", "..",
                       "Sent", "Entw&APw-rfe/x", "/a", "a//b", "a/./b", ".INBOX.x", "..postern-trash-1",
                       "a:b,c", "host.example.org/x"]):
    put("maildir-folder", "name-%02d" % i, v.encode())
