#!/usr/bin/env python3
"""make bench: Postern side by side with Postfix (SMTP) and Dovecot (POP3,
IMAP), each in a private sandbox on 127.0.0.1 high ports.

Run through `make bench` (see bench/README.md for the knobs). This script
only orchestrates: every timed client is C (bench/connrate.c,
bench/loadgen.c) and measures itself, except the SMTP rows, where the clock
runs until the last message is in the maildir (counted by this script).
"""
import datetime
import faulthandler
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("BENCH_BUILD", os.path.join(TOP, "build/bench")))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
D = os.path.abspath(os.environ.get("BENCH_DIR", "/var/tmp/postern-bench"))
HOST = "127.0.0.1"
DOMAIN = "bench.test"
PASSWORD = "benchpass"
BENCH_USER = "postern-bench"    # owns the Dovecot and Postfix maildirs


def env_int(name, default, quick):
    return int(os.environ.get(name, quick if QUICK else default))


def env_list(name, default, quick):
    return [int(x) for x in os.environ.get(name, quick if QUICK else default).split()]


REPS = env_int("BENCH_REPS", 3, 2)
SMTP_N = env_int("BENCH_SMTP_N", 10000, 300)
SMTP_SIZE = env_int("BENCH_SMTP_SIZE", 10240, 10240)
SMTP_CONC = env_list("BENCH_SMTP_CONC", "1 4 16", "1 16")
SMTP_PER_CONN = env_list("BENCH_SMTP_PER_CONN", "1 100", "1 100")
CONN_N = env_int("BENCH_CONN_N", 3000, 300)
CONN_CONC = env_int("BENCH_CONN_CONC", 16, 16)
LOGIN_N = env_int("BENCH_LOGIN_N", 1000, 100)
HASH_LOGIN_N = env_int("BENCH_HASH_LOGIN_N", 200, 40)   # yescrypt is slow on purpose
MBOX_SIZES = env_list("BENCH_MBOX_SIZES", "10000 100000", "1000")
MEM_SESSIONS = env_int("BENCH_MEM_SESSIONS", 200, 20)
SESSION_TIMEOUT = env_int("BENCH_SESSION_TIMEOUT", 600, 120)   # one IMAP/POP3 session, seconds

SECTIONS = ("connrate", "memory", "smtp", "mailbox")
ONLY = os.environ.get("BENCH_ONLY", " ".join(SECTIONS)).split()   # a subset, for development
if set(ONLY) - set(SECTIONS):
    raise SystemExit("bench: BENCH_ONLY takes some of: " + " ".join(SECTIONS))

PORT_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
PORTS = {k: v + PORT_OFFSET for k, v in {
    "postern-smtp": 22525, "postern-pop3": 21100, "postern-imap": 21430, "greeter": 22000,
    "postfix-smtp": 32525, "dovecot-pop3": 31100, "dovecot-imap": 31430,
}.items()}

CONNRATE = os.path.join(BUILD, "bench/connrate")
LOADGEN = os.path.join(BUILD, "bench/loadgen")
GREETER = os.path.join(BUILD, "bench/greeter")

started = []      # (kind, handle) to stop at exit
rows = []         # result rows for the table
notes = []


def log(msg):
    print("bench: " + msg, flush=True)


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, text=True, **kw)


