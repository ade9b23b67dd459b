#!/bin/sh
# Installs what make bench needs, if it is missing: Debian's python3 (it runs
# the bench and the Python references) and redis-server (a reference). Redis
# is optional: if it cannot be installed, its row says "not installed".

apt_install() {
    tests/apt_install.sh "make bench" "$@"
}

if [ ! -x /usr/bin/python3 ]; then
    apt_install python3 || {
        echo "make bench needs /usr/bin/python3 (Debian: python3)" >&2
        exit 1
    }
fi
if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ]; then
    apt_install redis-server ||
        echo "make bench: could not install redis-server: its row will say so" >&2
fi
exit 0
