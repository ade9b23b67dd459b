#!/bin/sh
# Installs strace if it is missing: the timelines record the server's side
# with it. Debian's package, via apt-get, through sudo when not root.
# Without it they show the clients' side alone, and say so.

command -v strace >/dev/null && exit 0
tests/apt_install.sh timeline strace && exit 0
echo "timeline: no strace (Debian: apt-get install strace);" \
     "the timelines will show the clients' side alone" >&2
exit 0