def wait_port(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


# ---------------------------------------------------------------- sandboxes

def bench_uid():
    import pwd
    try:
        p = pwd.getpwnam(BENCH_USER)
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", BENCH_USER])
        p = pwd.getpwnam(BENCH_USER)
    return p.pw_uid, p.pw_gid


def chown_tree(path, uid, gid):
    run(["chown", "-R", "%d:%d" % (uid, gid), path])


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


USERS = ["sink", "idle"]          # plus big<N> per mailbox size, plus "hashed"


def all_users():
    return USERS + ["big%d" % n for n in MBOX_SIZES] + ["hashed"]


def yescrypt_hash():
    """A yescrypt hash of PASSWORD made by postern-user itself."""
    tmp = os.path.join(D, "hash")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    write(os.path.join(tmp, "users"), "")
    write(os.path.join(tmp, "aliases"), "")
    write(os.path.join(tmp, "postern.conf"),
          "domains = %s\nmail_root = %s/mail\nusers_file = users\naliases_file = aliases\n"
          "queue_dir = %s/queue\n" % (DOMAIN, tmp, tmp))
    run([os.path.join(BUILD, "postern-user"), "-c", os.path.join(tmp, "postern.conf"), "add", "h"],
        input=PASSWORD + "\n", stdout=subprocess.DEVNULL, env=dict(os.environ, POSTERN_LOG="stderr"))
    with open(os.path.join(tmp, "users")) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("h"):
                return parts[1]
    raise SystemExit("bench: postern-user wrote no hash")


def setup_postern(hashed):
    pd = os.path.join(D, "postern")
    os.makedirs(os.path.join(pd, "mail", DOMAIN), exist_ok=True)
    os.makedirs(os.path.join(pd, "queue"), exist_ok=True)
    users = "".join("%s@%s %s\n" % (u, DOMAIN, PASSWORD) for u in USERS + ["big%d" % n for n in MBOX_SIZES])
    users += "hashed@%s %s\n" % (DOMAIN, hashed)
    write(os.path.join(pd, "users"), users, 0o600)
    write(os.path.join(pd, "aliases"), "")
    write(os.path.join(pd, "postern.conf"), """# written by bench/bench.py
hostname = mx.%(dom)s
domains = %(dom)s
mail_root = mail
users_file = users
aliases_file = aliases
queue_dir = queue
max_message_size = 50M
allow_plaintext_auth = yes
""" % {"dom": DOMAIN})
    for u in all_users():
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(pd, "mail", DOMAIN, u, sub), exist_ok=True)
    return pd


