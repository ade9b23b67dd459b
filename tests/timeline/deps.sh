#!/bin/sh
# Installs strace if it is missing: the timelines record the server's side
# with it. Debian's package, via apt-get, through sudo when not root.
# Without it they show the clients' side alone, and say so.

command -v strace >/dev/null && exit 0
if command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "timeline: installing strace" >&2
    apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -qq"
    $apt update >&2 && $apt install strace >&2 && exit 0
fi
echo "timeline: no strace (Debian: apt-get install strace);" \
     "the timelines will show the clients' side alone" >&2
exit 0
