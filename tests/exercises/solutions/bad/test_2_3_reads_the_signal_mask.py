"""A test of exercise 2.3 that its grade must refuse: it reads how the
server handles SIGPIPE, in /proc/PID/status, and sends no byte.

It passes on v0.2 as shipped, which ignores SIGPIPE, and fails on the
servers that do not: it caught both buggy builds a grade once had. But
it checks how v0.2 is written, not what a client sees. A server that
avoids the signal another way (MSG_NOSIGNAL on each send, SIGPIPE
blocked) is correct and fails it; one that ignores SIGPIPE and still
stops when a client leaves passes it. A test that fails on a correct
server catches nothing: its failures on the buggy ones do not count.

What its grade must say:
    fails on sigpipe-avoided-by-msg-nosignal
    fails on sigpipe-blocked
    misses no-sigpipe-guard
    misses write-error-stops-the-server
"""

import signal


def ignored_signals(pid):
    """The set of signals the process ignores (SigIgn, a hex mask)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("SigIgn:"):
                mask = int(line.split()[1], 16)
                return {s for s in signal.Signals if mask >> (s - 1) & 1}
    return set()


def test_the_server_ignores_sigpipe(server):
    ignored = ignored_signals(server.pid)
    assert signal.SIGPIPE in ignored, (
        f"expected SIGPIPE among the signals the server ignores, got "
        f"{sorted(s.name for s in ignored)}")
