"""Exercise 5.2 (v0.5-get): a file server.

The environment variable FILE_DIR names a folder (default: the folder the
server was started in; one that cannot be opened as a folder is a bad
argument, exit 2). `FILE/<name>/<status>` (exactly two '/', a name that is
not empty) sends the file `name` of that folder as three parts:

    <size in bytes, decimal>\\r\\n
    <exactly that many bytes: the file>
    <the MD5 of those bytes, 32 lowercase hex digits>\\r\\n

then goes on with the next request. A name that starts with '.' or is
longer than 255 bytes gets `error: bad file name`; any other name is a name
(`a..b` too). A file that does not exist or is not a regular file (a
folder, a FIFO, a symbolic link, even one that leads to a file of the
folder) gets `error: no such file`. FILE in any other shape gets an error
that names `FILE/<name>/<status>`; `file/...` and `FILES/...` are other
methods. Every error is one line that starts with `error: `, and the
connection stays usable. Every file opened is closed, sent or not, and a
client that stops reading a file is dropped after IDLE_TIMEOUT, as any
client that stops reading. A FILE over 1024 bytes, or with a NUL byte,
gets the error any request gets.
"""

import hashlib
import os
import socket

import pytest

from grading import (assert_refused, ask, check_limits, expect,  # noqa: F401
                     expect_error, socket_dir, wait_for)
from harness import (TCP_ESTABLISHED, TIMEOUT, in_parallel, send_without_reading,
                     tcp_state)

