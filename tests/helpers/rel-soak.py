#!/usr/bin/env python3
"""rel-soak: concurrency soak on one mailbox (tests/soak.bats).

  rel-soak.py MAILDIR RELCHECK SMTP_PORT IMAP_PORT POP3_PORT
      (IMAP_PORT/POP3_PORT 0: that protocol is not exercised)

16 SMTP senders (smtplib), 4 IMAP sessions (UID FETCH, flag changes,
UID COPY to Archive, UID MOVE to Moved, \\Deleted + EXPUNGE) and 2 POP3
sessions (UIDL, TOP, RETR, DELE, QUIT) on alice's mailbox, all at once, for
a bounded number of rounds (SOAK_ROUNDS, default 8), or for SOAK_SECONDS
seconds when set (manual long runs). SOAK_SABOTAGE=1 removes one message
file at the end, behind every session's back: the checks must then fail. Every message is self-checking (token
and sha256, see rel-driver.py). The ledger of what each session says it did
is then compared with the final store:

  - every file is complete; every message SMTP accepted is in INBOX exactly
    once, unless a session flagged it \\Deleted (IMAP) or deleted it (POP3
    DELE + QUIT +OK) or moved it (MOVE, per COPYUID) -- then it may be gone;
  - Moved and Archive hold exactly the copies COPYUID reported, under the
    UIDs it reported, nothing else;
  - every UID any session saw maps to one token, in every session and in the
    final uid list; UIDs in each FETCH answer strictly increasing; a UID
    seen earlier and absent at the end belongs to a deleted/moved message;
  - POP3 UIDLs map to one token each across sessions;
  - each mailbox's uid list is consistent (rel-check).
"""
import hashlib
import imaplib
import os
import poplib
import random
import re
import smtplib
import subprocess
import sys
import threading
import time

import importlib.util  # noqa: E402
# the message format and store scan of rel-driver.py (its name has a dash)
_spec = importlib.util.spec_from_file_location(
    "rel_driver", os.path.join(os.path.dirname(os.path.abspath(__file__)), "rel-driver.py"))
drv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(drv)

lock = threading.RLock()  # fail() may be called with it held
failures = []
acked = set()          # tokens SMTP accepted
deleted = set()        # tokens some session flagged \Deleted or POP3-deleted
moved = {}             # token -> dest uid in Moved
copies = {}            # dest uid in Archive -> token
uidmap = {}            # (mailbox, uid) -> token, as seen by any session
uidlmap = {}           # pop3 uidl -> token
stats = {"expungeissued": 0, "smtp": 0, "imap_rounds": 0, "pop3_rounds": 0, "pop3_busy": 0, "flags": 0,
         "copied": 0, "moved": 0, "expunged": 0, "pop3_deleted": 0, "fetch_checked": 0}
ROUNDS = int(os.environ.get("SOAK_ROUNDS", "8"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "0"))
T0 = time.monotonic()


def fail(msg):
    with lock:
        failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def more(i):
    if SECONDS > 0:
        return time.monotonic() - T0 < SECONDS
    return i < ROUNDS


def bump(k, n=1):
    with lock:
        stats[k] += n


def see_uid(box, uid, tok, who):
    with lock:
        old = uidmap.setdefault((box, uid), tok)
    if old != tok:
        fail("%s: %s uid %d is %s, earlier %s" % (who, box, uid, tok, old))


def smtp_sender(n, port):
    i = 0
    while more(i):
        for k in range(3):
            tok = "s%d_%d_%d" % (n, i, k)
            msg = drv.make_msg(tok, random.randrange(200, 6000))
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                    s.sendmail("rel@example.org", ["alice@example.org"], msg)
                with lock:
                    acked.add(tok)
                    stats["smtp"] += 1
            except (smtplib.SMTPException, OSError) as e:
                fail("smtp %s: %r" % (tok, e))
        i += 1


def uidset(s):
    out = []
    for part in s.split(","):
        a, _, b = part.partition(":")
        a = int(a)
        b = int(b) if b else a
        out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return out


def copyuid(texts):
    for t in texts:
        if isinstance(t, bytes):
            t = t.decode(errors="replace")
        m = re.search(r"\[COPYUID (\d+) ([0-9:,]+) ([0-9:,]+)\]", t or "")
        if m:
            return list(zip(uidset(m.group(2)), uidset(m.group(3))))
    return []


