#!/usr/bin/env python3
"""Differential fuzzing of lib/mime.c + the IMAP formatters against Dovecot.

Not part of `make check` (it needs root and dovecot-imapd). It generates
messages (mutated corpus messages and random MIME trees), asks Dovecot's
/usr/lib/dovecot/imap (PREAUTH, private throw-away Maildir) for ENVELOPE,
BODYSTRUCTURE and BODY, and compares byte for byte with BUILD/tests/mime-dump.
Messages that differ are written to DIR/fail-SEED-N.eml; add the interesting
ones to the corpus with record-dovecot.sh.

usage: fuzz-dovecot.py BUILD SEED COUNT [DIR]
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

build, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
outdir = sys.argv[4] if len(sys.argv) > 4 else '.'
here = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(seed)
corpus = [open(os.path.join(here, f), 'rb').read() for f in sorted(os.listdir(here))
          if f.endswith('.eml') and os.path.getsize(os.path.join(here, f)) < 20000]

HEADERS = [
    b'Content-Type: multipart/mixed; boundary="%s"', b'Content-Type: message/rfc822',
    b'Content-Type: multipart/digest; boundary=%s', b'Content-Type: text/plain; charset="x\\"y"',
    b'Content-Type: TEXT', b'Content-Type: ;', b'Content-Type: a/b; c*0=1; c*1*=%%41; c*=z',
    b'MIME-Version: 1.0', b"Content-Disposition: attachment; filename*0*=utf-8''a; filename*1=b",
    b'Content-Language: en, (x) de,', b'Content-Transfer-Encoding: (c) base64',
    b'From: "a" (b) <c@d> (e), f@g, h: i@j;', b'To: <@x,@y:z@w>, "" <>, a@, @b',
    b'Subject: \t a  \t b ', b'Cc: g:;', b'Sender: (only)', b'Reply-To: x <y@z', b'Content-ID: <a>',
    b'Content-MD5: =', b'Date: \r\n x', b'Content-Type: multipart/alternative; boundary=%s',
    b'Content-Location: \r\n\t/x', b'Subject: caf\xc3\xa9', b'From: n\x00l <a@b>',
]
BOUNDARIES = [b'a', b'ab', b'b', b'zz', b'=_x', b'']
INSERTS = [b'\r\n--', b'\r\n', b'"', b'(', b')', b'\\', b';', b'=', b'*0*=', b'\r\n\r\n', b':',
           b'<', b'>', b',', b' ', b'\t', b'@', b'.', b'\x00', b'\xff']


def header():
    h = rnd.choice(HEADERS)
    return h.replace(b'%s', rnd.choice(BOUNDARIES)).replace(b'%%', b'%')


def synth(depth=0):
    """A random MIME tree with random (often broken) headers."""
    hdrs = [header() + b'\r\n' for _ in range(rnd.randint(0, 4))]
    boundary = None
    for h in hdrs:
        m = re.search(rb'boundary="?([^";\r]*)', h)
        if m and boundary is None:
            boundary = m.group(1)
    if boundary is not None and depth < 4 and rnd.random() < 0.8:
        body = b''
        for _ in range(rnd.randint(0, 3)):
            body += b'--' + boundary + rnd.choice([b'', b' ', b'x', b'--']) + b'\r\n' + synth(depth + 1)
        if rnd.random() < 0.6:
            body += b'--' + boundary + b'--\r\n'
        if rnd.random() < 0.3:
            body += b'epilogue\r\n'
    elif rnd.random() < 0.3 and depth < 4:
        body = synth(depth + 1)
    else:
        body = rnd.choice([b'', b'x', b'line\r\n', b'a\r\nb\r\n', b'--a\r\n', b'\r\n'])
    return b''.join(hdrs) + rnd.choice([b'\r\n', b'\r\n', b'\r\n', b'']) + body


def mutate(m):
    m = bytearray(m)
    for _ in range(rnd.randint(1, 6)):
        at = rnd.randint(0, len(m))
        r = rnd.random()
        if r < 0.3:
            m[at:at] = rnd.choice(INSERTS)
        elif r < 0.5 and at < len(m):
            del m[at:at + rnd.randint(1, 10)]
        elif r < 0.7:
            m[at:at] = header() + b'\r\n'
        else:
            lines = bytes(m).split(b'\r\n')
            m[at:at] = rnd.choice(lines) + b'\r\n'
    return bytes(m)


def split_responses(out):
    """IMAP server output into responses, honouring {n} literals."""
    responses, pos = [], 0
    while pos < len(out):
        start = pos
        while True:
            eol = out.index(b'\r\n', pos)
            line = out[pos:eol]
            pos = eol + 2
            m = re.search(rb'\{(\d+)\}$', line)
            if not m:
                break
            pos += int(m.group(1))
        responses.append(out[start:pos - 2])
    return responses


msgs = []
for _ in range(count):
    r = rnd.random()
    m = mutate(rnd.choice(corpus)) if r < 0.5 else synth() if r < 0.8 else mutate(synth())
    if rnd.random() < 0.25:
        m = m[:rnd.randint(0, len(m))]
    # stored messages are CRLF text: no bare CR or LF
    msgs.append(re.sub(rb'(?<!\r)\n', b'\r\n', re.sub(rb'\r(?!\n)', b'', m)))

work = tempfile.mkdtemp(prefix='mime-fuzz.')
try:
    os.chmod(work, 0o755)
    for d in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(work, 'md', d))
    files = []
    for i, m in enumerate(msgs):
        fn = os.path.join(work, 'md', 'cur', '%d.M1P1.fuzz:2,' % (1000000000 + i))
        open(fn, 'wb').write(m)
        files.append(fn)
    conf = os.path.join(work, 'dovecot.conf')
    open(conf, 'w').write('mail_location = maildir:%s/md\nssl = no\nlog_path = %s/log\n'
                          'base_dir = %s/run\nmail_uid = nobody\nmail_gid = nogroup\n' % (work, work, work))
    subprocess.run(['chown', '-R', 'nobody:nogroup', os.path.join(work, 'md')], check=True)
    cmds = 'a SELECT INBOX\r\n' + ''.join(
        'e%d FETCH %d ENVELOPE\r\ns%d FETCH %d BODYSTRUCTURE\r\nb%d FETCH %d BODY\r\nz%d FETCH %d RFC822.SIZE\r\n'
        % ((i,) * 8) for i in range(1, count + 1)) + 'q LOGOUT\r\n'
    out = subprocess.run(['/usr/lib/dovecot/imap', '-c', conf], input=cmds.encode(), capture_output=True,
                         env={'USER': 'fuzz', 'HOME': work, 'PATH': '/usr/bin:/bin'}).stdout
    dovecot = {}
    for r in split_responses(out):
        m = re.match(rb'\* (\d+) FETCH \((ENVELOPE|BODYSTRUCTURE|BODY|RFC822\.SIZE) ', r)
        if m:
            dovecot[(int(m.group(1)), m.group(2))] = r[m.end():-1]
    dump = subprocess.run([os.path.join(build, 'tests', 'mime-dump')] + files, capture_output=True)
    if dump.returncode != 0:
        # keep the inputs: the crash is the finding
        for i, m in enumerate(msgs):
            open(os.path.join(outdir, 'crash-%d-%d.eml' % (seed, i + 1)), 'wb').write(m)
        sys.exit('fuzz-dovecot: mime-dump failed (status %d), inputs in %s:\n%s' % (
            dump.returncode, outdir, dump.stderr.decode(errors='replace')[-3000:]))
    mine = dump.stdout
finally:
    shutil.rmtree(work, ignore_errors=True)

pos, bad = 0, 0
for i in range(1, count + 1):
    got = {}
    for key in (b'ENVELOPE', b'BODYSTRUCTURE', b'BODY'):
        eol = mine.index(b'\n', pos)
        n = int(mine[pos + 2:eol])
        got[key] = mine[eol + 1:eol + 1 + n]
        pos = eol + 1 + n + 1
    size = dovecot.get((i, b'RFC822.SIZE'))
    if size is None or int(size) != len(msgs[i - 1]):
        sys.exit('fuzz-dovecot: message %d: Dovecot saw another message (UID order?)' % i)
    for key, value in got.items():
        want = dovecot.get((i, key), b'')
        if want != value:
            bad += 1
            k = next((j for j in range(min(len(want), len(value))) if want[j] != value[j]),
                     min(len(want), len(value)))
            print('message %d %s differs at %d\n  dovecot: %r\n  ours:    %r' % (
                i, key.decode(), k, want[max(0, k - 60):k + 80], value[max(0, k - 60):k + 80]))
            open(os.path.join(outdir, 'fail-%d-%d.eml' % (seed, i)), 'wb').write(msgs[i - 1])
            break
print('seed %d: %d messages, %d differ' % (seed, count, bad))
sys.exit(1 if bad else 0)
