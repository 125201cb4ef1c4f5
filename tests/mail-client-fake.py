#!/usr/bin/env python3
"""Small fake SMTP / POP3 / IMAP servers for tests/mail-client.bats.

One connection per process on fd 0 (systemd-socket-activate --inetd), like
the real handlers. They share a mailbox directory: SMTP stores each message
as <dir>/<seq>.eml (with a Received: field on top), POP3 and IMAP serve the
files in name order. Every command line received is appended to
<dir>/../<proto>.log so tests can check what the client sent.

usage: mail-client-fake.py smtp|pop3|imap --dir DIR [--user U --password P]
       [--tls-cert PEM --tls-key PEM [--implicit-tls]] [--stall] [--long-line]
       [--no-8bitmime]
"""
import argparse
import base64
import email.utils
import os
import socket
import ssl
import sys
import time

a = argparse.ArgumentParser()
a.add_argument("proto")
a.add_argument("--dir", required=True)
a.add_argument("--user", default="alice")
a.add_argument("--password", default="secret")
a.add_argument("--tls-cert")
a.add_argument("--tls-key")
a.add_argument("--stall", action="store_true", help="greet, then never answer")
a.add_argument("--long-line", action="store_true", help="greet with a huge line")
a.add_argument("--no-8bitmime", action="store_true")
a.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte")
args = a.parse_args()

sock = socket.socket(fileno=0)
rf = sock.makefile("rb")
log = open(os.path.join(os.path.dirname(os.path.abspath(args.dir)), args.proto + ".log"), "ab")


def send(s):
    if isinstance(s, str):
        s = s.encode()
    conn.sendall(s)


def readline():
    line = rf.readline(1 << 20)
    if not line:
        sys.exit(0)
    log.write(line)
    log.flush()
    return line.rstrip(b"\r\n").decode("utf-8", "replace")


conn = sock


def starttls():
    global conn, rf
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    conn = ctx.wrap_socket(sock, server_side=True)
    rf = conn.makefile("rb")


def messages():
    if not os.path.isdir(args.dir):
        return []
    return sorted(f for f in os.listdir(args.dir) if f.endswith(".eml"))


def read_msg(name):
    with open(os.path.join(args.dir, name), "rb") as f:
        return f.read()


def check_plain(b64):
    try:
        parts = base64.b64decode(b64).split(b"\0")
    except Exception:
        return False
    return len(parts) == 3 and parts[1].decode() == args.user and parts[2].decode() == args.password


def stall():
    # never answer; leave as soon as the client gives up and closes
    while conn.recv(4096):
        pass


def smtp():
    send("220 fake.example ESMTP\r\n")
    if args.stall:
        return stall()
    mail_from, rcpts = None, []
    while True:
        line = readline()
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            caps = ["fake.example", "PIPELINING", "SIZE 10000000", "AUTH LOGIN PLAIN"]
            if not args.no_8bitmime:
                caps.append("8BITMIME")
            if args.tls_cert and conn is sock:
                caps.append("STARTTLS")
            for i, c in enumerate(caps):
                send("250%s%s\r\n" % (" " if i == len(caps) - 1 else "-", c))
        elif verb == "HELO":
            send("250 fake.example\r\n")
        elif verb == "STARTTLS":
            send("220 go ahead\r\n")
            starttls()
        elif verb == "AUTH":
            p = line.split(" ")
            if len(p) == 3 and p[1].upper() == "PLAIN" and check_plain(p[2]):
                send("235 2.7.0 Authentication successful\r\n")
            else:
                send("535 5.7.8 Authentication credentials invalid\r\n")
        elif verb == "MAIL":
            mail_from, rcpts = line[10:].split(">")[0].lstrip("<"), []
            send("250 2.1.0 Ok\r\n")
        elif verb == "RCPT":
            addr = line[8:].split(">")[0].lstrip("<")
            if addr.startswith("nobody"):
                send("550 5.1.1 <%s>: Recipient address rejected: User unknown\r\n" % addr)
            else:
                rcpts.append(addr)
                send("250 2.1.5 Ok\r\n")
        elif verb == "DATA":
            send("354 End data with <CR><LF>.<CR><LF>\r\n")
            data = b""
            while True:
                raw = rf.readline(1 << 20)
                if not raw:
                    return
                if raw == b".\r\n":
                    break
                if not raw.endswith(b"\r\n") or b"\r" in raw[:-2]:
                    send("550 5.5.2 bare LF or CR\r\n")
                    return
                if raw.startswith(b"."):
                    raw = raw[1:]
                data += raw
            os.makedirs(args.dir, exist_ok=True)
            seq = len(os.listdir(args.dir)) + 1
            name = "%06d-%d.eml" % (seq, os.getpid())
            received = "Received: from client by fake.example; %s\r\n" % email.utils.formatdate(
                time.time(), localtime=False)
            with open(os.path.join(args.dir, name), "wb") as f:
                f.write(received.encode() + data)
            with open(os.path.join(args.dir, name[:-4] + ".env"), "w") as f:
                f.write("%s\n%s\n" % (mail_from, " ".join(rcpts)))
            send("250 2.0.0 Ok: queued\r\n")
        elif verb == "QUIT":
            send("221 2.0.0 Bye\r\n")
            return
        elif verb == "RSET":
            send("250 Ok\r\n")
        else:
            send("502 5.5.2 Error: command not recognized\r\n")


