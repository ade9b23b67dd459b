#!/bin/sh
# apt_install.sh WHO PACKAGE...: installs Debian packages with apt-get,
# through sudo when not root, saying so as WHO. Fails if there is no
# apt-get, or if it fails.

who=$1
shift
command -v apt-get >/dev/null || exit 1
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "$who: installing $*" >&2
apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -qq"
$apt update >&2 && $apt install "$@" >&2
