#!/bin/sh
# Record the expected IMAP ENVELOPE, BODYSTRUCTURE and BODY of every
# tests/mime/*.eml from Dovecot (the reference implementation), into
# NAME.envelope, NAME.bodystructure and NAME.body: the exact bytes of the
# FETCH item's value (literals included, no trailing newline); and
# NAME.sections: "SECTION LENGTH FNV-1a-64" for a fixed set of BODY[...]
# sections (see README).
#
# Needs root and Debian's dovecot-imapd (apt-get install dovecot-imapd);
# the system service is not used: each message goes into its own throw-away
# Maildir and /usr/lib/dovecot/imap runs once per message in PREAUTH mode on
# a pipe. The unit tests only read the recorded files; they never need
# Dovecot. Usage: sh tests/mime/record-dovecot.sh [NAME.eml ...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
imap=/usr/lib/dovecot/imap
[ -x "$imap" ] || { echo "record-dovecot: $imap missing (apt-get install dovecot-imapd)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$here"
# The sections fetched for NAME.sections: every path of up to three part
# numbers 1-3 and of four numbers 1-2, each plain and with .MIME, .HEADER
# and .TEXT.
sections=$(python3 -c '
import itertools
paths = [p for n in (1, 2, 3) for p in itertools.product((1, 2, 3), repeat=n)]
paths += list(itertools.product((1, 2), repeat=4))
items = []
for p in paths:
    s = ".".join(map(str, p))
    items += ["BODY.PEEK[%s%s]" % (s, x) for x in ("", ".MIME", ".HEADER", ".TEXT")]
print(" ".join(items))')
[ $# -gt 0 ] || set -- *.eml
for eml in "$@"; do
	name=$(basename "$eml" .eml)
	md="$work/$name"
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	cp "$eml" "$md/cur/1000000000.M1P1.corpus:2,"
	cat > "$work/$name.conf" <<CONF
mail_location = maildir:$md
ssl = no
log_path = $work/$name.log
base_dir = $work/$name.run
mail_uid = nobody
mail_gid = nogroup
CONF
	chown -R nobody:nogroup "$md"
	printf 'a SELECT INBOX\r\nb FETCH 1 ENVELOPE\r\nc FETCH 1 BODYSTRUCTURE\r\nd FETCH 1 BODY\r\nf FETCH 1 (%s)\r\ne LOGOUT\r\n' "$sections" |
		env -i USER=corpus HOME="$work" PATH=/usr/bin:/bin "$imap" -c "$work/$name.conf" > "$work/$name.out" 2>> "$work/$name.err"
	python3 - "$work/$name.out" "$name" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
name = sys.argv[2]
# Split the server output into responses, honouring {n}\r\n literals.
responses, pos = [], 0
while pos < len(data):
    start = pos
    while True:
        eol = data.index(b'\r\n', pos)
        line = data[pos:eol]
        pos = eol + 2
        if line.endswith(b'}') and b'{' in line:
            n = int(line[line.rindex(b'{') + 1:-1])
            pos += n
            continue
        break
    responses.append(data[start:pos - 2])
want = {b'ENVELOPE': 'envelope', b'BODYSTRUCTURE': 'bodystructure', b'BODY': 'body'}
seen = set()
for r in responses:
    prefix = b'* 1 FETCH ('
    if not r.startswith(prefix):
        continue
    item, _, rest = r[len(prefix):].partition(b' ')
    if item in want and rest.endswith(b')'):
        open(name + '.' + want[item], 'wb').write(rest[:-1])
        seen.add(item)
if len(seen) != 3:
    sys.exit('record-dovecot: %s: missing FETCH items in %r' % (name, data))

# NAME.sections: "SECTION LENGTH FNV-1a-64" per BODY[SECTION] fetched.
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
lines = []
for r in responses:
    if not r.startswith(b'* 1 FETCH (BODY['):
        continue
    pos = len(b'* 1 FETCH (')
    while r[pos:pos + 5] == b'BODY[':
        close = r.index(b']', pos)
        section = r[pos + 5:close].decode()
        pos = close + 2  # "] "
        if r[pos:pos + 3] == b'NIL':
            value, pos = b'', pos + 3
        else:
            brace = r.index(b'}', pos)
            n = int(r[pos + 1:brace])
            value = r[brace + 3:brace + 3 + n]
            pos = brace + 3 + n
        lines.append('%s %d %016x\n' % (section, len(value), fnv(value)))
        if r[pos:pos + 1] == b' ':
            pos += 1
if len(lines) < 200:
    sys.exit('record-dovecot: %s: only %d sections answered' % (name, len(lines)))
open(name + '.sections', 'w').write(''.join(lines))
PY
done