def pop3():
    if args.long_line:
        send("+OK " + "x" * 100000 + "\r\n")
    send("+OK fake POP3\r\n")
    if args.stall:
        return stall()
    user, authed, deleted = None, False, set()
    msgs = []
    while True:
        line = readline()
        p = line.split(" ")
        verb = p[0].upper()
        if verb == "CAPA":
            send("+OK\r\nUSER\r\nUIDL\r\nTOP\r\n%s.\r\n" % ("STLS\r\n" if args.tls_cert and conn is sock else ""))
        elif verb == "STLS":
            send("+OK begin TLS\r\n")
            starttls()
        elif verb == "USER":
            user = p[1] if len(p) > 1 else ""
            send("+OK\r\n")
        elif verb == "PASS":
            if user == args.user and line[5:] == args.password:
                authed = True
                msgs = messages()
                send("+OK logged in\r\n")
            else:
                send("-ERR [AUTH] invalid user name or password\r\n")
        elif verb == "QUIT":
            for i in deleted:
                os.unlink(os.path.join(args.dir, msgs[i]))
            send("+OK bye\r\n")
            return
        elif not authed:
            send("-ERR log in first\r\n")
        elif verb == "STAT":
            live = [m for i, m in enumerate(msgs) if i not in deleted]
            send("+OK %d %d\r\n" % (len(live), sum(len(read_msg(m)) for m in live)))
        elif verb == "LIST":
            out = "".join("%d %d\r\n" % (i + 1, len(read_msg(m))) for i, m in enumerate(msgs) if i not in deleted)
            send("+OK\r\n" + out + ".\r\n")
        elif verb == "UIDL":
            out = "".join("%d %s\r\n" % (i + 1, m[:-4]) for i, m in enumerate(msgs) if i not in deleted)
            send("+OK\r\n" + out + ".\r\n")
        elif verb in ("TOP", "RETR"):
            n = int(p[1]) - 1 if len(p) > 1 and p[1].isdigit() else -1
            if n < 0 or n >= len(msgs) or n in deleted:
                send("-ERR no such message\r\n")
                continue
            data = read_msg(msgs[n])
            if verb == "TOP":
                data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            lines = data.split(b"\r\n")
            if lines and lines[-1] == b"":
                lines.pop()
            body = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
            send(b"+OK\r\n" + body + b".\r\n")
        elif verb == "DELE":
            n = int(p[1]) - 1 if len(p) > 1 and p[1].isdigit() else -1
            if n < 0 or n >= len(msgs) or n in deleted:
                send("-ERR no such message\r\n")
            else:
                deleted.add(n)
                send("+OK deleted\r\n")
        else:
            send("-ERR unknown command\r\n")


def q(s):
    if s is None:
        return "NIL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(data, name):
    hdr = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").replace("\r\n ", " ").replace("\r\n\t", " ")
    for l in hdr.split("\r\n"):
        if l.lower().startswith(name.lower() + ":"):
            return l[len(name) + 1:].strip()
    return None