def start_socket_activate(port, argv, logname):
    env = dict(os.environ, POSTERN_LOG="stderr", POSTERN_RELAY_SPAWN="0")
    logf = open(os.path.join(D, logname), "ab")
    p = subprocess.Popen(["systemd-socket-activate", "--accept", "--inetd",
                          "-E", "POSTERN_LOG", "-E", "POSTERN_RELAY_SPAWN",
                          "-l", "%s:%d" % (HOST, port)] + argv,
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
    started.append(("proc", p))
    if not wait_port(port):
        raise SystemExit("bench: nothing listens on %d (%s)" % (port, argv[0]))
    return p


def start_postern(pd):
    conf = os.path.join(pd, "postern.conf")
    procs = {}
    for proto, prog in (("smtp", "postern-smtpd"), ("pop3", "postern-pop3d"), ("imap", "postern-imapd")):
        path = os.path.join(BUILD, prog)
        if os.access(path, os.X_OK):
            procs[proto] = start_socket_activate(PORTS["postern-" + proto], [path, "-c", conf], "postern.log")
        else:
            notes.append("%s is not built: its rows are n/a." % prog)
    procs["greeter"] = start_socket_activate(PORTS["greeter"], [GREETER], "greeter.log")
    return procs


POSTFIX_MASTER = """# written by bench/bench.py: one smtpd on a high port, no chroot
%(host)s:%(port)d inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def setup_postfix(uid, gid):
    fd = os.path.join(D, "postfix")
    conf = os.path.join(fd, "etc")
    os.makedirs(conf, exist_ok=True)
    for sub in ("queue", "data"):
        os.makedirs(os.path.join(fd, sub), exist_ok=True)
    os.makedirs(os.path.join(fd, "mail", DOMAIN, "sink"), exist_ok=True)
    # Postfix insists that its directories are not writable by others.
    for p in (D, fd, conf, os.path.join(fd, "queue")):
        os.chmod(p, 0o755)
    shutil.chown(os.path.join(fd, "data"), "postfix", "postfix")
    os.chmod(os.path.join(fd, "data"), 0o700)
    write(os.path.join(conf, "vmailbox"), "sink@%s %s/sink/\n" % (DOMAIN, DOMAIN))
    write(os.path.join(conf, "main.cf"), """# written by bench/bench.py: a private instance
compatibility_level = 3.6
queue_directory = %(fd)s/queue
data_directory = %(fd)s/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.%(dom)s
mydomain = %(dom)s
mydestination =
inet_interfaces = %(host)s
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = %(dom)s
virtual_mailbox_base = %(fd)s/mail
virtual_mailbox_maps = texthash:%(conf)s/vmailbox
virtual_uid_maps = static:%(uid)d
virtual_gid_maps = static:%(gid)d
virtual_minimum_uid = 1
message_size_limit = 52428800
virtual_mailbox_limit = 0
maillog_file = %(fd)s/maillog
smtpd_banner = $myhostname ESMTP
biff = no
smtputf8_enable = no
""" % {"fd": fd, "conf": conf, "dom": DOMAIN, "host": HOST, "uid": uid, "gid": gid})
    write(os.path.join(conf, "master.cf"), POSTFIX_MASTER % {"host": HOST, "port": PORTS["postfix-smtp"]})
    chown_tree(os.path.join(fd, "mail"), uid, gid)
    return conf


def start_postfix(conf):
    with open(os.path.join(D, "postfix/start.log"), "w+") as out:
        r = run(["postfix", "-c", conf, "start"], check=False, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.seek(0)
        msg = out.read()
    if r.returncode != 0:
        notes.append("postfix did not start: " + msg.strip().replace("\n", " / "))
        return False
    started.append(("postfix", conf))
    return wait_port(PORTS["postfix-smtp"])


def setup_dovecot(uid, gid, hashed):
    dd = os.path.join(D, "dovecot")
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(dd, sub), exist_ok=True)
    os.chmod(os.path.join(dd, "run"), 0o755)
    lines = ""
    for u in USERS + ["big%d" % n for n in MBOX_SIZES]:
        lines += "%s@%s:{PLAIN}%s:%d:%d::%s/mail/%s/%s::\n" % (u, DOMAIN, PASSWORD, uid, gid, dd, DOMAIN, u)
    lines += "hashed@%s:{CRYPT}%s:%d:%d::%s/mail/%s/hashed::\n" % (DOMAIN, hashed, uid, gid, dd, DOMAIN)
    write(os.path.join(dd, "passwd"), lines, 0o640)
    shutil.chown(os.path.join(dd, "passwd"), "root", "dovecot")
    write(os.path.join(dd, "dovecot.conf"), """# written by bench/bench.py: a private instance
base_dir = %(dd)s/run
state_dir = %(dd)s/state
log_path = %(dd)s/dovecot.log
info_log_path = %(dd)s/dovecot.log
protocols = imap pop3
listen = %(host)s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
default_process_limit = 1000
default_client_limit = 4000
mail_location = maildir:~
mail_max_userip_connections = 10000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(dd)s/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%%u %(dd)s/passwd
}
service imap-login {
  inet_listener imap {
    address = %(host)s
    port = %(imap)d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = %(host)s
    port = %(pop3)d
  }
  inet_listener pop3s {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 10000
}
protocol pop3 {
  mail_max_userip_connections = 10000
}
""" % {"dd": dd, "host": HOST, "imap": PORTS["dovecot-imap"], "pop3": PORTS["dovecot-pop3"]})
    for u in all_users():
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(dd, "mail", DOMAIN, u, sub), exist_ok=True)
    chown_tree(os.path.join(dd, "mail"), uid, gid)
    return os.path.join(dd, "dovecot.conf")


def start_dovecot(conf):
    # dovecot daemonizes with its stdout/stderr still open: no pipes here
    with open(os.path.join(D, "dovecot/start.log"), "w+") as out:
        r = run(["dovecot", "-c", conf], check=False, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.seek(0)
        msg = out.read()
    if r.returncode != 0:
        notes.append("dovecot did not start: " + msg.strip().replace("\n", " / "))
        return False
    started.append(("dovecot", conf))
    return wait_port(PORTS["dovecot-imap"]) and wait_port(PORTS["dovecot-pop3"])


def dovecot_master_pid():
    with open(os.path.join(D, "dovecot/run/master.pid")) as f:
        return int(f.read().strip())


def stop_all(*_):
    while started:
        kind, h = started.pop()
        try:
            if kind == "proc":
                h.terminate()
                try:
                    h.wait(5)
                except subprocess.TimeoutExpired:
                    h.kill()
            elif kind == "postfix":
                run(["postfix", "-c", h, "stop"], check=False, capture_output=True)
            elif kind == "dovecot":
                pid = dovecot_master_pid()
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    if not os.path.exists("/proc/%d" % pid):
                        break
                    time.sleep(0.05)
        except Exception as e:      # keep stopping the others
            print("bench: stopping %s: %s" % (kind, e), file=sys.stderr)


# ---------------------------------------------------------------- helpers

def maildir(side, user):
    return os.path.join(D, side, "mail", DOMAIN, user)


def clear_maildir(path):
    """Empty a maildir and drop the servers' index files (not the folders)."""
    for sub in ("new", "cur", "tmp"):
        p = os.path.join(path, sub)
        if os.path.isdir(p):
            for name in os.listdir(p):
                os.unlink(os.path.join(p, name))
    drop_indexes(path)


def drop_indexes(path):
    """Cold start: every regular file at the top of the maildir is an index,
    a uid list, a cache or a lock of one server or the other."""
    for name in os.listdir(path):
        p = os.path.join(path, name)
        if os.path.isfile(p):
            os.unlink(p)


def count_new(path):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(path, sub)))
        except FileNotFoundError:
            pass
    return n


