#!/bin/sh
# Install the Debian packages that building and testing Postern need, only
# those missing. Runs apt-get as root (or via sudo); does nothing when all
# are present.
pkgs="gcc make pkg-config libc6-dev libssl-dev libcrypt-dev
bats python3 curl swaks openssl systemd procps psmisc iproute2 fetchmail mpop
xinetd dnsmasq-base isync offlineimap3 tmux mutt man-db valgrind strace"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y --no-install-recommends $missing ||
	{ $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $missing; }