def envelope(data):
    frm = header(data, "From") or ""
    addr = email.utils.parseaddr(frm)[1]
    box, _, host = addr.partition("@")
    a_list = "((NIL NIL %s %s))" % (q(box), q(host)) if addr else "NIL"
    return "(%s %s %s %s %s NIL NIL NIL NIL %s)" % (
        q(header(data, "Date")), q(header(data, "Subject")), a_list, a_list, a_list,
        q(header(data, "Message-ID")))


def imap_args(line):
    """Split IMAP arguments: atoms, quoted strings and {n} literals (which
    are read from the connection after a "+" continuation)."""
    out, i = [], 0
    while True:
        while i < len(line) and line[i] == " ":
            i += 1
        if i >= len(line):
            return out
        if line[i] == '"':
            j, v = i + 1, ""
            while line[j] != '"':
                if line[j] == "\\":
                    j += 1
                v += line[j]
                j += 1
            out.append(v)
            i = j + 1
        elif line[i] == "{" and line.endswith("}"):
            n = int(line[i + 1:-1])
            send("+ Ready\r\n")
            out.append(rf.read(n).decode("utf-8"))
            line, i = readline(), 0
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            out.append(line[i:j])
            i = j


def imap():
    send("* OK fake IMAP ready\r\n")
    if args.stall:
        return stall()
    authed, msgs, deleted = False, [], set()
    while True:
        line = readline()
        p = line.split(" ")
        tag, verb = p[0], (p[1].upper() if len(p) > 1 else "")
        if verb == "CAPABILITY":
            send("* CAPABILITY IMAP4rev1 %s\r\n%s OK done\r\n" % (
                "STARTTLS" if args.tls_cert and conn is sock else "AUTH=PLAIN", tag))
        elif verb == "STARTTLS":
            send("%s OK begin TLS\r\n" % tag)
            starttls()
        elif verb == "LOGIN":
            if imap_args(line)[2:] == [args.user, args.password]:
                authed = True
                send("%s OK logged in\r\n" % tag)
            else:
                send("%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n" % tag)
        elif verb == "LOGOUT":
            send("* BYE logging out\r\n%s OK bye\r\n" % tag)
            return
        elif not authed:
            send("%s BAD log in first\r\n" % tag)
        elif verb == "SELECT":
            msgs = messages()
            send("* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n"
                 "* FLAGS (\\Seen \\Deleted)\r\n%s OK [READ-WRITE] selected\r\n" % (len(msgs), tag))
        elif verb == "FETCH":
            seq, items = p[2], " ".join(p[3:]).upper()
            lo, _, hi = seq.partition(":")
            rng = range(int(lo), int(hi or lo) + 1)
            for n in rng:
                data = read_msg(msgs[n - 1])
                if "BODY[]" in items:
                    send(b"* %d FETCH (FLAGS (\\Seen) BODY[] {%d}\r\n" % (n, len(data)) + data + b")\r\n")
                else:
                    mt = os.path.getmtime(os.path.join(args.dir, msgs[n - 1]))
                    idate = time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(mt))
                    send("* %d FETCH (UID %d RFC822.SIZE %d INTERNALDATE %s ENVELOPE %s)\r\n" % (
                        n, n + 100, len(data), q(idate), envelope(data)))
            send("%s OK fetch done\r\n" % tag)
        elif verb == "STORE":
            deleted.add(int(p[2]) - 1)
            send("* %s FETCH (FLAGS (\\Deleted))\r\n%s OK stored\r\n" % (p[2], tag))
        elif verb == "EXPUNGE":
            for i in sorted(deleted, reverse=True):
                os.unlink(os.path.join(args.dir, msgs[i]))
                send("* %d EXPUNGE\r\n" % (i + 1))
            msgs = messages()
            deleted = set()
            send("%s OK expunged\r\n" % tag)
        else:
            send("%s BAD unknown command\r\n" % tag)


try:
    if args.implicit_tls:
        starttls()
    {"smtp": smtp, "pop3": pop3, "imap": imap}[args.proto]()
except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
    pass
