#!/usr/bin/env bats
# The MIME corpus of tests/mime (answers recorded from Dovecot) through
# postern-imapd's FETCH: ENVELOPE, BODYSTRUCTURE and BODY byte for byte,
# and every BODY[section] (part numbers, .MIME, .HEADER, .TEXT) by length
# and FNV-1a hash, so the handler's section cutting matches Dovecot's.
# The session runs twice: cold (no postern-cache: every message read and
# parsed) and warm (ENVELOPE, BODY, BODYSTRUCTURE from the cache file the
# first run wrote); both must match.

load helpers

@test "FETCH ENVELOPE, BODYSTRUCTURE, BODY and BODY[sections] match Dovecot for tests/mime/*.eml, cold and from the cache" {
	setup_world
	MD=$W/mail/example.org/alice
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	python3 - "$TOP/tests/mime" "$MD" "$BIN/postern-imapd" <<'PY'
import glob, os, subprocess, sys
corpus, md, imapd = sys.argv[1:4]
emls = sorted(glob.glob(corpus + "/*.eml"))
assert len(emls) >= 40, emls
for i, e in enumerate(emls, 1):
    data = open(e, "rb").read()
    base = "1000000%03d.M1P1Q%d.corpus,S=%d" % (i, i, len(data))
    open(os.path.join(md, "cur", base + ":2,S"), "wb").write(data)
cmds = [b"a LOGIN alice secret", b"b EXAMINE INBOX"]
for i, e in enumerate(emls, 1):
    name = e[:-4]
    sections = [l.split()[0] for l in open(name + ".sections")]
    items = " ".join("BODY.PEEK[%s]" % s for s in sections)
    cmds += [b"e%d FETCH %d ENVELOPE" % (i, i), b"s%d FETCH %d BODYSTRUCTURE" % (i, i),
             b"b%d FETCH %d BODY" % (i, i), b"x%d FETCH %d (%s)" % (i, i, items.encode())]
cmds.append(b"z LOGOUT")


def session():
    proc = subprocess.run([imapd], input=b"\r\n".join(cmds) + b"\r\n", capture_output=True)
    out = proc.stdout
    if proc.returncode != 0 or not out.endswith(b"z OK LOGOUT completed.\r\n"):
        sys.exit("postern-imapd failed (%d): %r\n%s" % (proc.returncode, out[-300:], proc.stderr.decode(errors="replace")[-3000:]))
    return out


cache = os.path.join(md, "postern-cache")
assert not os.path.exists(cache)
cold = session()
if not os.path.exists(cache) or os.path.getsize(cache) < 1000:
    sys.exit("no postern-cache written by the cold run")
warm = session()


def check(out):
  responses, pos = [], 0
  while pos < len(out):
      start = pos
      while True:
          eol = out.index(b"\r\n", pos)
          line = out[pos:eol]
          pos = eol + 2
          if line.endswith(b"}") and b"{" in line:
              pos += int(line[line.rindex(b"{") + 1:-1])
              continue
          break
      responses.append(out[start:pos - 2])

  def fnv(b):
      h = 0xcbf29ce484222325
      for c in b:
          h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
      return h

  failures = []
  for i, e in enumerate(emls, 1):
      name = e[:-4]
      prefix = b"* %d FETCH (" % i
      mine = [r for r in responses if r.startswith(prefix)]
      got = {}
      for r in mine:
          item, _, rest = r[len(prefix):].partition(b" ")
          if item in (b"ENVELOPE", b"BODYSTRUCTURE", b"BODY") and rest.endswith(b")"):
              got[item.decode().lower()] = rest[:-1]
      for kind in ("envelope", "bodystructure", "body"):
          want = open(name + "." + kind, "rb").read()
          if got.get(kind) != want:
              failures.append("%s %s:\n  want %r\n  got  %r" % (os.path.basename(name), kind, want, got.get(kind)))
      lines = []
      for r in mine:
          if not r.startswith(prefix + b"BODY["):
              continue
          p = len(prefix)
          while r[p:p + 5] == b"BODY[":
              close = r.index(b"]", p)
              section = r[p + 5:close].decode()
              p = close + 2
              if r[p:p + 3] == b"NIL":
                  value, p = b"", p + 3
              else:
                  brace = r.index(b"}", p)
                  n = int(r[p + 1:brace])
                  value = r[brace + 3:brace + 3 + n]
                  p = brace + 3 + n
              lines.append("%s %d %016x" % (section, len(value), fnv(value)))
              if r[p:p + 1] == b" ":
                  p += 1
      want = [l.rstrip("\n") for l in open(name + ".sections")]
      bad = [(w, g) for w, g in zip(want, lines) if w != g]
      if len(want) != len(lines) or bad:
          failures.append("%s sections: %d wanted, %d got; first differences %r" %
                          (os.path.basename(name), len(want), len(lines), bad[:3]))
  return failures


failures = ["cold: " + f for f in check(cold)] + ["warm: " + f for f in check(warm)]
if cold != warm:
    failures.append("the warm transcript differs from the cold one")
if failures:
    print("\n".join(failures))
    sys.exit(1)
PY
}
