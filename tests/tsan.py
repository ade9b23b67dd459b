"""ThreadSanitizer on a kernel that randomises addresses with many bits.

ThreadSanitizer (clang 14's, here) expects a program and its libraries in
the address ranges its shadow memory is laid out for. On x86-64 Linux
those ranges hold every address the kernel can pick when it randomises
mmap with 28 bits (vm.mmap_rnd_bits; Linux's default there), not with
more, and Ubuntu's kernels use 32 (24.04's, for one). A program that
lands outside dies before main with "FATAL: ThreadSanitizer: unexpected
memory mapping ...", which reads like a report about the program. Here,
a TSan build of v0.3 failed to start 11 times in 20 with 29 bits, 18 in
20 with 30, every time with 32.

So on such a kernel every ThreadSanitizer build runs under `setarch ARCH
-R`: the personality flag ADDR_NO_RANDOMIZE, no randomisation for that
process alone, which needs no root. Where even that is refused (a
container whose seccomp filter forbids personality()), the tests stop
with one sentence saying what to do, before any server starts.

    tsan.py COMMAND [ARG...]   runs COMMAND (a ThreadSanitizer build) as
                               the tests run one: under setarch -R if the
                               kernel needs it
"""

import functools
import os
import pathlib
import platform
import subprocess
import sys

BITS_TSAN_FITS = 28  # the most clang 14's x86-64 layout takes
ADDR_NO_RANDOMIZE = 0x0040000  # linux/personality.h
PROC = pathlib.Path("/proc")


def read_number(path, base=10):
    """The number in the file PROC/path, or None."""
    try:
        return int((PROC / path).read_text().strip(), base)
    except (OSError, ValueError):
        return None


def randomisation_too_wide():
    """The bits the kernel randomises mmap with, if this process's
    programs would be randomised with more than ThreadSanitizer fits;
    else None."""
    bits = read_number("sys/vm/mmap_rnd_bits")
    if bits is None or bits <= BITS_TSAN_FITS:
        return None
    if read_number("sys/kernel/randomize_va_space") == 0:
        return None  # randomisation is off for every process
    if (read_number("self/personality", 16) or 0) & ADDR_NO_RANDOMIZE:
        return None  # this process, and what it starts, is not randomised
    return bits


@functools.lru_cache(maxsize=None)
def launcher():
    """What goes before a ThreadSanitizer build's command line: [] or
    setarch's. Raises CannotRun if neither works here."""
    bits = randomisation_too_wide()
    if bits is None:
        return []
    setarch = ["setarch", platform.machine(), "-R"]
    try:
        works = subprocess.run([*setarch, "true"], stdin=subprocess.DEVNULL,
                               capture_output=True).returncode == 0
    except OSError:  # no setarch (util-linux)
        works = False
    if not works:
        raise CannotRun(
            f"ThreadSanitizer cannot run here: the kernel randomises "
            f"addresses with {bits} bits (vm.mmap_rnd_bits), more than the "
            f"{BITS_TSAN_FITS} it allows, and `setarch -R`, which runs around "
            f"that without root, is refused here; run `sudo sysctl -w "
            f"vm.mmap_rnd_bits={BITS_TSAN_FITS}` and try again.")
    return setarch


class CannotRun(Exception):
    """ThreadSanitizer builds cannot run on this machine; str() says what
    to do, in one sentence."""


@functools.lru_cache(maxsize=None)
def _is_tsan_build(path, mtime, size):
    data = pathlib.Path(path).read_bytes()
    return b"__tsan_init" in data or b"ThreadSanitizer" in data


def is_tsan_build(binary):
    """Whether the program was built with -fsanitize=thread (by clang, or
    gcc's, which links libtsan)."""
    try:
        info = os.stat(binary)
    except OSError:
        return False
    return _is_tsan_build(str(binary), info.st_mtime_ns, info.st_size)


def command(binary, *args):
    """The command line that runs binary with args here: under setarch -R
    for a ThreadSanitizer build on a kernel that needs it. Raises CannotRun
    if such a build cannot run here."""
    prefix = launcher() if is_tsan_build(binary) else []
    return [*prefix, str(binary), *map(str, args)]


def main(argv):
    if not argv:
        print(__doc__.rsplit("\n\n", 1)[1], file=sys.stderr)
        return 2
    try:
        prefix = launcher()
    except CannotRun as problem:
        print(problem, file=sys.stderr)
        return 1
    os.execvp((prefix or argv)[0], [*prefix, *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
