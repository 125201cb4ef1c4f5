#!/bin/sh
# make bench: install the peers (Postfix, Dovecot) and the bench's tools when
# missing, without leaving a system Postfix or Dovecot running: the package
# scripts are kept from starting daemons (policy-rc.d), and a daemon of a
# package installed here is stopped and disabled. A Postfix or Dovecot that
# was installed before is never touched. Also installs what building
# Postern and the bench tools needs (compiler, -dev packages).
set -eu
# as root, nothing in front of the commands (an empty SUDO before -E would run
# a command named -E); else sudo, keeping DEBIAN_FRONTEND
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO="sudo -E"

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }

need=
for p in postfix dovecot-imapd dovecot-pop3d systemd python3 gcc make pkg-config libc6-dev \
	libssl-dev libcrypt-dev openssl; do
	installed "$p" || need="$need $p"
done
[ -n "$need" ] || exit 0

new_postfix=no new_dovecot=no
installed postfix || new_postfix=yes
installed dovecot-core || new_dovecot=yes

echo "bench: installing$need"
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
made_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# temporary, bench/install-peers.sh: start no daemon\nexit 101\n' |
		$SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	made_policy=yes
fi
cleanup() { [ "$made_policy" = no ] || $SUDO rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT INT TERM
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $need || {
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends $need
}

systemd_up() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
if [ "$new_postfix" = yes ]; then
	if systemd_up; then
		$SUDO systemctl disable --now postfix.service >/dev/null 2>&1 || true
	elif [ -f /var/spool/postfix/pid/master.pid ]; then
		$SUDO postfix stop >/dev/null 2>&1 || true
	fi
fi
if [ "$new_dovecot" = yes ]; then
	if systemd_up; then
		$SUDO systemctl disable --now dovecot.socket dovecot.service >/dev/null 2>&1 || true
	elif [ -f /run/dovecot/master.pid ]; then
		$SUDO doveadm stop >/dev/null 2>&1 || true
	fi
fi
