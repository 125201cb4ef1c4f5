#!/bin/sh
# imap-select-fetch.sh: what the per-mailbox cache (lib/mailcache.c) buys
# a client that opens a large mailbox, measured on postern-imapd directly
# (an IMAP session piped into the -O2 handler; no network, no peer).
#
#   bench/imap-select-fetch.sh [N] [BUILD_DIR] [WORK_DIR]
#
# N messages (default 10000) are generated once by bench/genmaildir.py into
# WORK_DIR (default /var/tmp/postern-imap-select-fetch-N) and kept. Three
# sessions are timed, each cold (no postern-cache, no uid list, no modseq
# file: the first open of the mailbox) and then warm (the state the cold
# run left):
#   select   LOGIN, SELECT INBOX, LOGOUT
#   env      LOGIN, SELECT INBOX, FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)
#   bs       LOGIN, SELECT INBOX, FETCH 1:* BODYSTRUCTURE
# Printed per run: wall seconds of the whole session, of SELECT and of
# FETCH (time from sending the command to its tagged reply), and the
# handler's CPU seconds (user + system, from wait4). The page cache is not
# dropped: "cold" means no Postern state, not an empty page cache.
# Benchmark figures only; nothing is asserted.
set -eu
N=${1:-10000}
BUILD=${2:-build/icache}
WORK=${3:-/var/tmp/postern-imap-select-fetch-$N}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
[ -x "$BUILD/postern-imapd" ] || { echo "no $BUILD/postern-imapd (make BUILD=... all)" >&2; exit 1; }

MD=$WORK/mail/bench.test/user
mkdir -p "$WORK"
cat >"$WORK/postern.conf" <<EOF
hostname = mail.bench.test
domains = bench.test
mail_root = $WORK/mail
users_file = $WORK/users
aliases_file = $WORK/aliases
queue_dir = $WORK/queue
allow_plaintext_auth = yes
EOF
printf 'user secret\n' >"$WORK/users"
: >"$WORK/aliases"
mkdir -p "$WORK/queue"
have=$(ls "$MD/cur" 2>/dev/null | wc -l)
if [ "$have" -ne "$N" ]; then
	rm -rf "$MD"
	echo "generating $N messages in $MD ..." >&2
	python3 "$TOP/bench/genmaildir.py" "$N" "$MD" >/dev/null
fi

POSTERN_CONF=$WORK/postern.conf POSTERN_PEER=127.0.0.1 POSTERN_LOG=stderr \
	python3 - "$BUILD/postern-imapd" "$MD" "$N" <<'PY'
import os, subprocess, sys, time, glob

imapd, md, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
SESSIONS = {
    "select": [b"b SELECT INBOX"],
    "env": [b"b SELECT INBOX", b"c FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)"],
    "bs": [b"b SELECT INBOX", b"c FETCH 1:* BODYSTRUCTURE"],
}


def reset():
    for f in glob.glob(os.path.join(md, "postern-*")) + glob.glob(os.path.join(md, "dovecot-*")):
        os.unlink(f)


def run(cmds):
    """Send the commands one at a time; wall time per tag, CPU of the child."""
    log = open(os.devnull, "wb")
    p = subprocess.Popen([imapd], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    t0 = time.monotonic()
    marks, lines = {}, 0
    for c in [b"a LOGIN user secret"] + cmds + [b"z LOGOUT"]:
        tag = c.split()[0]
        ts = time.monotonic()
        p.stdin.write(c + b"\r\n")
        p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if not line:
                sys.exit("imapd closed the connection after %r" % c)
            lines += 1
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    sys.exit("%r: %r" % (c, line))
                marks[tag.decode()] = time.monotonic() - ts
                break
    p.stdin.close()
    p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    return wall, marks, ru.ru_utime + ru.ru_stime, lines


print("# postern-imapd, %d messages, %s" % (n, md))
print("# %-7s %-5s %8s %8s %8s %8s %8s" % ("session", "state", "wall_s", "select_s", "fetch_s", "cpu_s", "lines"))
for name, cmds in SESSIONS.items():
    reset()
    for state in ("cold", "warm"):
        wall, marks, cpu, lines = run(cmds)
        print("  %-7s %-5s %8.3f %8.3f %8s %8.3f %8d" % (
            name, state, wall, marks.get("b", 0), "%.3f" % marks["c"] if "c" in marks else "-",
            cpu, lines))
        sys.stdout.flush()
cache = os.path.join(md, "postern-cache")
if os.path.exists(cache):
    print("# postern-cache: %d octets for %d messages" % (os.path.getsize(cache), n))
PY
