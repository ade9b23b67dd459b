"""Exercise 6.2 (v0.6-post): keep the list across restarts.

The environment variable TODO_FILE names a file. At start, if that file
exists, the list is exactly what it holds, in its order: one task per
line, `task_id=value\\n` (an empty file is an empty list; a value is every
byte up to the '\\n', '\\r' and blanks too); if it does not exist, the
list starts with the three tasks as before. A file that cannot be read, a
line that is not `task_id=value` within the limits (a task_id of 1 to 64
bytes, a value of at most 256, one '=', no NUL; an empty line is not one),
or more than 1024 tasks, stops the server at start with exit status 1.
After every POST that changed the list, and before its reply, the whole
list is written to the file, so that `submit success` means the task
survives even a crash (SIGKILL). The file is replaced, never rewritten in
place: a new file is renamed onto the name, which is never removed nor
written, and no other file is left beside it. If it cannot be written the
reply starts with `error: `. An empty TODO_FILE is a bad argument (exit 2).
Without TODO_FILE nothing is read or written.
"""

import ctypes
import ctypes.util
import os
import signal
import struct

import pytest

from grading import (ask, assert_refused, check, expect, expect_error, show,  # noqa: F401
                     socket_dir)
from harness import in_parallel

SAVED = b"submit success\r\n"
FIRST_THREE = b"task_01=see someone\ntask_02=read book\ntask_03=play basketball\n"


@pytest.fixture
def list_file(socket_dir):
    return os.path.join(socket_dir, "todo.txt")


@pytest.fixture
def start_kept(start, list_file):
    """Starts the server with TODO_FILE set."""
    return lambda: start("0", env={"TODO_FILE": list_file})


def restarted(server, start_kept, sig=signal.SIGTERM):
    server.stop(sig)
    return start_kept()


def test_a_posted_task_is_there_after_a_restart(start_kept):
    server = start_kept()
    with server.client() as c:
        ask(c, b"POST/task_04=write code/s", SAVED, "POST stores a task.")
    server = restarted(server, start_kept)
    with server.client() as c:
        ask(c, b"GET/task_04/s", b"write code\r\n",
            "After a stop and a start with the same TODO_FILE, the task "
            "posted before the stop is there: the list was saved, then read "
            "at start.")
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The three first tasks were saved with it.")


def test_the_file_holds_one_line_per_task_in_order(start_kept, list_file):
    server = start_kept()
    with server.client() as c:
        ask(c, b"POST/task_04=write code/s", SAVED, "POST stores a task.")
        ask(c, b"POST/task_02=read another book/s", SAVED, "POST replaces a value.")
    want = (b"task_01=see someone\ntask_02=read another book\n"
            b"task_03=play basketball\ntask_04=write code\n")
    got = open(list_file, "rb").read() if os.path.exists(list_file) else None
    check(got == want, "After a POST has been answered, TODO_FILE holds the "
          "whole list: one line task_id=value per task, in the list's order.",
          sent=b"POST/task_04=write code/s\nPOST/task_02=read another book/s\n",
          expected=f"the file {show(want)}",
          got="no file" if got is None else f"the file {show(got)}")


def test_each_save_replaces_the_file_and_leaves_nothing_beside_it(
        start_kept, list_file, socket_dir):
    server = start_kept()
    with server.client() as c:
        ask(c, b"POST/task_04=first/s", SAVED, "POST stores a task.")
        before = os.stat(list_file).st_ino
        ask(c, b"POST/task_04=second/s", SAVED, "POST stores a task.")
    after = os.stat(list_file).st_ino
    check(after != before, "A save writes a new file, then renames it over "
          "the old one: a crash in the middle of a write then leaves the old "
          "list whole. Rewriting the file in place (fopen \"w\" on TODO_FILE "
          "itself) can leave half a list.", sent=b"POST/task_04=second/s\n",
          expected="a new file at TODO_FILE (a new inode)",
          got=f"the same file, rewritten (inode {after})")
    check(os.listdir(socket_dir) == ["todo.txt"], "No temporary file is left "
          "beside TODO_FILE once a save is done.", expected="only todo.txt",
          got=str(sorted(os.listdir(socket_dir))))


# Values a line-reading habit may change: every byte but '=', '\n' and NUL
# is a value's, '\r' and blanks at either end too.
ODD_VALUES = [b"", b" blanks around ", b"ends in a carriage return\r",
              b"\ttab\tand # hash", "été, 東京".encode()]


# inotify(7): what happens to the names in a folder, told by the kernel.
IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x8, 0x40, 0x80
IN_CREATE, IN_DELETE = 0x100, 0x200
# What may not happen to TODO_FILE's name, and what it leaves for a crash.
UNSAFE = {
    IN_MODIFY: "written in place (IN_MODIFY): a crash meanwhile leaves half "
               "a list",
    IN_CLOSE_WRITE: "opened for writing (IN_CLOSE_WRITE): a crash meanwhile "
                    "leaves half a list",
    IN_DELETE: "deleted (IN_DELETE): until the new file takes the name, a "
               "crash leaves no list, and the next start begins anew",
    IN_MOVED_FROM: "renamed away (IN_MOVED_FROM): until the new file takes "
                   "the name, a crash leaves no list",
    IN_CREATE: "made anew by open (IN_CREATE), not by a rename: the name "
               "was missing, then empty, then half written",
}


