#!/usr/bin/env python3
"""rel-badinput: run the hostile-input catalogue tests/badinput/cases.tsv
against the handlers on pipes (tests/badinput.bats).

  rel-badinput.py BUILD_DIR TABLE PROTO [NAME_SUBSTRING | !NAME_SUBSTRING]

(only the cases whose name holds NAME_SUBSTRING, or with "!", does not;
the catalogue tags known, reported bugs "[bug]" in the name so that they
run as their own bats test)

For each case of protocol PROTO, in a fresh world (config, users, mail
root holding alice's INBOX with two messages and a folder "Work", and an
"outside" directory with a secret file next to the mail root):
  1. plant symlinks (column plant), deliver seed messages (column seed)
     through postern-smtpd, and open the mailbox once (uid list made);
  2. snapshot the mail root and outside/ (sha256 of every file, target of
     every symlink; *.lock files, which locking creates empty, and
     postern-cache, the per-mailbox cache FETCH fills, ignored);
  3. run the handler with the input on stdin, under a memory bound
     (prlimit --as, only when the build is not ASan: ASan reserves terabytes
     of address space) and a time bound;
  4. the output must match the expect regex, the handler must exit by
     itself (no signal, no sanitizer report, within the time bound), and
     the tree must be unchanged (disk=same), have exactly one new message
     in alice's new/ (disk=new1), or be whatever the session made
     (disk=any), while outside/ is never touched and nothing outside the
     mail root is ever read into a reply (the secret must not appear).

Table columns (tab-separated; '#' lines are comments):
  proto  name  args  plant  seed  input  expect  disk
args: extra handler arguments or "-". plant: "-" or "path->target;..."
(paths relative to alice's maildir, $OUT is the outside directory). seed and
input are Python expressions giving bytes (helpers below). expect: a
regular expression searched in the output (latin-1), re.S.
Prints TAP; exit 1 when any case failed.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SECRET = b"TOPSECRET-d41d8cd98f00b204"
MEM_LIMIT = 256 * 1024 * 1024
TIME_LIMIT = 30

# --- helpers available to the table's expressions ---

LOGIN = b"a LOGIN alice secret\r\n"
SEL = LOGIN + b"b SELECT INBOX\r\n"
POPLOGIN = b"USER alice\r\nPASS secret\r\n"
EHLO = b"EHLO client.example\r\n"
ENV = EHLO + b"MAIL FROM:<x@example.com>\r\nRCPT TO:<alice@example.org>\r\n"


def A(n, c=b"A"):
    return c * n


def deep_mime(n):
    """n nested multipart/mixed levels around one text part."""
    head = b"From: x@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opens = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                     for i in range(n))
    closes = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(n)))
    return head + opens + b"Content-Type: text/plain\r\n\r\ndeep\r\n" + closes


def deep_rfc822(n):
    return (b"From: x@example.com\r\nSubject: r\r\n"
            + b"".join(b"Content-Type: message/rfc822\r\n\r\nSubject: n\r\n" for _ in range(n))
            + b"\r\nx\r\n")


def wide_mime(n):
    return (b"From: x@example.com\r\nSubject: wide\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
            + b"--zz\r\n\r\nx\r\n" * n + b"--zz--\r\n")


def long_header(n):
    return b"From: x@example.com\r\nSubject: " + A(n, b"h") + b"\r\n\r\nbody\r\n"


def folded_header(n):
    return b"From: x@example.com\r\nSubject: x" + b"\r\n h" * n + b"\r\n\r\nbody\r\n"


def msg(subject=b"hello"):
    return b"From: x@example.com\r\nSubject: " + subject + b"\r\n\r\nbody\r\n"


def b64(s):
    import base64
    return base64.b64encode(s)


def literal(data, plus=True):
    return b"{%d%s}\r\n" % (len(data), b"+" if plus else b"") + data


HELPERS = {k: v for k, v in globals().items() if k.isupper() or callable(v)}

# --- world ---


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_world(top):
    w = os.path.join(top, "world")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(os.path.join(w, "mail"))
    os.makedirs(os.path.join(w, "queue"))
    write(os.path.join(w, "postern.conf"), (
        "hostname = mx.example.org\ndomains = example.org, example.net\n"
        "mail_root = %s/mail\nusers_file = %s/users\naliases_file = %s/aliases\n"
        "queue_dir = %s/queue\nmax_message_size = 16M\nallow_plaintext_auth = yes\n"
        % (w, w, w, w)).encode())
    write(os.path.join(w, "users"), b"alice secret\nbob@example.net hunter2\n")
    write(os.path.join(w, "aliases"), b"postmaster: alice\n")
    out = os.path.join(w, "outside")
    write(os.path.join(out, "secret"), SECRET + b"\r\n")
    write(os.path.join(out, "cur", "1.M1P1.outside,S=27:2,"), SECRET + b"\r\n")
    os.makedirs(os.path.join(out, "new"))
    os.makedirs(os.path.join(out, "tmp"))
    box = os.path.join(w, "mail", "example.org", "alice")
    for sub in ("cur", "new", "tmp", ".Work/cur", ".Work/new", ".Work/tmp"):
        os.makedirs(os.path.join(box, sub), exist_ok=True)
    write(os.path.join(box, ".Work", "maildirfolder"), b"")
    for i in (1, 2):
        m = msg(b"seed %d" % i)
        write(os.path.join(box, "cur", "100000000%d.M1P1Q%d.seed,S=%d:2,S" % (i, i, len(m))), m)
    return w, box, out


def snapshot(*roots):
    snap = {}
    for root in roots:
        for dp, dns, fns in os.walk(root):
            for n in dns + fns:
                p = os.path.join(dp, n)
                if n.endswith(".lock") or n == "postern-cache":
                    continue
                if os.path.islink(p):
                    snap[p] = "link:" + os.readlink(p)
                elif os.path.isdir(p):
                    snap[p] = "dir"
                else:
                    with open(p, "rb") as f:
                        snap[p] = hashlib.sha256(f.read()).hexdigest()
    return snap


def is_asan(binary):
    p = subprocess.run(["nm", "-D", binary], capture_output=True, text=True)
    q = subprocess.run(["nm", binary], capture_output=True, text=True)
    return "__asan_init" in p.stdout or "__asan_init" in q.stdout


def run(build, prog, args, data, env, asan):
    argv = [os.path.join(build, prog)] + args
    if not asan:
        argv = ["prlimit", "--as=%d" % MEM_LIMIT, "--"] + argv
    try:
        p = subprocess.run(argv, input=data, capture_output=True, env=env, timeout=TIME_LIMIT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", e.stderr or b""


PROGS = {"smtp": "postern-smtpd", "pop3": "postern-pop3d", "imap": "postern-imapd"}


def main(a):
    build, table, proto = a[0], a[1], a[2]
    only = a[3] if len(a) > 3 else ""
    binary = os.path.join(build, PROGS[proto])
    if not os.access(binary, os.X_OK):
        print("1..0 # SKIP %s not built" % binary)
        return 0
    asan = is_asan(binary)
    print("# memory bound: %s" % ("none (ASan build: it reserves a huge address space)"
                                  if asan else "prlimit --as=%d" % MEM_LIMIT))
    cases = []
    with open(table, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 8:
                print("not ok - %s:%d has %d columns, not 8" % (table, ln, len(cols)))
                return 1
            if cols[0] == proto and ((only[1:] not in cols[1]) if only.startswith("!")
                                     else (only in cols[1])):
                cases.append((ln, cols))
    top = tempfile.mkdtemp(prefix="rel-badinput.")
    print("1..%d" % len(cases))
    nfail = 0
    for i, (ln, (_, name, args, plant, seed, inp, expect, disk)) in enumerate(cases, 1):
        w, box, out = make_world(top)
        env = dict(os.environ, POSTERN_CONF=os.path.join(w, "postern.conf"),
                   POSTERN_PEER="127.0.0.1", POSTERN_FAIL_DELAY_MS="0", POSTERN_LOG="stderr")
        why = []
        if plant != "-":
            for item in plant.split(";"):
                src, _, dst = item.partition("->")
                p = os.path.join(box, src.strip())
                if os.path.lexists(p):
                    if os.path.isdir(p) and not os.path.islink(p):
                        shutil.rmtree(p)
                    else:
                        os.unlink(p)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                os.symlink(dst.strip().replace("$OUT", out), p)
        if seed != "-":
            m = eval(seed, HELPERS)
            s = ENV + b"DATA\r\n" + m.replace(b"\r\n.", b"\r\n..") + b".\r\nQUIT\r\n"
            rc, o, _ = run(build, "postern-smtpd", [], s, env, True)
            if b"\r\n250 2.0.0" not in o:
                why.append("seed not delivered: %r" % o[-200:])
        if os.access(os.path.join(build, "postern-imapd"), os.X_OK):
            run(build, "postern-imapd", [], SEL + b"c LOGOUT\r\n", env, True)
        before = snapshot(os.path.join(w, "mail"), out)
        data = eval(inp, HELPERS)
        rc, o, e = run(build, PROGS[proto], [] if args == "-" else args.split(), data, env, asan)
        text = o.decode("latin-1")
        after = snapshot(os.path.join(w, "mail"), out)
        if rc == "timeout":
            why.append("no exit within %d s" % TIME_LIMIT)
        elif rc < 0:
            why.append("killed by signal %d" % -rc)
        elif rc != 0:
            why.append("exit status %d" % rc)
        if b"Sanitizer" in e or b"runtime error:" in e:
            why.append("sanitizer: " + e.decode("latin-1")[-1500:])
        if not re.search(expect, text, re.S):
            why.append("output does not match /%s/" % expect)
        if SECRET in o:
            why.append("a file outside the mail root was read into a reply")
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        outside = [p for p in changed if p.startswith(out + "/") or p == out]
        if outside:
            why.append("outside the mail root changed: %s" % outside)
        if disk == "same" and changed:
            why.append("the store changed: %s" % changed[:6])
        elif disk == "new1":
            added = [p for p in changed if p not in before]
            if len(changed) != 1 or len(added) != 1 or not added[0].startswith(box + "/new/"):
                why.append("want exactly one new message, changes: %s" % changed[:6])
        elif disk not in ("same", "new1", "any"):
            why.append("bad disk column %r" % disk)
        label = "%s %s (line %d)" % (proto, name, ln)
        if why:
            nfail += 1
            print("not ok %d - %s" % (i, label))
            for y in why:
                print("#   " + y.replace("\n", "\n#   "))
            print("#   output: %r" % o[-800:])
            tail = [l for l in e.decode("latin-1").splitlines() if "Sanitizer" in l or "ERROR" in l]
            if tail:
                print("#   stderr: %s" % tail[:5])
        else:
            print("ok %d - %s" % (i, label))
    shutil.rmtree(top, ignore_errors=True)
    print("# %s: cases=%d failed=%d" % (proto, len(cases), nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
