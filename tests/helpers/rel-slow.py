#!/usr/bin/env python3
"""rel-slow: slow clients against the idle timeout (tests/badinput.bats).

  rel-slow.py BUILD_DIR TIMEOUT PROTO...

The config ($POSTERN_CONF) must set smtp/pop3/imap_timeout = TIMEOUT. Per
protocol, all at once: a client sends one command one byte per second
(slower in total than TIMEOUT, each gap shorter): it must be answered
normally, since the line is not idle; then it sends half a command and
goes silent: the handler must give its timeout reply (SMTP 421 4.4.2, POP3
-ERR, IMAP * BYE) and exit, between TIMEOUT and TIMEOUT + 5 s after the last
byte. Prints one line per protocol; exit 1 when any failed.
"""
import os
import select
import subprocess
import sys
import threading
import time

CASES = {
    # greeting, trickled command, its answer, timeout reply
    "smtp": ("postern-smtpd", b"220 ", b"NOOP\r\n", b"250 ", b"421 4.4.2 "),
    "pop3": ("postern-pop3d", b"+OK ", b"CAPA\r\n", b"+OK ", b"-ERR "),
    "imap": ("postern-imapd", b"* OK ", b"a NOOP\r\n", b"a OK ", b"* BYE "),
}
results = {}


def read_until(p, buf, want, deadline):
    while want not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf, False
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            return buf, False
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            return buf, False
        buf += chunk
    return buf, True


def one(build, timeout, proto):
    prog, greet, cmd, answer, bye = CASES[proto]
    path = os.path.join(build, prog)
    if not os.access(path, os.X_OK):
        results[proto] = "skip (%s not built)" % prog
        return
    p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    why = []
    buf, ok = read_until(p, b"", greet, time.monotonic() + 20)
    if not ok:
        why.append("no greeting")
    t0 = time.monotonic()
    for b in cmd:
        p.stdin.write(bytes([b]))
        p.stdin.flush()
        time.sleep(1.0)
    if time.monotonic() - t0 <= timeout:
        why.append("the trickle was not slower than the timeout")
    buf, ok = read_until(p, buf, b"\r\n" + answer, time.monotonic() + 10)
    if not ok:
        why.append("trickled command not answered (cut off while sending?): %r" % buf[-200:])
    n = len(buf)
    p.stdin.write(cmd[:2])
    p.stdin.flush()
    last = time.monotonic()
    buf, ok = read_until(p, buf, bye, last + timeout + 5)
    waited = time.monotonic() - last
    if not ok:
        why.append("no timeout reply %r within %d s: %r" % (bye, timeout + 5, buf[n:]))
    elif waited < timeout - 0.5:
        why.append("timed out after %.1f s, before the %d s idle timeout" % (waited, timeout))
    try:
        rc = p.wait(timeout=10)
        if rc != 0:
            why.append("exit status %d" % rc)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        why.append("did not exit after the timeout reply")
    p.stdin.close()
    p.stdout.close()
    results[proto] = ("FAIL: " + "; ".join(why)) if why else "ok (timeout reply after %.1f s idle)" % waited


def main(a):
    build, timeout = a[0], int(a[1])
    ts = [threading.Thread(target=one, args=(build, timeout, pr)) for pr in a[2:]]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = 0
    for pr in a[2:]:
        print("%s: %s" % (pr, results[pr]))
        bad += results[pr].startswith("FAIL")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
