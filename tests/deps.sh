#!/bin/sh
# Installs what `make test` needs, if it is missing: Check and pkg-config for
# the unit tests, pytest for the socket tests, clang and its sanitizer
# runtimes for the checked builds, valgrind for the leak checks, patch
# for the exercises' solutions, procps (ps, pkill) for the chapters'
# sessions.
# Debian's packages, via apt-get.
# Prints the Python that has pytest.

python_with_pytest() {
    for python in /usr/bin/python3 python3; do
        if "$python" -c 'import pytest' 2>/dev/null; then
            command -v "$python"
            return 0
        fi
    done
    return 1
}

sanitizers_work() {
    echo 'int main(void) { return 0; }' |
        clang -x c -fsanitize=address,undefined -o /dev/null - 2>/dev/null &&
    echo 'int main(void) { return 0; }' |
        clang -x c -fsanitize=thread -o /dev/null - 2>/dev/null
}

missing=""
command -v pkg-config >/dev/null || missing="$missing pkg-config"
pkg-config --exists check 2>/dev/null || missing="$missing check"
python_with_pytest >/dev/null || missing="$missing python3-pytest"
command -v clang >/dev/null || missing="$missing clang"
command -v patch >/dev/null || missing="$missing patch"
command -v valgrind >/dev/null || missing="$missing valgrind"
command -v pkill >/dev/null || missing="$missing procps"
command -v clang >/dev/null && ! sanitizers_work && missing="$missing libclang-rt-dev"

if [ -n "$missing" ]; then
    if ! command -v apt-get >/dev/null; then
        echo "make test needs these (Debian names):$missing; install them, then run it again" >&2
        exit 1
    fi
    # $missing unquoted: one word a package
    tests/apt_install.sh "make test" $missing || exit 1
    if ! sanitizers_work; then
        tests/apt_install.sh "make test" libclang-rt-dev || exit 1
    fi
fi
python_with_pytest
