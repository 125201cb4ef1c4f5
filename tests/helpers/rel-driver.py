#!/usr/bin/env python3
"""rel-driver: client side of the reliability suites (tests/crash.bats,
tests/diskfull.bats). Handlers are run directly on pipes (no server).

Every message carries its own proof: X-Rel-Token (unique), X-Rel-Len and
X-Rel-Sum (sha256 of the body, i.e. everything after the first empty line
of what we sent). A stored file is complete iff its body matches.

  rel-driver.py crash-smtp BIN CONF MAILDIR LEDGER N [KILL_SHARE]
      N SMTP sessions (4 at a time), each delivering one message to alice;
      a KILL_SHARE of them get SIGKILL at a random instant between start
      and 1.3 x the median session time. LEDGER gets "token acked|killed|
      unacked" per session. Then checks the store (see verify).
  rel-driver.py crash-imap BIN CONF MAILDIR LEDGER N [KILL_SHARE]
      the same with IMAP LOGIN + APPEND (LITERAL+) + LOGOUT; APPENDUID is
      recorded and checked against the final uid list.
  rel-driver.py crash-imap-ops BIN_DIR CONF MAILDIR N [KILL_SHARE]
      deliver 200 messages (one SMTP session), then N IMAP sessions doing
      UID STORE, UID MOVE to "Moved" and \\Deleted + EXPUNGE on random
      UIDs, a KILL_SHARE of them SIGKILLed at random instants. Afterwards
      every message is in INBOX exactly once, unless it was flagged
      \\Deleted (may be gone) or moved (then in Moved once, and in INBOX too
      only when that MOVE was killed); both uid lists consistent.
  rel-driver.py smtp-send BIN CONF TOKEN SIZE
      one delivery; prints the reply to the end of DATA ("452 4.3.1 ...").
  rel-driver.py imap-append BIN CONF TOKEN SIZE
      one APPEND; prints the tagged reply.
  rel-driver.py verify MAILDIR LEDGER [RELCHECK]
      every "acked" token of LEDGER present exactly once and byte-exact,
      every file in new/ and cur/ a complete message (no partial one),
      no token twice; with RELCHECK (the rel-check binary) the uid list
      is consistent and APPENDUIDs map to their messages.
Prints a summary line; exit 0 when all is well, 1 otherwise.
"""
import hashlib
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def make_body(token, size, rng):
    lines = []
    n = 0
    while n < size:
        k = rng.randrange(1, 78)
        line = "".join(chr(rng.randrange(33, 127)) for _ in range(min(k, 20)))
        line = (line * (k // 20 + 1))[:k]
        if rng.random() < 0.05:
            line = "." + line  # exercises dot-stuffing
        lines.append(line)
        n += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode()


def make_msg(token, size, rng=None):
    rng = rng or random.Random(token)
    body = make_body(token, size, rng)
    head = ("From: rel@example.org\r\nTo: alice@example.org\r\nSubject: rel %s\r\n"
            "X-Rel-Token: %s\r\nX-Rel-Len: %d\r\nX-Rel-Sum: %s\r\n\r\n"
            % (token, token, len(body), hashlib.sha256(body).hexdigest())).encode()
    return head + body


def dot_stuff(msg):
    out = []
    for line in msg.split(b"\r\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\r\n".join(out)


def smtp_session(msg):
    return (b"EHLO rel.example\r\nMAIL FROM:<rel@example.org>\r\n"
            b"RCPT TO:<alice@example.org>\r\nDATA\r\n" + dot_stuff(msg) + b".\r\nQUIT\r\n")


def imap_session(msg):
    return (b"a LOGIN alice secret\r\nb APPEND INBOX (\\Flagged) {%d+}\r\n" % len(msg)
            + msg + b"\r\nc LOGOUT\r\n")


def smtp_result(out):
    """The reply to the end of DATA, or None."""
    lines = out.split(b"\r\n")
    for i, l in enumerate(lines):
        if l.startswith(b"354 ") and i + 1 < len(lines) and lines[i + 1]:
            return lines[i + 1].decode(errors="replace")
    return None


def imap_result(out):
    m = re.search(rb"^b (OK|NO|BAD)[^\r\n]*", out, re.M)
    return m.group(0).decode(errors="replace") if m else None


def run_one(argv, env, data, kill_after=None):
    """Run a handler with DATA on stdin; SIGKILL after kill_after seconds.
    Returns (stdout, killed, duration)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)

    def writer():
        try:
            p.stdin.write(data)
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    out = []

    def reader():
        out.append(p.stdout.read())
    tw = threading.Thread(target=writer)
    tr = threading.Thread(target=reader)
    tw.start()
    tr.start()
    killed = False
    if kill_after is not None:
        try:
            p.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            killed = True
    p.wait(timeout=120)
    tw.join()
    tr.join()
    return out[0], killed, time.monotonic() - t0


def pick_size(rng):
    r = rng.random()
    if r < 0.7:
        return rng.randrange(200, 4000)
    if r < 0.95:
        return rng.randrange(4000, 64000)
    return rng.randrange(64000, 400000)


def crash(proto, binary, conf, maildir, ledger, n, share):
    env = dict(os.environ, POSTERN_CONF=conf)
    env.setdefault("POSTERN_LOG", "stderr")
    rng = random.Random()
    seed = int(os.environ.get("REL_SEED") or rng.randrange(1 << 30))
    rng.seed(seed)
    print("seed=%d" % seed)
    argv = [binary, "-c", conf]
    make_session = smtp_session if proto == "smtp" else imap_session
    result = smtp_result if proto == "smtp" else imap_result
    # calibrate: how long a whole session takes on this machine and build
    durs = []
    for i in range(6):
        tok = "cal%d_%d" % (seed, i)
        out, _, d = run_one(argv, env, make_session(make_msg(tok, 2000)))
        durs.append(d)
        r = result(out)
        ok = r and (r.startswith("250 ") or r.startswith("b OK"))
        with open(ledger, "a") as f:
            f.write("%s %s %s\n" % (tok, "acked" if ok else "unacked", appenduid(r)))
    med = statistics.median(durs)
    print("median_session=%.4fs" % med)
    jobs = []
    for i in range(n):
        tok = "t%d_%d" % (seed, i)
        size = pick_size(rng)
        kill = rng.random() < share
        jobs.append((tok, size, rng.uniform(0, med * 1.3) if kill else None))
    lock = threading.Lock()
    stats = {"acked": 0, "killed": 0, "killed_after_ack": 0, "unacked": 0}
    lf = open(ledger, "a")

    def job(j):
        tok, size, k = j
        out, killed, _ = run_one(argv, env, make_session(make_msg(tok, size)), k)
        r = result(out)
        ok = bool(r) and (r.startswith("250 ") or r.startswith("b OK"))
        with lock:
            if ok:
                stats["acked"] += 1
                if killed:
                    stats["killed_after_ack"] += 1
            elif killed:
                stats["killed"] += 1
            else:
                stats["unacked"] += 1
                fail("%s: not killed but no success reply: %r" % (tok, out[-300:]))
            lf.write("%s %s %s\n" % (tok, "acked" if ok else ("killed" if killed else "unacked"),
                                     appenduid(r)))
    with ThreadPoolExecutor(max_workers=4) as ex:
        list(ex.map(job, jobs))
    lf.close()
    print("sessions=%d acked=%d killed_before_ack=%d killed_after_ack=%d unacked=%d"
          % (n, stats["acked"], stats["killed"], stats["killed_after_ack"], stats["unacked"]))


def appenduid(r):
    m = re.search(r"\[APPENDUID (\d+) (\d+)\]", r or "")
    return "%s/%s" % (m.group(1), m.group(2)) if m else "-"


def parse_stored(data):
    """(token, complete) of a stored file."""
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return None, False
    head, body = data[:i + 2], data[i + 4:]
    tok = re.search(rb"^X-Rel-Token: (\S+)\r$", head, re.M)
    ln = re.search(rb"^X-Rel-Len: (\d+)\r$", head, re.M)
    sm = re.search(rb"^X-Rel-Sum: ([0-9a-f]+)\r$", head, re.M)
    if not (tok and ln and sm):
        return (tok.group(1).decode() if tok else None), False
    ok = int(ln.group(1)) == len(body) and hashlib.sha256(body).hexdigest() == sm.group(1).decode()
    return tok.group(1).decode(), ok


def scan(maildir):
    """token -> [file names]; checks every file in new/ and cur/."""
    seen = {}
    files = 0
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for name in sorted(os.listdir(d)):
            if name.startswith("."):
                continue
            files += 1
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            m = re.search(r",S=(\d+)", name)
            if m and int(m.group(1)) != len(data):
                fail("%s/%s: S=%s but %d bytes" % (sub, name, m.group(1), len(data)))
            tok, ok = parse_stored(data)
            if not ok:
                fail("%s/%s: partial or corrupt message (token %s, %d bytes)"
                     % (sub, name, tok, len(data)))
                continue
            seen.setdefault(tok, []).append(sub + "/" + name)
    return seen, files


def verify(maildir, ledger, relcheck=None):
    seen, files = scan(maildir)
    acked = {}
    nled = 0
    with open(ledger) as f:
        for line in f:
            tok, state, uid = line.split()
            nled += 1
            if state == "acked":
                acked[tok] = uid
    for tok, names in seen.items():
        if len(names) > 1:
            fail("token %s stored %d times: %s" % (tok, len(names), names))
    for tok in acked:
        if tok not in seen:
            fail("acknowledged message %s is missing" % tok)
    extra = len([t for t in seen if t not in acked])
    tmp = len(os.listdir(os.path.join(maildir, "tmp")))
    if relcheck:
        p = subprocess.run([relcheck, maildir], capture_output=True, text=True)
        if p.returncode != 0:
            fail("rel-check: " + p.stderr.strip())
        byuid = {}
        m = re.search(r"uidvalidity=(\d+)", p.stdout)
        final_v = m.group(1) if m else None
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].isdigit():
                byuid[parts[0]] = parts[1]
        for tok, uid in acked.items():
            if uid == "-" or tok not in seen:
                continue
            v, u = uid.split("/")
            if v != final_v:
                fail("APPENDUID of %s had UIDVALIDITY %s, the list now %s" % (tok, v, final_v))
            base = byuid.get(u)
            if base is None:
                fail("APPENDUID %s of %s not in the uid list" % (u, tok))
            elif not any(n.split("/", 1)[1].split(":")[0] == base.split(":")[0] for n in seen[tok]):
                fail("APPENDUID %s is %s, not the file of %s (%s)" % (u, base, tok, seen[tok]))
        print(p.stdout.splitlines()[-1] if p.stdout else "rel-check: no output")
    print("ledger=%d acked=%d files=%d stored_unacked=%d tmp=%d failures=%d"
          % (nled, len(acked), files, extra, tmp, len(failures)))


def one(proto, binary, conf, token, size):
    env = dict(os.environ, POSTERN_CONF=conf)
    env.setdefault("POSTERN_LOG", "stderr")
    msg = make_msg(token, size)
    if proto == "smtp":
        out, _, _ = run_one([binary, "-c", conf], env, smtp_session(msg))
        print(smtp_result(out) or "no reply: %r" % out[-300:])
    else:
        out, _, _ = run_one([binary, "-c", conf], env, imap_session(msg))
        print(imap_result(out) or "no reply: %r" % out[-300:])


def relcheck_map(relcheck, box):
    """uid -> token of BOX, after rel-check (which must pass)."""
    p = subprocess.run([relcheck, box], capture_output=True, text=True)
    if p.returncode != 0:
        fail("rel-check %s: %s" % (box, p.stderr.strip()[-2000:]))
    seen, _ = scan(box)
    base2tok = {}
    for tok, names in seen.items():
        for nm in names:
            base2tok[nm.split("/", 1)[1].split(":")[0]] = tok
    out = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            out[int(parts[0])] = base2tok.get(parts[1].split(":")[0])
    return out, seen, (p.stdout.splitlines() or [""])[-1]


def crash_imap_ops(bindir, conf, box, n, share):
    env = dict(os.environ, POSTERN_CONF=conf)
    env.setdefault("POSTERN_LOG", "stderr")
    relcheck = os.environ["RELCHECK"]
    rng = random.Random()
    seed = int(os.environ.get("REL_SEED") or rng.randrange(1 << 30))
    rng.seed(seed)
    print("seed=%d" % seed)
    sess = b"EHLO rel.example\r\n"
    toks = []
    for i in range(200):
        tok = "o%d_%d" % (seed, i)
        toks.append(tok)
        sess += (b"MAIL FROM:<rel@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"
                 + dot_stuff(make_msg(tok, rng.randrange(200, 3000))) + b".\r\n")
    out, _, _ = run_one([os.path.join(bindir, "postern-smtpd"), "-c", conf], env, sess + b"QUIT\r\n")
    if out.count(b"\r\n250 2.0.0 ") != 200:
        fail("seeding: %d of 200 delivered" % out.count(b"\r\n250 2.0.0 "))
        return
    imapd = [os.path.join(bindir, "postern-imapd"), "-c", conf]
    run_one(imapd, env, b"a LOGIN alice secret\r\nb CREATE Moved\r\nc SELECT INBOX\r\nd LOGOUT\r\n")
    uid2tok, _, _ = relcheck_map(relcheck, box)
    if sorted(uid2tok.values()) != sorted(toks):
        fail("seeded uid list does not hold the 200 messages")
        return
    uids = sorted(uid2tok)
    deletable, moving, moved_ok, move_killed = set(), set(), set(), set()
    durs = []
    stats = {"killed": 0, "completed": 0}
    for i in range(n):
        st = rng.sample(uids, 6)
        dl = rng.sample(uids, 1)
        mv = rng.choice(uids)
        script = (b"a LOGIN alice secret\r\nb SELECT INBOX\r\n"
                  b"c UID STORE %s +FLAGS (\\Seen \\Flagged)\r\n" % ",".join(map(str, st[:3])).encode()
                  + b"d UID STORE %s -FLAGS (\\Seen)\r\n" % ",".join(map(str, st[3:])).encode()
                  + b"e UID MOVE %d Moved\r\n" % mv
                  + b"f UID STORE %s +FLAGS (\\Deleted)\r\ng EXPUNGE\r\nh LOGOUT\r\n"
                  % ",".join(map(str, dl)).encode())
        for u in dl:
            deletable.add(uid2tok[u])
        moving.add(uid2tok[mv])
        kill = None
        if i >= 5 and rng.random() < share:
            kill = rng.uniform(0, statistics.median(durs) * 1.2)
        out, killed, d = run_one(imapd, env, script, kill)
        if kill is None:
            durs.append(d)
        if killed:
            stats["killed"] += 1
        else:
            stats["completed"] += 1
            if not re.search(rb"^h OK", out, re.M):
                fail("session %d not killed but did not complete: %r" % (i, out[-300:]))
        if re.search(rb"^e OK", out, re.M):
            moved_ok.add(uid2tok[mv])
        elif killed:
            move_killed.add(uid2tok[mv])
    inbox, iseen, iline = relcheck_map(relcheck, box)
    moved, mseen, mline = relcheck_map(relcheck, os.path.join(box, ".Moved"))
    dup_after_kill = set()
    for tok in toks:
        ni, nm = len(iseen.get(tok, [])), len(mseen.get(tok, []))
        if ni > 1 or (nm > 1 and tok not in move_killed):
            fail("%s stored twice in one mailbox (INBOX %d, Moved %d)" % (tok, ni, nm))
        if nm > 1 or (ni and nm and tok not in moved_ok):
            # MOVE is copy + expunge: a kill in between leaves the message
            # in both mailboxes (the accepted duplicate window, as in
            # Dovecot), and moving the INBOX copy again adds another
            dup_after_kill.add(tok)
        if ni + nm == 0 and tok not in deletable:
            fail("%s is lost (never flagged \\Deleted)" % tok)
        if nm and tok not in moving:
            fail("%s is in Moved but nobody moved it" % tok)
        if ni and nm and tok in moved_ok and tok not in deletable:
            # a completed MOVE leaves no copy behind (a killed one may)
            fail("%s is in both INBOX and Moved after its MOVE said OK" % tok)
        if tok in moved_ok and nm == 0 and tok not in deletable:
            fail("%s: MOVE said OK but it is not in Moved" % tok)
    for tok in dup_after_kill:
        if tok not in move_killed:
            fail("%s is duplicated though no MOVE of it was killed" % tok)
    for u, tok in inbox.items():
        if uid2tok.get(u) != tok:
            fail("INBOX uid %d is %s, was %s" % (u, tok, uid2tok.get(u)))
    print("INBOX: " + iline)
    print("Moved: " + mline)
    print("sessions=%d killed=%d completed=%d deletable=%d moved_ok=%d move_killed=%d "
          "duplicated_by_killed_move=%d inbox=%d moved=%d failures=%d"
          % (n, stats["killed"], stats["completed"], len(deletable), len(moved_ok),
             len(move_killed), len(dup_after_kill), len(iseen), len(mseen), len(failures)))


def main(a):
    if len(a) >= 6 and a[0] in ("crash-smtp", "crash-imap"):
        crash(a[0][6:], a[1], a[2], a[3], a[4], int(a[5]), float(a[6]) if len(a) > 6 else 0.5)
        verify(a[3], a[4], os.environ.get("RELCHECK"))
    elif len(a) >= 5 and a[0] == "crash-imap-ops":
        crash_imap_ops(a[1], a[2], a[3], int(a[4]), float(a[5]) if len(a) > 5 else 0.5)
    elif len(a) == 5 and a[0] in ("smtp-send", "imap-append"):
        one("smtp" if a[0] == "smtp-send" else "imap", a[1], a[2], a[3], int(a[4]))
        return 0
    elif len(a) in (3, 4) and a[0] == "verify":
        verify(a[1], a[2], a[3] if len(a) > 3 else None)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
