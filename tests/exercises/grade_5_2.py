"""Exercise 5.2 (v0.5-get): a file server.

The environment variable FILE_DIR names a folder (default: the folder the
server was started in; one that cannot be opened as a folder is a bad
argument, exit 2). `FILE/<name>/<status>` (exactly two '/', a name that is
not empty) sends the file `name` of that folder as three parts:

    <size in bytes, decimal>\\r\\n
    <exactly that many bytes: the file>
    <the MD5 of those bytes, 32 lowercase hex digits>\\r\\n

then goes on with the next request. A name that starts with '.' or is
longer than 255 bytes gets `error: bad file name`; a file that does not
exist or is not a regular file (a folder, a FIFO, a symbolic link: it could
lead out of the folder) gets `error: no such file`. FILE in any other shape
gets an error that names `FILE/<name>/<status>`. Every error is one line
that starts with `error: `, and the connection stays usable. A FILE over
1024 bytes, or with a NUL byte, gets the error any request gets.
"""

import hashlib
import os

import pytest

from grading import (assert_refused, ask, check_limits, expect, expect_error,  # noqa: F401
                     socket_dir)
from harness import in_parallel

HELLO = b"hello, world\n"
BINARY = bytes(range(256)) * 4096  # 1 MiB, NUL bytes and \r\n among them
SECRET = b"the password is swordfish\n"


@pytest.fixture
def folder(socket_dir):
    """FILE_DIR, with files of every kind in it, and a secret outside."""
    files = os.path.join(socket_dir, "files")
    os.mkdir(files)
    for name, data in [("hello.txt", HELLO), ("empty", b""),
                       ("binary.bin", BINARY), (".hidden", b"hidden\n")]:
        with open(os.path.join(files, name), "wb") as f:
            f.write(data)
    with open(os.path.join(socket_dir, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.mkdir(os.path.join(files, "a folder"))
    os.mkfifo(os.path.join(files, "fifo"))
    os.symlink(os.path.join(socket_dir, "secret.txt"), os.path.join(files, "link"))
    return files


@pytest.fixture
def server(start, folder):
    return start("0", env={"FILE_DIR": folder})


def file_reply(data):
    """What FILE sends for a file that holds data."""
    md5 = hashlib.md5(data).hexdigest().encode()
    return b"%d\r\n" % len(data) + data + md5 + b"\r\n"


def test_a_text_file_comes_as_size_bytes_and_md5(server):
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "FILE/<name>/<status> gets the size line, the file's bytes, then "
            "the line of their MD5 in hex.")


def test_an_empty_file_comes_as_0_and_the_md5_of_nothing(server):
    with server.client() as c:
        ask(c, b"FILE/empty/s", file_reply(b""),
            "An empty file: size 0, no bytes, and the MD5 of no bytes.")


def test_a_1_mib_binary_file_comes_whole(server):
    with server.client() as c:
        ask(c, b"FILE/binary.bin/s", file_reply(BINARY),
            "A 1 MiB file with every byte value (NUL, \\r and \\n too) comes "
            "whole: its size, every byte in order, and the MD5 of them all. "
            "Send it in pieces, each write in a loop.")


def test_the_connection_goes_on_after_a_file(server):
    with server.client() as c:
        expect(c, b"FILE/hello.txt/s\nGET/task_01/s\nFILE/empty/\n",
               file_reply(HELLO) + b"see someone\r\n" + file_reply(b""),
               "A file is one reply among others: requests sent in one piece "
               "after a FILE get their replies, in order.")


BAD_NAME, NO_FILE = b"error: bad file name", b"error: no such file"


@pytest.mark.parametrize("name,says", [
    (b"..", BAD_NAME), (b".", BAD_NAME), (b".hidden", BAD_NAME),
    (b"n" * 256, BAD_NAME), (b"link", NO_FILE),
], ids=lambda value: repr(value[:20]))
def test_a_name_that_could_leave_the_folder_is_refused(server, name, says):
    with server.client() as c:
        expect_error(c, b"FILE/" + name + b"/s", says,
                     "The server must not send a file from outside its "
                     "folder: a name that starts with '.' or is over 255 "
                     "bytes gets 'error: bad file name'; a symbolic link "
                     "(this one leads out of the folder) is not a regular "
                     "file: 'error: no such file'.")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The connection stays usable after the error.")


@pytest.mark.parametrize("name", [b"missing", b"a folder", b"fifo", b"n" * 255],
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
], ids=repr)
def test_file_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"FILE/<name>/<status>",
                     "FILE needs exactly two '/' and a name between them: any "
                     "other shape gets an error that names the form.")


def test_5_clients_download_at_once(server):
    def download(i):
        with server.client() as c:
            ask(c, b"FILE/binary.bin/%d" % i, file_reply(BINARY),
                "5 clients download the 1 MiB file at once: each gets it whole.")

    in_parallel(5, download)


def test_without_FILE_DIR_files_come_from_the_current_folder(start, folder):
    server = start("0", cwd=folder)
    with server.client() as c:
        ask(c, b"FILE/hello.txt/s", file_reply(HELLO),
            "Without FILE_DIR, the server serves the folder it was started in.")


def test_file_obeys_the_limits_every_request_has(server):
    check_limits(server, b"FILE")


def test_a_FILE_DIR_that_is_not_a_folder_is_a_bad_argument(binary, folder):
    for path in [os.path.join(folder, "hello.txt"), os.path.join(folder, "nope"), ""]:
        assert_refused(binary, ["0"], {"FILE_DIR": path}, 2,
                       "FILE_DIR must name a folder the server can open: "
                       "anything else is a bad argument, exit 2, found at "
                       "start rather than at the first FILE.")
