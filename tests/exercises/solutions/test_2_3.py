"""Exercise 2.3, a reference test: a client that goes away while the server
writes to it must not stop the server.

The client sends more than the server echoes at once, then closes without
reading the echo. The kernel answers the server's next write with a reset,
and the write after that raises SIGPIPE, whose default action ends the
process. The test is that client, five times, then a fresh client that
must still get its echo.
"""

import signal
import subprocess

from harness import TIMEOUT

RUDE_CLIENTS = 5
SENT = b"x" * 16384  # all of it fits in flight: the send never blocks


def leave_without_reading(server):
    """Sends SENT, then closes with its echo unread."""
    c = server.client()
    try:
        c.send(SENT)
        c.shutdown_write()
    except OSError:
        pass  # the server hung up first: this client is done either way
    c.close()


def what_became_of(server):
    """How the server process ended, in words, or that it still runs."""
    try:
        status = server.proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        return "the server is still running"
    if status < 0:
        return f"the server was killed by {signal.Signals(-status).name}"
    return f"the server exited with status {status}"


def test_clients_that_leave_without_reading_their_echo_stop_no_one(server):
    for _ in range(RUDE_CLIENTS):
        leave_without_reading(server)
    try:
        with server.client() as c:
            c.send(b"still there?\n")
            got = c.recv_exactly(len(b"still there?\n"))
    except (OSError, AssertionError) as error:
        got = f"no echo ({error}); {what_became_of(server)}"
    assert got == b"still there?\n", (
        f"after {RUDE_CLIENTS} clients that each sent {len(SENT)} bytes and "
        f"closed without reading the echo, a new client sent "
        f"b'still there?\\n': expected its echo, got {got}")