def add_row(section, name, unit, better, postern, peer, goal=""):
    rows.append(dict(section=section, name=name, unit=unit, better=better,
                     postern=postern, peer=peer, goal=goal))
    fmt = lambda v: "n/a" if v is None else ("%.4g" % v)
    log("%-48s postern %-10s peer %-10s %s" % (name, fmt(postern), fmt(peer), unit))


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def alternate(rep, a, b):
    """Run a() and b() in an order that alternates with rep."""
    if rep % 2 == 0:
        ra, rb = a(), b()
    else:
        rb, ra = b(), a()
    return ra, rb


# ---------------------------------------------------------------- workloads

def smtp_run(port, side, conc, per_conn):
    box = maildir(side, "sink")
    clear_maildir(box)
    t0 = time.monotonic()
    try:
        r = run([LOADGEN, "smtp", HOST, str(port), str(conc), str(SMTP_N), str(per_conn),
                 str(SMTP_SIZE), "sink@" + DOMAIN], check=False, capture_output=True,
                timeout=SESSION_TIMEOUT * 3)
    except subprocess.TimeoutExpired:
        log("smtp %s: not done within %d s" % (side, SESSION_TIMEOUT * 3))
        return None
    parts = r.stdout.split()
    if len(parts) < 4 or int(parts[0]) == 0:
        log("smtp %s: failed: %s %s" % (side, r.stdout.strip(), r.stderr.strip()))
        return None
    sent = int(parts[0])
    # the clock runs until every accepted message is in the maildir
    # (give up when nothing arrives for 60 s: a broken peer must not hang
    # the bench)
    last, last_t = -1, time.monotonic()
    while True:
        have = count_new(box)
        if have >= sent:
            break
        if have != last:
            last, last_t = have, time.monotonic()
        elif time.monotonic() - last_t > 60:
            break
        time.sleep(0.02)
    dt = time.monotonic() - t0
    have = count_new(box)
    if have < sent:
        log("smtp %s: only %d of %d messages arrived" % (side, have, sent))
        return None
    if int(parts[3]):
        log("smtp %s: %s errors" % (side, parts[3]))
    return sent / dt