def fetch_view(M, who):
    """UID -> token of the selected INBOX, checked."""
    M.untagged_responses.pop("FETCH", None)  # unsolicited flag updates
    typ, tagged = M._simple_command("UID", "FETCH", "1:*",
                                    "(UID FLAGS BODY.PEEK[HEADER.FIELDS (X-Rel-Token)])")
    data = M.untagged_responses.pop("FETCH", [])
    if typ != "OK":
        # NO [EXPUNGEISSUED] (RFC 5530, as Dovecot): another session
        # expunged messages this one still shows; the rest is answered
        if typ == "NO" and b"EXPUNGEISSUED" in b"".join(tagged):
            bump("expungeissued")
        else:
            fail("%s: UID FETCH %s %r" % (who, typ, data))
            return {}
    view = {}
    prev = 0
    for item in data:
        if not isinstance(item, tuple):
            continue
        m = re.search(rb"UID (\d+)", item[0])
        t = re.search(rb"X-Rel-Token: (\S+)", item[1])
        if not m:
            fail("%s: FETCH item without UID: %r" % (who, item[0]))
            continue
        uid = int(m.group(1))
        if uid <= prev:
            fail("%s: UIDs not increasing in FETCH: %d after %d: %r" % (who, uid, prev, item))
        prev = uid
        if not t:
            fail("%s: uid %d has no token" % (who, uid))
            continue
        tok = t.group(1).decode()
        view[uid] = tok
        see_uid("INBOX", uid, tok, who)
    return view


def imap_session(n, port):
    rng = random.Random()
    who = "imap%d" % n
    i = 0
    last_next = 0
    while more(i):
        try:
            M = imaplib.IMAP4("127.0.0.1", port, timeout=60)
            M.login("alice", "secret")
            for name in ("Archive", "Moved"):
                M.create(name)  # NO when it exists: fine
            typ, _ = M.select("INBOX")
            if typ != "OK":
                fail("%s: SELECT %s" % (who, typ))
                break
            for _ in range(3):
                if not more(i):
                    break
                i += 1
                bump("imap_rounds")
                typ, st = M.status("INBOX", "(UIDNEXT)")
                nxt = int(re.search(rb"UIDNEXT (\d+)", st[0]).group(1))
                if nxt < last_next:
                    fail("%s: UIDNEXT went down %d -> %d" % (who, last_next, nxt))
                last_next = nxt
                view = fetch_view(M, who)
                uids = sorted(view)
                if not uids:
                    time.sleep(0.05)
                    continue
                # flags
                pick = rng.sample(uids, min(4, len(uids)))
                for u in pick:
                    op = rng.choice(["+FLAGS", "-FLAGS"])
                    fl = rng.choice(["(\\Flagged)", "(\\Seen)", "(\\Answered \\Seen)"])
                    typ, dat = M._simple_command("UID", "STORE", str(u), op, fl)
                    M.untagged_responses.pop("FETCH", None)
                    if typ != "OK" and b"EXPUNGEISSUED" not in b"".join(dat):
                        fail("%s: STORE %s %r" % (who, typ, dat))
                    bump("flags")
                # copy
                u = rng.choice(uids)
                typ, dat = M._simple_command("UID", "COPY", str(u), "Archive")
                if typ == "OK":
                    for s, d in copyuid(dat):
                        with lock:
                            if d in copies:
                                fail("%s: Archive uid %d given twice" % (who, d))
                            copies[d] = uidmap[("INBOX", s)]
                        bump("copied")
                # move
                u = rng.choice(uids)
                M.untagged_responses.pop("OK", None)
                typ, dat = M.uid("MOVE", str(u), "Moved")
                if typ == "OK":
                    for s, d in copyuid(M.untagged_responses.pop("OK", []) + list(dat)):
                        tok = uidmap[("INBOX", s)]
                        with lock:
                            if tok in moved:
                                fail("%s: %s moved twice" % (who, tok))
                            moved[tok] = d
                        bump("moved")
                # delete and expunge
                victims = [x for x in rng.sample(uids, min(2, len(uids)))]
                with lock:
                    for x in victims:
                        deleted.add(view[x])
                typ, _ = M.uid("STORE", ",".join(map(str, victims)), "+FLAGS", "(\\Deleted)")
                typ, dat = M.expunge()
                if typ != "OK":
                    fail("%s: EXPUNGE %s" % (who, typ))
                bump("expunged", len([d for d in dat if d]))
                # the view after our own changes: nothing we did not
                # delete or move may have gone, nothing new may be old
                after = fetch_view(M, who)
                for x in after:
                    if x < uids[-1] and x not in view:
                        fail("%s: uid %d appeared below the highest uid seen before" % (who, x))
            M.logout()
        except (imaplib.IMAP4.error, OSError) as e:
            fail("%s: %r" % (who, e))
            return