def name_events(folder, work):
    """Runs work() and returns what inotify saw happen to the names in
    folder meanwhile: a list of (name, mask)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert fd >= 0, f"inotify_init1: {os.strerror(ctypes.get_errno())}"
    try:
        mask = sum(UNSAFE) | IN_MOVED_TO
        wd = libc.inotify_add_watch(fd, folder.encode(), mask)
        assert wd >= 0, f"inotify_add_watch: {os.strerror(ctypes.get_errno())}"
        work()
        events = []
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return events
            at = 0
            while at < len(data):  # struct inotify_event, then its name
                _, event, _, size = struct.unpack_from("iIII", data, at)
                name = data[at + 16:at + 16 + size].rstrip(b"\0").decode()
                events.append((name, event))
                at += 16 + size
    finally:
        os.close(fd)


def test_the_name_always_holds_a_whole_list(start_kept, list_file, socket_dir):
    server = start_kept()
    requests = [b"POST/task_%d=value %d/s" % (i, i) for i in range(4, 14)]

    def post():
        with server.client() as c:
            for request in requests:
                ask(c, request, SAVED, "POST stores a task.")

    with server.client() as c:
        ask(c, b"POST/first=the file is made/s", SAVED, "POST stores a task.")
    events = name_events(socket_dir, post)
    name = os.path.basename(list_file)
    unsafe = [UNSAFE[bit] for seen, mask in events if seen == name
              for bit in UNSAFE if mask & bit]
    renamed = [seen for seen, mask in events if mask & IN_MOVED_TO]
    check(not unsafe and renamed.count(name) == len(requests),
          "At every moment TODO_FILE holds a whole list, the old one or the "
          "new one: each save writes a file beside it, then renames that "
          "file over it (rename replaces the name in one step; no need to "
          "remove the old file first). Watched with inotify, the name may "
          "only be renamed onto, once per save.",
          sent=f"{len(requests)} POSTs, one after the other",
          expected=f"{len(requests)} renames onto {name}, nothing else done "
          f"to that name",
          got=f"{name} {unsafe[0]}" if unsafe else
          f"{renamed.count(name)} renames onto it")


def test_the_latest_value_and_values_of_every_kind_survive_a_restart(start_kept):
    server = start_kept()
    with server.client() as c:
        for request in [b"POST/task_01=first/s", b"POST/task_01=second/s"] + [
                b"POST/odd%d=%s/s" % (i, v) for i, v in enumerate(ODD_VALUES)]:
            ask(c, request, SAVED, "POST stores a task.")
    server = restarted(server, start_kept)
    with server.client() as c:
        ask(c, b"GET/task_01/s", b"second\r\n",
            "A value posted twice comes back after a restart as it was last.")
        for i, value in enumerate(ODD_VALUES):
            ask(c, b"GET/odd%d/s" % i, value + b"\r\n",
                "A value is its bytes, every one: it survives a restart as "
                "it was posted, empty, with blanks or a \\r at its ends, or "
                "bytes past ASCII. Cut only the '\\n' that ends a line.")


def test_submit_success_means_the_task_survives_a_crash(start_kept):
    server = start_kept()
    with server.client() as c:
        ask(c, b"POST/urgent=saved before the reply/s", SAVED, "POST stores a task.")
    server = restarted(server, start_kept, signal.SIGKILL)
    with server.client() as c:
        ask(c, b"GET/urgent/s", b"saved before the reply\r\n",
            "The server was killed (SIGKILL, as in a crash) right after it "
            "replied submit success: the task must already be in the file. "
            "Save before you reply.")


def test_the_file_is_read_at_start_and_its_order_kept(start_kept, list_file):
    with open(list_file, "wb") as f:
        f.write(b"b=two words\na=1\n")
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/a/s", b"1\r\n", "At start the list is what the file holds.")
        ask(c, b"GET/b/s", b"two words\r\n",
            "At start the list is what the file holds.")
        ask(c, b"GET/task_01/s", b"no key match\r\n",
            "The file holds the whole list: the three first tasks are not "
            "added to it.")
        ask(c, b"POST/c=3/s", SAVED, "POST stores a task.")
    want = b"b=two words\na=1\nc=3\n"
    got = open(list_file, "rb").read()
    check(got == want, "The list read at start keeps the file's order, and "
          "a new task goes at its end: the file after a POST is the list, "
          "in the list's order.", sent=b"POST/c=3/s\n",
          expected=f"the file {show(want)}", got=f"the file {show(got)}")


def test_an_empty_file_is_an_empty_list(start_kept, list_file):
    open(list_file, "wb").close()
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/task_01/s", b"no key match\r\n",
            "An empty file holds an empty list: the three first tasks are "
            "not added to it.")


def test_a_file_at_the_limits_is_read(start_kept, list_file):
    with open(list_file, "wb") as f:
        f.write(b"i" * 64 + b"=" + b"v" * 256 + b"\nk=\n")
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/" + b"i" * 64 + b"/s", b"v" * 256 + b"\r\n",
            "A task_id of 64 bytes and a value of 256 are within the limits: "
            "such a line is a task.")
        ask(c, b"GET/k/s", b"\r\n", "An empty value is a value.")


def test_a_file_of_1024_tasks_is_a_full_list(start_kept, list_file):
    with open(list_file, "wb") as f:
        f.write(b"".join(b"k%d=v%d\n" % (i, i) for i in range(1024)))
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/k1023/s", b"v1023\r\n",
            "A file of 1024 tasks, as many as the list holds, is read whole: "
            "the last one is there.")
        expect_error(c, b"POST/one_more=v/s", b"full",
                     "The list read from a file of 1024 tasks is full: a new "
                     "task is refused.")


def test_without_the_file_the_list_starts_with_the_three_tasks(start_kept):
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/task_03/s", b"play basketball\r\n",
            "TODO_FILE names a file that does not exist yet: the list starts "
            "with the three first tasks.")


def test_20_clients_posting_at_once_are_all_saved(start_kept):
    server = start_kept()

    def post(i):
        with server.client() as c:
            expect(c, b"".join(b"POST/c%d_%d=v/s\n" % (i, j) for j in range(10)),
                   SAVED * 10, "20 clients post 10 tasks each, at once.")

    in_parallel(20, post)
    server = restarted(server, start_kept)
    with server.client() as c:
        expect(c, b"".join(b"GET/c%d_%d/s\n" % (i, j)
                           for i in range(20) for j in range(10)),
               b"v\r\n" * 200,
               "After a restart, every one of the 200 tasks posted at once is "
               "there: saves must not run into each other (the lock must "
               "cover them).")


@pytest.mark.parametrize("content", [
    b"no equals sign\n", b"=empty id\n", b"a=b=c\n", b"i" * 65 + b"=v\n",
    b"k=" + b"v" * 257 + b"\n", b"k=v\nk2=v\0\n", b"a=1\n\nb=2\n",
    b"".join(b"k%d=v\n" % i for i in range(1025)),
], ids=lambda c: repr(c[:20]) if len(c) < 1000 else "1025 tasks")
def test_a_line_that_is_not_a_task_stops_the_server(binary, list_file, content):
    with open(list_file, "wb") as f:
        f.write(content)
    assert_refused(binary, ["0"], {"TODO_FILE": list_file}, 1,
                   f"TODO_FILE holds {show(content)}: a line that is not "
                   f"task_id=value within the limits (an empty line is not), "
                   f"or more tasks than the list holds (1024), means the "
                   f"file is not a list the server wrote. The server must "
                   f"not start (exit 1), rather than serve a part of it, "
                   f"and overwrite the file at the first POST.")


def test_a_TODO_FILE_that_cannot_be_read_stops_the_server(binary, socket_dir):
    assert_refused(binary, ["0"], {"TODO_FILE": socket_dir}, 1,
                   "TODO_FILE names a folder, which cannot be read as a list: "
                   "the server must not start (exit 1).")


def test_a_list_that_cannot_be_saved_gets_an_error(start, socket_dir):
    path = os.path.join(socket_dir, "no folder", "todo.txt")
    server = start("0", env={"TODO_FILE": path})
    with server.client() as c:
        ask(c, b"GET/task_01/s", b"see someone\r\n", "TODO_FILE does not "
            "exist: the list starts with the three first tasks.")
        expect_error(c, b"POST/task_04=v/s", None,
                     "TODO_FILE is in a folder that does not exist, so the "
                     "list cannot be saved: the POST's reply must say so, "
                     "with a line that starts with 'error: ', rather than "
                     "'submit success'.")


def test_an_empty_TODO_FILE_is_a_bad_argument(binary):
    assert_refused(binary, ["0"], {"TODO_FILE": ""}, 2,
                   "TODO_FILE set to nothing names no file: a bad argument, "
                   "exit 2.")


def test_without_TODO_FILE_nothing_is_kept(start, socket_dir):
    server = start("0", cwd=socket_dir)
    with server.client() as c:
        ask(c, b"POST/task_04=write code/s", SAVED, "POST stores a task.")
    server.stop()
    check(os.listdir(socket_dir) == [],
          "Without TODO_FILE the server writes no file.",
          expected="an empty folder", got=f"{os.listdir(socket_dir)}")
    server = start("0", cwd=socket_dir)
    with server.client() as c:
        ask(c, b"GET/task_04/s", b"no key match\r\n",
            "Without TODO_FILE the list starts anew at every start.")