def bench_smtp(have_postern, have_postfix):
    for per_conn in SMTP_PER_CONN:
        for conc in SMTP_CONC:
            a, b = [], []
            for rep in range(REPS):
                ra, rb = alternate(
                    rep,
                    lambda: smtp_run(PORTS["postern-smtp"], "postern", conc, per_conn) if have_postern else None,
                    lambda: smtp_run(PORTS["postfix-smtp"], "postfix", conc, per_conn) if have_postfix else None)
                a.append(ra)
                b.append(rb)
            add_row("SMTP durable accepts (%d x %d KB, into the maildir)" % (SMTP_N, SMTP_SIZE // 1024),
                    "%d msg/conn, concurrency %d" % (per_conn, conc), "msg/s", "higher",
                    median(a), median(b), "≥ 2×")
    for side in ("postern", "postfix"):
        clear_maildir(maildir(side, "sink"))


def connrate(proto, port, n, user=None):
    cmd = [CONNRATE, proto, HOST, str(port), str(CONN_CONC), str(n)]
    if user:
        cmd += [user + "@" + DOMAIN, PASSWORD]
    try:
        r = run(cmd, check=False, capture_output=True, timeout=SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        log("connrate %s :%d: not done within %d s" % (proto, port, SESSION_TIMEOUT))
        return None
    parts = r.stdout.split()
    if len(parts) < 4 or int(parts[3]) > 0:
        log("connrate %s :%d: %s %s" % (proto, port, r.stdout.strip(), r.stderr.strip()))
        return None
    return float(parts[2])


def bench_connrate(have):
    title = "Connection rate (connect + greeting + QUIT/LOGOUT, concurrency %d, %d connections)" % (CONN_CONC, CONN_N)
    for proto, mine, peer, pname in (("smtp", "postern-smtp", "postfix-smtp", "postfix"),
                                     ("pop3", "postern-pop3", "dovecot-pop3", "dovecot"),
                                     ("imap", "postern-imap", "dovecot-imap", "dovecot")):
        a, b = [], []
        for rep in range(REPS):
            ra, rb = alternate(rep,
                               lambda: connrate(proto, PORTS[mine], CONN_N) if have[mine] else None,
                               lambda: connrate(proto, PORTS[peer], CONN_N) if have[peer] else None)
            a.append(ra)
            b.append(rb)
        add_row(title, "%s (peer: %s)" % (proto.upper(), pname), "conn/s", "higher", median(a), median(b))
    floor = [connrate("smtp", PORTS["greeter"], CONN_N) for _ in range(REPS)]
    add_row(title, "floor: systemd-socket-activate + bench/greeter", "conn/s", "higher", median(floor), None)
    title = "IMAP LOGIN rate (connect + LOGIN + LOGOUT, concurrency %d)" % CONN_CONC
    for user, label, n in (("idle", "plain-text password, %d logins" % LOGIN_N, LOGIN_N),
                           ("hashed", "yescrypt hash, %d logins" % HASH_LOGIN_N, HASH_LOGIN_N)):
        a, b = [], []
        for rep in range(REPS):
            ra, rb = alternate(rep,
                               lambda: connrate("imap", PORTS["postern-imap"], n, user) if have["postern-imap"] else None,
                               lambda: connrate("imap", PORTS["dovecot-imap"], n, user) if have["dovecot-imap"] else None)
            a.append(ra)
            b.append(rb)
        add_row(title, "%s (peer: dovecot)" % label, "login/s", "higher", median(a), median(b))


IMAP_CMDS = [
    ("LOGIN+SELECT", "SELECT INBOX"),
    ("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)", "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)"),
    ("FETCH 1:* BODYSTRUCTURE", "FETCH 1:* BODYSTRUCTURE"),
    ("UID SEARCH TEXT zanzibar", "UID SEARCH TEXT zanzibar"),
    ("STORE 1:* +FLAGS (\\Seen)", "STORE 1:* +FLAGS (\\Seen)"),
]
RESET_CMD = "STORE 1:* -FLAGS.SILENT (\\Seen)"


def imap_session(port, user):
    """One session running every IMAP_CMDS row, then the untimed flag reset.
    Returns a list of seconds (None where the server failed the command)."""
    cmd = [LOADGEN, "imap", HOST, str(port), user + "@" + DOMAIN, PASSWORD] + [c for _, c in IMAP_CMDS] + [RESET_CMD]
    try:
        r = run(cmd, check=False, capture_output=True, timeout=SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        log("imap %s: no answer within %d s" % (user, SESSION_TIMEOUT))
        return [None] * len(IMAP_CMDS)
    steps = {}
    for line in r.stdout.splitlines():
        p = line.split()
        if len(p) == 4:
            steps[int(p[0])] = float(p[1]) if p[3] == "ok" else None
    out = []
    login = steps.get(0)
    for i in range(1, len(IMAP_CMDS) + 1):
        v = steps.get(i)
        if i == 1 and v is not None and login is not None:
            v += login
        out.append(v)
    if None in out:
        log("imap %s: %s" % (user, r.stdout.strip().replace("\n", " | ")))
    return out


def pop3_session(port, user):
    try:
        r = run([LOADGEN, "pop3", HOST, str(port), user + "@" + DOMAIN, PASSWORD],
                check=False, capture_output=True, timeout=SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        log("pop3 %s: no answer within %d s" % (user, SESSION_TIMEOUT))
        return [None] * 3
    steps = {}
    for line in r.stdout.splitlines():
        p = line.split()
        if len(p) == 4:
            steps[int(p[0])] = float(p[1]) if p[3] == "ok" else None
    out = [steps.get(i) for i in range(3)]
    if None in out:
        log("pop3 %s: %s" % (user, r.stdout.strip().replace("\n", " | ")))
    return out


def prepare_mailbox(n, uid, gid):
    """Generate big<n> once per sandbox (stamp file), for both servers."""
    user = "big%d" % n
    stamp = os.path.join(D, "generated-%s" % user)
    pbox, dbox = maildir("postern", user), maildir("dovecot", user)
    if os.path.exists(stamp) and count_new(pbox) == n and count_new(dbox) == n:
        # reused from an earlier run: POP3 RETR marked everything \Seen
        # there; start every run from unflagged messages
        for box in (pbox, dbox):
            cur = os.path.join(box, "cur")
            for name in os.listdir(cur):
                base, sep, flags = name.rpartition(":2,")
                if sep and flags:
                    os.rename(os.path.join(cur, name), os.path.join(cur, base + sep))
        return
    log("generating %d messages for %s (both servers)" % (n, user))
    for box in (pbox, dbox):
        clear_maildir(box)
    run([sys.executable, os.path.join(TOP, "bench/genmaildir.py"), str(n), pbox, dbox])
    chown_tree(dbox, uid, gid)
    with open(stamp, "w") as f:
        f.write("%d\n" % n)


def bench_mailboxes(have, uid, gid):
    for n in MBOX_SIZES:
        prepare_mailbox(n, uid, gid)
        user = "big%d" % n
        section = "IMAP on a %d-message mailbox (seconds)" % n
        res = {}
        for phase in ("cold", "warm"):
            res[phase] = ([], [])
        for rep in range(REPS):
            def side(name, port_key):
                if not have[port_key]:
                    return {"cold": [None] * len(IMAP_CMDS), "warm": [None] * len(IMAP_CMDS)}
                drop_indexes(maildir(name, user))
                cold = imap_session(PORTS[port_key], user)
                warm = imap_session(PORTS[port_key], user)
                return {"cold": cold, "warm": warm}
            ra, rb = alternate(rep, lambda: side("postern", "postern-imap"), lambda: side("dovecot", "dovecot-imap"))
            for phase in ("cold", "warm"):
                res[phase][0].append(ra[phase])
                res[phase][1].append(rb[phase])
        for phase, goal in (("cold", "≤ 0.5×"), ("warm", "≤ 1.0×")):
            for i, (label, _) in enumerate(IMAP_CMDS):
                add_row(section, "%s, %s" % (label, phase), "s", "lower",
                        median([r[i] for r in res[phase][0]]), median([r[i] for r in res[phase][1]]), goal)
        # POP3 on the same mailbox, now indexed by both sides
        a, b = [], []
        for rep in range(REPS):
            ra, rb = alternate(rep,
                               lambda: pop3_session(PORTS["postern-pop3"], user) if have["postern-pop3"] else [None] * 3,
                               lambda: pop3_session(PORTS["dovecot-pop3"], user) if have["dovecot-pop3"] else [None] * 3)
            a.append(ra)
            b.append(rb)
        for i, label in enumerate(("login+STAT", "UIDL", "RETR of every message")):
            add_row("POP3 on the %d-message mailbox (seconds)" % n, label, "s", "lower",
                    median([r[i] for r in a]), median([r[i] for r in b]), "≤ 1.0×")


def smaps(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                p = line.split()
                if len(p) >= 2 and p[0] in ("Rss:", "Pss:"):
                    out[p[0][:-1]] = int(p[1])
    except OSError:
        return None
    return out


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def hold_sessions(port, pids_of):
    """Open MEM_SESSIONS logged-in IMAP sessions, measure, close them.
    Returns (rss_kib, pss_kib) per session, medians over the handlers."""
    p = subprocess.Popen([LOADGEN, "hold", HOST, str(port), "idle@" + DOMAIN, PASSWORD, str(MEM_SESSIONS)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    result = (None, None)
    if len(line) == 2 and int(line[1]) == MEM_SESSIONS:
        time.sleep(0.5)
        m = [smaps(pid) for pid in pids_of()]
        m = [x for x in m if x]
        if len(m) >= MEM_SESSIONS:
            result = (statistics.median(x["Rss"] for x in m), statistics.median(x["Pss"] for x in m))
        else:
            log("memory: found %d handler processes for %d sessions" % (len(m), MEM_SESSIONS))
    else:
        log("memory: sessions did not all log in: %s" % line)
    p.stdin.close()
    p.wait(60)
    return result


def hold_greeters(ssa):
    """The floor: MEM_SESSIONS connections to bench/greeter (a trivial C
    program linked against libc only, waiting for its one line), measured
    like the sessions. What any per-connection process costs here."""
    socks, result = [], (None, None)
    try:
        for _ in range(MEM_SESSIONS):
            c = socket.create_connection((HOST, PORTS["greeter"]), timeout=10)
            socks.append(c)
            c.recv(64)
        time.sleep(0.5)
        m = [x for x in (smaps(pid) for pid in children(ssa)) if x]
        if len(m) >= MEM_SESSIONS:
            result = (statistics.median(x["Rss"] for x in m), statistics.median(x["Pss"] for x in m))
        else:
            log("memory: found %d greeter processes for %d connections" % (len(m), MEM_SESSIONS))
    except OSError as e:
        log("memory: greeter floor: %s" % e)
    finally:
        for c in socks:
            c.close()
    return result


def bench_memory(have, procs):
    a = b = (None, None)
    if have["postern-imap"]:
        ssa = procs["imap"].pid
        a = hold_sessions(PORTS["postern-imap"], lambda: children(ssa))
    if have["dovecot-imap"]:
        master = dovecot_master_pid()
        b = hold_sessions(PORTS["dovecot-imap"],
                          lambda: [c for c in children(master) if comm(c) == "imap"])
    title = "Memory per idle authenticated IMAP session (%d sessions open)" % MEM_SESSIONS
    add_row(title, "RSS per session", "KiB", "lower", a[0], b[0], "≤ 1024 KiB")
    add_row(title, "Pss per session", "KiB", "lower", a[1], b[1])
    if "greeter" in procs:
        f = hold_greeters(procs["greeter"].pid)
        add_row(title, "floor: RSS of an idle bench/greeter (libc only)", "KiB", "lower", f[0], None)
        add_row(title, "floor: Pss of an idle bench/greeter (libc only)", "KiB", "lower", f[1], None)


# ---------------------------------------------------------------- report

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").strip() or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    dev = sh("df --output=source %s | tail -1" % D)
    fs = sh("df --output=fstype %s | tail -1" % D)
    base = os.path.basename(dev)
    rot = sh("cat /sys/block/%s/queue/rotational 2>/dev/null" % base.rstrip("0123456789"))
    disk = {"0": "non-rotational (SSD/virtual)", "1": "rotational"}.get(rot, "unknown")
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("nproc", str(os.cpu_count())),
        ("CPU", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("disk", "%s (%s), %s" % (dev, fs, disk)),
        ("loadavg at end", sh("cut -d' ' -f1-3 /proc/loadavg")),
        ("Postfix", sh("postconf -d mail_version 2>/dev/null | cut -d= -f2").strip()),
        ("Dovecot", sh("dovecot --version")),
        ("mode", ("BENCH_QUICK=1 (validation sizes)" if QUICK else "defaults") + ", %d repetitions" % REPS),
    ]


def ratio(r):
    a, b = r["postern"], r["peer"]
    if a is None or b is None or b == 0:
        return "n/a"
    return "%.2f×" % (a / b)


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "s":
        return "%.3f" % v
    return "%.0f" % v if v >= 100 else "%.1f" % v


def table():
    out, section = [], None
    for r in rows:
        if r["section"] != section:
            section = r["section"]
            out += ["", "### " + section, "",
                    "| workload | unit | Postern | peer | Postern/peer | goal |",
                    "|---|---|---:|---:|---:|---|"]
        better = " (↑ better)" if r["better"] == "higher" else " (↓ better)"
        out.append("| %s | %s%s | %s | %s | %s | %s |" % (
            r["name"], r["unit"], better, fmt(r["postern"], r["unit"]), fmt(r["peer"], r["unit"]),
            ratio(r), r["goal"]))
    return out


def report(elapsed):
    lines = ["# Postern benchmark results", "",
             "Written by `make bench` (bench/bench.py); medians of the repetitions.",
             "Peers: Postfix (SMTP, smtpd → queue → virtual(8) into a Maildir) and",
             "Dovecot (POP3, IMAP), each in a private sandbox on 127.0.0.1; Postern",
             "served through systemd-socket-activate (one process per connection).",
             "Postern/peer is the quotient of the two figures: for ↑ rows > 1 means",
             "Postern is faster, for ↓ rows < 1 means Postern is faster / smaller.",
             "", "## Machine", ""]
    lines += ["- %s: %s" % kv for kv in machine()]
    lines += ["- bench wall time: %.0f s" % elapsed]
    lines += ["", "## Results"] + table()
    if notes:
        lines += ["", "## Notes", ""] + ["- " + n for n in notes]
    text = "\n".join(lines) + "\n"
    out = os.environ.get("BENCH_RESULTS", os.path.join(TOP, "bench/results.md"))
    with open(out, "w") as f:
        f.write(text)
    print()
    print(text)
    log("results written to %s" % out)


# ---------------------------------------------------------------- main

def main():
    t_start = time.time()
    faulthandler.register(signal.SIGUSR1)
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root (it creates a user and starts Postfix and Dovecot)")
    for tool in (CONNRATE, LOADGEN, GREETER):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench: %s is missing: run `make bench`" % tool)
    busy = [k for k, p in PORTS.items() if not port_free(p)]
    if busy:
        raise SystemExit("bench: ports in use: %s (another bench running?)" %
                         ", ".join("%s %d" % (k, PORTS[k]) for k in busy))
    os.makedirs(D, exist_ok=True)
    log("sandbox in %s, build %s, %s" % (D, BUILD, "quick mode" if QUICK else "default sizes"))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    uid, gid = bench_uid()
    hashed = yescrypt_hash()
    pd = setup_postern(hashed)
    pfconf = setup_postfix(uid, gid)
    dconf = setup_dovecot(uid, gid, hashed)
    try:
        procs = start_postern(pd)
        have = {k: False for k in PORTS}
        for proto in ("smtp", "pop3", "imap"):
            have["postern-" + proto] = proto in procs
        have["postfix-smtp"] = start_postfix(pfconf)
        dv = start_dovecot(dconf)
        have["dovecot-pop3"] = have["dovecot-imap"] = dv
        log("servers up: " + ", ".join(k for k, v in have.items() if v))
        if "connrate" in ONLY:
            bench_connrate(have)
        if "memory" in ONLY:
            bench_memory(have, procs)
        if "smtp" in ONLY:
            bench_smtp(have["postern-smtp"], have["postfix-smtp"])
        if "mailbox" in ONLY:
            bench_mailboxes(have, uid, gid)
    finally:
        stop_all()
    report(time.time() - t_start)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