def pop3_session(n, port):
    rng = random.Random()
    who = "pop%d" % n
    i = 0
    while more(i):
        i += 1
        try:
            P = poplib.POP3("127.0.0.1", port, timeout=60)
            P.user("alice")
            try:
                P.pass_("secret")
            except poplib.error_proto as e:
                # the maildrop is locked by the other POP3 session
                bump("pop3_busy")
                P.close()
                if "IN-USE" not in str(e) and "in use" not in str(e).lower():
                    fail("%s: PASS %r" % (who, e))
                time.sleep(0.05)
                continue
            bump("pop3_rounds")
            _, lines, _ = P.uidl()
            msgs = []
            for ln in lines:
                num, uidl = ln.decode().split()
                msgs.append((int(num), uidl))
            mytoks = {}
            for num, uidl in rng.sample(msgs, min(3, len(msgs))):
                try:
                    _, hl, _ = P.top(num, 0)
                except poplib.error_proto as e:
                    # IMAP expunged or moved it meanwhile: a defined answer
                    if "removed by another session" not in str(e):
                        fail("%s: TOP %d %r" % (who, num, e))
                    continue
                tok = None
                for h in hl:
                    if h.startswith(b"X-Rel-Token: "):
                        tok = h[13:].decode().strip()
                if tok is None:
                    fail("%s: message %d has no token" % (who, num))
                    continue
                mytoks[num] = tok
                with lock:
                    old = uidlmap.setdefault(uidl, tok)
                if old != tok:
                    fail("%s: UIDL %s is %s, earlier %s" % (who, uidl, tok, old))
            if mytoks:
                num = rng.choice(list(mytoks))
                try:
                    _, body, _ = P.retr(num)
                    data = b"\r\n".join(body) + b"\r\n"  # poplib unstuffs dots
                    tok, ok = drv.parse_stored(data)
                    bump("fetch_checked")
                    if not ok or tok != mytoks[num]:
                        fail("%s: RETR %d: token %s complete=%s" % (who, num, tok, ok))
                except poplib.error_proto as e:
                    if "removed by another session" not in str(e):
                        fail("%s: RETR %d %r" % (who, num, e))
                victim = rng.choice(list(mytoks))
                P.dele(victim)
                with lock:
                    deleted.add(mytoks[victim])  # may go: said so before QUIT
                resp = P.quit()
                if not resp.startswith(b"+OK"):
                    fail("%s: QUIT %r" % (who, resp))
                bump("pop3_deleted")
            else:
                P.quit()
        except (poplib.error_proto, OSError) as e:
            fail("%s: %r" % (who, e))
            return


def final_box(path, relcheck, who):
    """uid -> token of a maildir at the end, with rel-check."""
    p = subprocess.run([relcheck, path], capture_output=True, text=True)
    if p.returncode != 0:
        fail("rel-check %s: %s" % (who, p.stderr.strip()[-2000:]))
    files = {}
    seen, _ = drv.scan(path)
    for f in drv.failures:
        fail("%s: %s" % (who, f))
    del drv.failures[:]
    base2tok = {}
    for tok, names in seen.items():
        for nm in names:
            base2tok[nm.split("/", 1)[1].split(":")[0]] = tok
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            files[int(parts[0])] = base2tok.get(parts[1].split(":")[0])
    return files, seen, p.stdout.splitlines()[-1] if p.stdout else ""


def main(a):
    maildir, relcheck, sp, ip, pp = a[0], a[1], int(a[2]), int(a[3]), int(a[4])
    threads = [threading.Thread(target=smtp_sender, args=(n, sp)) for n in range(16)]
    if ip:
        threads += [threading.Thread(target=imap_session, args=(n, ip)) for n in range(4)]
    if pp:
        threads += [threading.Thread(target=pop3_session, args=(n, pp)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if os.environ.get("SOAK_SABOTAGE"):
        # self-test of the checks: lose one message behind everyone's back
        for sub in ("cur", "new"):
            names = sorted(os.listdir(os.path.join(maildir, sub)))
            if names:
                os.unlink(os.path.join(maildir, sub, names[0]))
                print("sabotage: removed %s/%s" % (sub, names[0]))
                break
    inbox, seen, line = final_box(maildir, relcheck, "INBOX")
    print("INBOX: " + line)
    for tok, names in seen.items():
        if len(names) > 1:
            fail("INBOX holds %s %d times" % (tok, len(names)))
    for tok in acked:
        if tok not in seen and tok not in deleted and tok not in moved:
            fail("message %s accepted by SMTP is lost" % tok)
    for tok in seen:
        if tok not in acked:
            fail("INBOX holds %s that SMTP never acknowledged" % tok)
        if tok in moved and tok not in deleted:
            fail("%s was moved but is still in INBOX" % tok)
    for (box, uid), tok in uidmap.items():
        if box != "INBOX":
            continue
        if uid in inbox and inbox[uid] != tok:
            fail("INBOX uid %d is %s at the end, a session saw %s" % (uid, inbox[uid], tok))
        if uid not in inbox and tok not in deleted and tok not in moved:
            fail("INBOX uid %d (%s) vanished without a delete or move" % (uid, tok))
    if ip:
        for name, want in (("Moved", {d: t for t, d in moved.items()}), ("Archive", copies)):
            path = os.path.join(maildir, "." + name)
            got, gseen, line = final_box(path, relcheck, name)
            print("%s: %s" % (name, line))
            if got != want:
                extra = {u: t for u, t in got.items() if want.get(u) != t}
                miss = {u: t for u, t in want.items() if got.get(u) != t}
                fail("%s differs from the COPYUID ledger: unexpected %s, missing %s"
                     % (name, sorted(extra.items())[:5], sorted(miss.items())[:5]))
    st = " ".join("%s=%d" % kv for kv in sorted(stats.items()))
    print("acked=%d deleted_or_flagged=%d moved=%d copies=%d %s failures=%d"
          % (len(acked), len(deleted), len(moved), len(copies), st, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
