"""Exercise 2.2 (v0.2-loop): a Unix-domain socket echo server.

`server PORT PATH`, with PATH an absolute path (it starts with '/'),
listens on a Unix-domain stream socket at PATH instead of TCP, prints
`listening on PATH`, and echoes as v0.2 does. PORT must still be a valid
port (write 0) but is not used. It never removes a file it did not make: a
path that exists already is an error (exit 1); a stop (SIGINT, SIGTERM)
removes the socket file it made. A path too long for a Unix socket (108
bytes or more, on Linux) is a bad argument (exit 2). An IP address still
means TCP.
"""

import os
import signal
import stat

import pytest

from grading import assert_refused, check, expect, socket_dir, start_unix  # noqa: F401


@pytest.fixture
def path(socket_dir):
    return os.path.join(socket_dir, "echo.sock")


def test_listens_on_a_socket_file_at_the_path(start_unix, path):
    start_unix(path)
    mode = os.lstat(path).st_mode if os.path.lexists(path) else None
    check(mode is not None and stat.S_ISSOCK(mode),
          "After `listening on PATH`, a socket file exists at PATH: bind made it.",
          ran=f"server 0 {path}", expected="a socket at that path",
          got="nothing there" if mode is None else f"a file of mode {mode:o}")


def test_echoes_every_message_until_the_client_leaves(start_unix, path):
    server = start_unix(path)
    with server.client() as c:
        for i in range(20):
            message = b"message %d\n" % i
            expect(c, message, message,
                   "Over the Unix socket, every message comes back as it was "
                   "sent, as v0.2 does over TCP.")


def test_serves_the_next_client_after_the_first_leaves(start_unix, path):
    server = start_unix(path)
    for i in range(3):
        with server.client() as c:
            expect(c, b"client %d" % i, b"client %d" % i,
                   "Clients that come one after another are each echoed.")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=lambda s: s.name)
def test_a_stop_exits_0_and_removes_the_socket_file(start_unix, path, sig):
    server = start_unix(path)
    with server.client() as c:
        expect(c, b"ping", b"ping", "The server echoes.")
        status = server.stop(sig)
    check(status == 0, f"{sig.name} stops the server with exit status 0.",
          sent=sig.name, expected="exit status 0", got=f"exit status {status}")
    check(not os.path.lexists(path),
          f"The server made the socket file, so it removes it when {sig.name} "
          f"stops it: otherwise the next start on that path fails.",
          sent=sig.name, expected=f"no file at {path}", got="the file is still there")


def test_a_restart_on_the_same_path_works(start_unix, path):
    first = start_unix(path)
    first.stop()
    again = start_unix(path)
    with again.client() as c:
        expect(c, b"again", b"again", "A server started again on the same path "
               "(after a stop) echoes.")


def test_an_existing_file_at_the_path_is_left_alone_and_it_exits_1(binary, path):
    with open(path, "w") as f:
        f.write("precious data\n")
    assert_refused(binary, ["0", path], None, 1,
                   "A file already exists at the path: bind fails, and the "
                   "server says so and exits 1 (as for a port in use). It must "
                   "not delete a file it did not make.")
    with open(path) as f:
        kept = f.read()
    check(kept == "precious data\n", "The file that was there is left as it was.",
          expected="precious data\\n", got=repr(kept))


def test_a_path_too_long_for_a_unix_socket_is_a_bad_argument(binary, socket_dir):
    path = os.path.join(socket_dir, "x" * 120)
    assert_refused(binary, ["0", path], None, 2,
                   "A Unix socket's path must fit in sockaddr_un's sun_path "
                   "(108 bytes with its NUL, on Linux): a longer one is a bad "
                   "argument, exit 2. Check the length before you copy it.")


def test_an_ip_address_still_means_tcp(start):
    server = start("0", "127.0.0.1")
    with server.client() as c:
        expect(c, b"tcp", b"tcp", "`server 0 127.0.0.1` still echoes over TCP.")
