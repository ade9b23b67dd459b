"""Exercise 2.2 (v0.2-loop): a Unix-domain socket echo server.

`server PORT PATH`, with PATH an absolute path (it starts with '/'),
listens on a Unix-domain stream socket at PATH instead of TCP, prints
`listening on PATH`, and echoes as v0.2 does. PORT must still be a valid
port (write 0) but is not used: no TCP socket is opened. It never removes
a file it did not make: a path that cannot be bound (one that exists
already, a file or an old socket, one in a folder that does not exist) is
an error (exit 1); a stop
(SIGINT, SIGTERM) removes the socket file it made. A path too long for a
Unix socket (108 bytes or more, on Linux) is a bad argument (exit 2), as
are a bad PORT and an ADDRESS that is neither a numeric address nor an
absolute path. An IP address still means TCP.
"""

import os
import signal
import socket
import stat

import pytest

from grading import assert_refused, check, expect, socket_dir, start_unix  # noqa: F401
from harness import describe_status

SUN_PATH = 108  # bytes in sockaddr_un's sun_path on Linux, its NUL included


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
          sent=sig.name, expected="exit status 0", got=describe_status(status))
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


def what_is_at(path):
    """(inode, kind) of what is at path, or None."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    return found.st_ino, "a socket" if stat.S_ISSOCK(found.st_mode) else "a file"


def check_left_alone(path, before, what):
    after = what_is_at(path)
    check(after == before, f"What was at the path ({what}) is left as it was: "
          f"the server never removes a file it did not make.",
          expected=f"{before[1]}, inode {before[0]}",
          got="nothing there: it was removed" if after is None else
          f"{after[1]}, inode {after[0]}: it was replaced")


def test_an_existing_file_at_the_path_is_left_alone_and_it_exits_1(binary, path):
    with open(path, "w") as f:
        f.write("precious data\n")
    before = what_is_at(path)
    assert_refused(binary, ["0", path], None, 1,
                   "A file already exists at the path: bind fails, and the "
                   "server says so and exits 1 (as for a port in use). It must "
                   "not delete a file it did not make.")
    check_left_alone(path, before, "a file of data")
    with open(path) as f:
        kept = f.read()
    check(kept == "precious data\n", "The file that was there is left as it was.",
          expected="precious data\\n", got=repr(kept))


def test_an_old_socket_at_the_path_is_left_alone_and_it_exits_1(binary, path):
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(path)
    old.close()  # no one listens there any more, but the file stays
    before = what_is_at(path)
    assert_refused(binary, ["0", path], None, 1,
                   "An old socket file is at the path (a server that was "
                   "killed leaves one): bind fails, and the server says so "
                   "and exits 1. It did not make that socket, and cannot know "
                   "whose it is: it must not delete it.")
    check_left_alone(path, before, "an old socket")


def path_of_length(folder, n):
    return os.path.join(folder, "x" * (n - len(folder) - 1))


def test_the_longest_path_that_fits_works(start_unix, socket_dir):
    server = start_unix(path_of_length(socket_dir, SUN_PATH - 1))
    with server.client() as c:
        expect(c, b"long", b"long", f"A path of {SUN_PATH - 1} bytes fits in "
               f"sun_path with its NUL: the server listens there and echoes.")


@pytest.mark.parametrize("length", [SUN_PATH, SUN_PATH + 100])
def test_a_path_too_long_for_a_unix_socket_is_a_bad_argument(binary, socket_dir,
                                                              length):
    assert_refused(binary, ["0", path_of_length(socket_dir, length)], None, 2,
                   f"A Unix socket's path must fit in sockaddr_un's sun_path "
                   f"({SUN_PATH} bytes with its NUL, on Linux): a path of "
                   f"{length} bytes is a bad argument, exit 2. (Linux itself "
                   f"binds {SUN_PATH} bytes without the NUL, unix(7) BUGS; "
                   f"the portable rule is the one asked here.) Check the "
                   f"length before you copy it; never cut it to fit.")


def test_a_path_in_a_folder_that_does_not_exist_exits_1(binary, socket_dir):
    assert_refused(binary, ["0", os.path.join(socket_dir, "no folder", "s")],
                   None, 1, "bind fails when the path's folder does not "
                   "exist: the server says so and exits 1, as for a port in "
                   "use.")


@pytest.mark.parametrize("args", [["x", "/tmp/s"], ["65536", "/tmp/s"],
                                  ["0", "relative.sock"]], ids=" ".join)
def test_a_bad_port_or_a_relative_path_is_a_bad_argument(binary, args):
    assert_refused(binary, args, None, 2,
                   "PORT must still be a valid port, though a Unix socket does "
                   "not use it; and an ADDRESS is a numeric address or an "
                   "absolute path (it starts with '/'): anything else is a bad "
                   "argument, exit 2.")


def test_the_port_is_not_used_with_a_path(start_unix, path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    with taken:
        port = str(taken.getsockname()[1])
        server = start_unix(path, port=port)
        with server.client() as c:
            expect(c, b"unix", b"unix",
                   f"With a path, no TCP socket is opened: started as `server "
                   f"{port} PATH` while port {port} is taken, the server "
                   f"still listens on the path.")


def test_an_ip_address_still_means_tcp(start):
    server = start("0", "127.0.0.1")
    with server.client() as c:
        expect(c, b"tcp", b"tcp", "`server 0 127.0.0.1` still echoes over TCP.")
