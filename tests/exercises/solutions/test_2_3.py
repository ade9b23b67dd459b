"""Exercise 2.3, a reference test: a client that goes away before the server
has written its echo must not stop the server.

v0.2 serves one client at a time, so a client that connects while another
is served waits in the backlog. This one sends 16 KiB there and closes at
once. When the server gets to it, it echoes the first KiB to a connection
the client has closed: the client's kernel answers with a reset, and the
server's next write raises SIGPIPE, whose default action ends the process.
A fresh client must still get its echo afterwards.
"""

import signal
import subprocess

from harness import TIMEOUT

SENT = b"x" * 16384  # more than v0.2 echoes at once (1024 bytes a read)


def what_became_of(server):
    """How the server process ended, in words, or that it still runs."""
    try:
        status = server.proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        return "the server is still running"
    if status < 0:
        return f"the server was killed by {signal.Signals(-status).name}"
    return f"the server exited with status {status}"


def leave_before_the_echo(server):
    """A client that sends SENT and closes while the server is busy with
    another: it is gone before the server writes a byte to it."""
    with server.client() as busy:
        busy.send(b"hold on\n")
        assert busy.recv_exactly(8) == b"hold on\n"  # the server is with us
        gone = server.client()
        gone.send(SENT)
        gone.close()


def test_a_client_that_leaves_before_its_echo_stops_no_one(server):
    leave_before_the_echo(server)
    try:
        with server.client() as c:
            c.send(b"still there?\n")
            got = c.recv_exactly(len(b"still there?\n"))
    except (OSError, AssertionError) as error:
        got = f"no echo ({error}); {what_became_of(server)}"
    assert got == b"still there?\n", (
        f"a client sent {len(SENT)} bytes and closed before the server wrote "
        f"their echo; then a new client sent b'still there?\\n': expected its "
        f"echo, got {got}")
