"""Exercise 6.2 (v0.6-post): keep the list across restarts.

The environment variable TODO_FILE names a file. At start, if that file
exists, the list is exactly what it holds: one task per line,
`task_id=value\\n`, in the list's order (an empty file is an empty list);
if it does not exist, the list starts with the three tasks as before. A
file that cannot be read, or a line that is not `task_id=value` within the
limits (a task_id of 1 to 64 bytes, a value of at most 256, one '='), stops
the server at start with exit status 1. After every POST that changed the
list, and before its reply, the whole list is written to the file, so that
`submit success` means the task survives even a crash (SIGKILL). The file
is replaced, never rewritten in place: a new file takes its name, and no
other file is left beside it. If it cannot be written the reply starts
with `error: `. An empty TODO_FILE is a bad argument (exit 2). Without
TODO_FILE nothing is read or written.
"""

import os
import signal

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


def test_the_latest_value_and_an_empty_value_survive_a_restart(start_kept):
    server = start_kept()
    with server.client() as c:
        for request in [b"POST/task_01=first/s", b"POST/task_01=second/s",
                        b"POST/nothing=/s"]:
            ask(c, request, SAVED, "POST stores a task.")
    server = restarted(server, start_kept)
    with server.client() as c:
        ask(c, b"GET/task_01/s", b"second\r\n",
            "A value posted twice comes back after a restart as it was last.")
        ask(c, b"GET/nothing/s", b"\r\n",
            "An empty value is a value: it survives a restart, empty.")


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


def test_the_file_is_read_at_start(start_kept, list_file):
    with open(list_file, "wb") as f:
        f.write(b"a=1\nb=two words\n")
    server = start_kept()
    with server.client() as c:
        ask(c, b"GET/a/s", b"1\r\n", "At start the list is what the file holds.")
        ask(c, b"GET/b/s", b"two words\r\n",
            "At start the list is what the file holds.")
        ask(c, b"GET/task_01/s", b"no key match\r\n",
            "The file holds the whole list: the three first tasks are not "
            "added to it.")


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
    b"k=" + b"v" * 257 + b"\n", b"k=v\nk2=v\0\n",
], ids=lambda c: repr(c[:20]))
def test_a_line_that_is_not_a_task_stops_the_server(binary, list_file, content):
    with open(list_file, "wb") as f:
        f.write(content)
    assert_refused(binary, ["0"], {"TODO_FILE": list_file}, 1,
                   f"TODO_FILE holds {show(content)}: a line that is not "
                   f"task_id=value within the limits means the file is not "
                   f"a list. The server must not start (exit 1), rather than "
                   f"serve a list it could not read or overwrite the file.")


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