HELLO = b"hello, world\n"
# A little over 1 MiB, of every byte value (NUL, \r and \n among them): a
# size no buffer of a round size holds, and a last piece shorter than the
# others.
BINARY = bytes(range(256)) * 4096 + b"!"
BIG = b"0123456789abcdef" * (1 << 19)  # 8 MiB: more than every buffer holds
SECRET = b"the password is swordfish\n"
LONGEST = "n" * 255  # the longest name
# RFC 1321's test suite (its appendix A.5): each text and its MD5.
RFC_1321 = [
    (b"", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"a", "0cc175b9c0f1b6a831c399e269772661"),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
    (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"),
    (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
]
NAMES = ["a..b", "two words é.txt", LONGEST]  # names that are names


@pytest.fixture
def folder(socket_dir):
    """FILE_DIR, with files of every kind in it, and a secret outside."""
    files = os.path.join(socket_dir, "files")
    os.mkdir(files)
    contents = [("hello.txt", HELLO), ("empty", b""), ("binary.bin", BINARY),
                (".hidden", b"hidden\n")]
    contents += [(f"rfc-{i}", text) for i, (text, _) in enumerate(RFC_1321)]
    contents += [(name, name.encode() + b"\n") for name in NAMES]
    for name, data in contents:
        with open(os.path.join(files, name), "wb") as f:
            f.write(data)
    with open(os.path.join(socket_dir, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.mkdir(os.path.join(files, "a folder"))
    os.mkfifo(os.path.join(files, "fifo"))
    os.symlink(os.path.join(socket_dir, "secret.txt"), os.path.join(files, "link"))
    os.symlink("hello.txt", os.path.join(files, "link-inside"))
    return files


@pytest.fixture
def server(start, folder):
    return start("0", env={"FILE_DIR": folder})


@pytest.fixture
def big(folder):
    """big.bin in FILE_DIR, for the checks that need a file no buffer holds."""
    with open(os.path.join(folder, "big.bin"), "wb") as f:
        f.write(BIG)


def file_reply(data, md5=None):
    """What FILE sends for a file that holds data."""
    md5 = (md5 or hashlib.md5(data).hexdigest()).encode()
    return b"%d\r\n" % len(data) + data + md5 + b"\r\n"


def descriptors(server):
    return len(os.listdir(f"/proc/{server.pid}/fd"))


def check_descriptors_back(server, before, why, sent):
    """Waits until the server holds no more descriptors than before."""
    wait_for(lambda: descriptors(server) <= before, why, sent=sent,
             expected=f"the server back to its {before} open descriptors "
             f"once the clients are gone",
             got=lambda: f"{descriptors(server)} still open after {TIMEOUT:g} s")


def test_a_text_file_comes_as_size_bytes_and_md5(server):
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "FILE/<name>/<status> gets the size line, the file's bytes, then "
            "the line of their MD5 in hex.")


def test_an_empty_file_comes_as_0_and_the_md5_of_nothing(server):
    with server.client() as c:
        ask(c, b"FILE/empty/s", file_reply(b""),
            "An empty file: size 0, no bytes, and the MD5 of no bytes.")


def test_a_binary_file_of_a_little_over_1_mib_comes_whole(server):
    with server.client() as c:
        ask(c, b"FILE/binary.bin/s", file_reply(BINARY),
            "A file of 1 MiB and 1 byte, with every byte value (NUL, \\r and "
            "\\n too), comes whole: its size, every byte in order, the last "
            "one too, and the MD5 of them all. Send it in pieces, each write "
            "in a loop, until the file's end.")


def test_the_md5s_of_rfc_1321s_test_suite(server):
    with server.client() as c:
        for i, (text, md5) in enumerate(RFC_1321):
            ask(c, b"FILE/rfc-%d/s" % i, file_reply(text, md5),
                f"RFC 1321 gives the MD5 of {text!r} as {md5}: a file that "
                f"holds those bytes comes with that MD5, in lowercase hex.")


@pytest.mark.parametrize("name", NAMES, ids=lambda name: repr(name[:20]))
def test_a_name_that_does_not_start_with_a_dot_is_a_name(server, name):
    data = name.encode() + b"\n"
    with server.client() as c:
        ask(c, b"FILE/%s/s" % name.encode(), file_reply(data),
            "Only a name that starts with '.', or is over 255 bytes, is "
            "refused: any other (two dots inside it, spaces, bytes past "
            "ASCII, 255 bytes) names a file of the folder, which is sent.")


def test_the_connection_goes_on_after_a_file(server):
    with server.client() as c:
        expect(c, b"FILE/hello.txt/s\nGET/task_01/s\nFILE/empty/\n",
               file_reply(HELLO) + b"see someone\r\n" + file_reply(b""),
               "A file is one reply among others: requests sent in one piece "
               "after a FILE get their replies, in order.")


def test_a_file_request_that_arrives_in_pieces_is_answered(server):
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (b"FI", b"LE/hel", b"lo.txt", b"/s"):
            c.send(piece)
        expect(c, b"\n", file_reply(HELLO),
               "FILE/hello.txt/s\\n sent in pieces (b'FI', b'LE/hel', "
               "b'lo.txt', b'/s', b'\\n') is still one request: requests are "
               "lines, however their bytes arrive.")


BAD_NAME, NO_FILE = b"error: bad file name", b"error: no such file"


@pytest.mark.parametrize("name,says", [
    (b"..", BAD_NAME), (b".", BAD_NAME), (b".hidden", BAD_NAME),
    (b"n" * 256, BAD_NAME), (b"link", NO_FILE), (b"link-inside", NO_FILE),
], ids=lambda value: repr(value[:20]))
def test_a_name_that_could_leave_the_folder_is_refused(server, name, says):
    with server.client() as c:
        expect_error(c, b"FILE/" + name + b"/s", says,
                     "The server must not send a file from outside its "
                     "folder: a name that starts with '.' or is over 255 "
                     "bytes gets 'error: bad file name'; a symbolic link "
                     "is not a regular file, wherever it leads (link leads "
                     "out of the folder, link-inside to hello.txt): 'error: "
                     "no such file'.")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The connection stays usable after the error.")


@pytest.mark.parametrize("name", [b"missing", b"a folder", b"fifo", b"m" * 255],
                         ids=lambda value: repr(value[:20]))
def test_a_missing_or_special_file_gets_an_error(server, name):
    with server.client() as c:
        expect_error(c, b"FILE/" + name + b"/s", NO_FILE,
                     "Only regular files are sent: a missing file (a name of "
                     "255 bytes is a name), a folder or a FIFO gets 'error: "
                     "no such file' (and opening a FIFO must not wait for a "
                     "writer: O_NONBLOCK).")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The connection stays usable after the error.")


@pytest.mark.parametrize("request_", [
    b"FILE", b"FILE/", b"FILE/hello.txt", b"FILE//s", b"FILE/../secret.txt/s",
    b"FILE/hello.txt/s/",
], ids=repr)
def test_file_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"FILE/<name>/<status>",
                     "FILE needs exactly two '/' and a name between them: any "
                     "other shape gets an error that names the form.")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The connection stays usable after the error.")


@pytest.mark.parametrize("request_", [b"file/hello.txt/s", b"FILES/hello.txt/s",
                                      b"FIL/hello.txt/s", b"/hello.txt/s"],
                         ids=repr)
def test_file_is_case_sensitive_and_a_method_is_all_before_the_first_slash(
        server, request_):
    with server.client() as c:
        ask(c, request_, b"data no found\r\n",
            "A method is the whole text before the first '/', compared "
            "whole and case-sensitive: this is not FILE but a method the "
            "server does not know.")


def test_5_clients_download_at_once(server):
    def download(i):
        with server.client() as c:
            ask(c, b"FILE/binary.bin/%d" % i, file_reply(BINARY),
                "5 clients download the same file at once: each gets it whole.")

    in_parallel(5, download)


def test_files_that_are_not_sent_are_closed(server):
    before = descriptors(server)
    with server.client() as c:
        for _ in range(20):
            for name in (b"a folder", b"fifo"):
                expect_error(c, b"FILE/%s/s" % name, NO_FILE,
                             "A folder or a FIFO gets 'error: no such file'.")
    check_descriptors_back(
        server, before, "A file opened and found not to be a regular file "
        "is closed before the error is sent: a server that leaks a "
        "descriptor for each runs out of them, and then serves no one.",
        sent="FILE/a folder/s and FILE/fifo/s, 20 times each")


def test_a_download_cut_short_closes_its_file(server, big):
    before = descriptors(server)
    for _ in range(3):
        c = server.client()
        c.send(b"FILE/big.bin/s\n")
        c.recv_exactly(1000)
        c.reset()  # the server is still writing: its next write fails
    check_descriptors_back(
        server, before, "Three clients asked for an 8 MiB file and left "
        "with a reset after 1000 bytes: the server's write fails, and it "
        "must close the file as well as the connection. A server that "
        "leaks a descriptor for each runs out of them, and then serves no "
        "one.", sent="FILE/big.bin/s, 1000 bytes read, then a reset (3 times)")
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "The server still sends files after clients left mid-file.")


def test_a_client_that_stops_reading_a_file_is_dropped_after_IDLE_TIMEOUT(
        start, folder, big):
    server = start("0", env={"FILE_DIR": folder, "IDLE_TIMEOUT": "1"})
    with server.client() as hog:
        send_without_reading(hog, b"FILE/big.bin/s\n")
        wait_for(lambda: tcp_state(hog) != TCP_ESTABLISHED,
                 "With IDLE_TIMEOUT=1, a client that asks for a file and "
                 "reads nothing is dropped after a second: the write that "
                 "waits on it fails (SO_SNDTIMEO) with EAGAIN, and that ends "
                 "the connection. EAGAIN here is not 'try again'.",
                 sent="FILE/big.bin/s, again and again, reading nothing",
                 expected="the connection closed within a few seconds",
                 got=f"still open after {TIMEOUT:g} s")
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "The server goes on serving after it dropped the client.")


def test_without_FILE_DIR_files_come_from_the_current_folder(start, folder):
    server = start("0", cwd=folder)
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "Without FILE_DIR, the server serves the folder it was started in.")


def test_file_obeys_the_limits_every_request_has(server):
    check_limits(server, b"FILE/hello.txt/", file_reply(HELLO))


def test_a_FILE_DIR_that_is_not_a_folder_is_a_bad_argument(binary, folder):
    for path in [os.path.join(folder, "hello.txt"), os.path.join(folder, "nope"), ""]:
        assert_refused(binary, ["0"], {"FILE_DIR": path}, 2,
                       "FILE_DIR must name a folder the server can open: "
                       "anything else is a bad argument, exit 2, found at "
                       "start rather than at the first FILE.")
