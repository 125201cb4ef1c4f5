#!/usr/bin/env python3
"""Write COUNT generated messages into the cur/ of one or more maildirs.

    genmaildir.py COUNT MAILDIR [MAILDIR...]

Each message is written to every MAILDIR under the same name
(<time>.M<n>P<pid>.bench,S=<size>:2,), with CRLF line ends, so Postern and
Dovecot get identical copies. Sizes are realistic: a log-normal text body
(median ~2.5 KB), about 35% multipart (alternative text+HTML, or mixed with
a base64 attachment of 5-150 KB for ~8%), deterministic (fixed seed). About
1% of messages contain the word "zanzibar" (the SEARCH TEXT row).
Benchmark data, not part of Postern."""
import base64
import os
import random
import sys

WORDS = ("the of and to in is that it for on with as was at by this be from "
         "have or are not but had they which one you were all we can her has "
         "there been if more when will would who so no meeting report budget "
         "server mailbox release patch review schedule invoice travel project "
         "draft update notes agenda question answer thanks regards please").split()
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"]
DOMAINS = ["example.org", "example.net", "uliege.be", "corp.example", "lists.example.com"]


def text(rng, size, rare):
    out, n, line = [], 0, []
    while n < size:
        w = rng.choice(WORDS)
        if rare and rng.random() < 0.01:
            w = "zanzibar"
            rare = False
        line.append(w)
        if sum(len(x) + 1 for x in line) > 70:
            s = " ".join(line)
            out.append(s)
            n += len(s) + 2
            line = []
    if line:
        out.append(" ".join(line))
    if rare:
        out.append("see you in zanzibar")
    return "\r\n".join(out) + "\r\n"


def addr(rng):
    n = rng.choice(NAMES)
    return '"%s %s" <%s@%s>' % (n.capitalize(), rng.choice(NAMES).capitalize(), n, rng.choice(DOMAINS))


def message(rng, i, t, pool):
    rare = rng.random() < 0.01
    body_size = int(min(200000, max(200, rng.lognormvariate(7.8, 1.0))))
    subj = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
    date = "Sun, %02d Nov 2026 %02d:%02d:%02d +0000" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60)
    hdr = [
        "Return-Path: <%s@%s>" % (rng.choice(NAMES), rng.choice(DOMAINS)),
        "Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n\tby mail.bench.test with ESMTP id %08x\r\n\tfor <user@bench.test>; %s"
        % (i % 7, i % 7, i % 250, i, date),
        "From: " + addr(rng),
        "To: " + ", ".join(addr(rng) for _ in range(rng.randint(1, 3))),
    ]
    if rng.random() < 0.3:
        hdr.append("Cc: " + addr(rng))
    hdr += ["Subject: " + subj, "Date: " + date,
            "Message-ID: <%d.%d@bench.generated>" % (t, i), "MIME-Version: 1.0"]
    if rng.random() < 0.2:
        hdr.append("In-Reply-To: <%d.%d@bench.generated>" % (t, max(0, i - 3)))
    r = rng.random()
    b = "=_bench_%d" % i
    if r < 0.65:
        hdr.append("Content-Type: text/plain; charset=utf-8")
        body = text(rng, body_size, rare)
    elif r < 0.92:
        hdr.append('Content-Type: multipart/alternative; boundary="%s"' % b)
        t1 = text(rng, body_size // 2, rare)
        body = ("This is a multi-part message in MIME format.\r\n\r\n--%s\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n%s\r\n"
                "--%s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                "<html><body><p>%s</p></body></html>\r\n--%s--\r\n") % (b, t1, b, t1.replace("\r\n", "<br>\r\n"), b)
    else:
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
        att = rng.randint(5000, 150000)
        off = rng.randint(0, len(pool) - att - 1)
        data = pool[off:off + att]
        lines = "\r\n".join(data[k:k + 76] for k in range(0, len(data), 76))
        body = ("--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
                "--%s\r\nContent-Type: application/pdf; name=\"report-%d.pdf\"\r\n"
                "Content-Disposition: attachment; filename=\"report-%d.pdf\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n") % (
                    b, text(rng, body_size // 3, rare), b, i, i, lines, b)
    return ("\r\n".join(hdr) + "\r\n\r\n" + body).encode()


def main():
    count = int(sys.argv[1])
    dirs = sys.argv[2:]
    rng = random.Random(20261122)
    pool = base64.b64encode(random.Random(1).randbytes(200000)).decode()
    t0 = 1763000000
    for d in dirs:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
    for i in range(count):
        data = message(rng, i, t0, pool)
        t = t0 + i * 30
        name = "%d.M%dP%d.bench,S=%d:2," % (t, i, 4242, len(data))
        for d in dirs:
            p = os.path.join(d, "cur", name)
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (t, t))


if __name__ == "__main__":
    main()
