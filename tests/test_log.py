"""The log: what a server does when no one reads its standard error.

A log is a pipe more often than a terminal (`./server 2>&1 | less`, a
collector), and a pipe holds little: once it is full, a blocking write
waits for a reader. These tests give the server a pipe that no one reads,
shrunk to one page so that it fills fast: v0.7's loop must go on serving,
dropping lines; every other stage waits in its log, and says so in its
chapter.
"""

import fcntl
import os
import pathlib
import select
import threading

import pytest

from harness import (SANITIZER_REPORT, TIMEOUT, children, unread_bytes,
                     wait_until)

PAGE = 4096  # the smallest pipe Linux makes (F_SETPIPE_SZ rounds up)


class UnreadLog:
    """A pipe for a server's standard error that no one reads until
    drain() starts a reader, which keeps what it reads."""

    def __init__(self):
        self.read_end, self.write_end = os.pipe()
        fcntl.fcntl(self.write_end, fcntl.F_SETPIPE_SZ, PAGE)
        self.text = bytearray()
        self.reader = None

    def start(self, start, *args):
        """start(*args) with this pipe as its standard error."""
        try:
            return start(*args, stderr=self.write_end)
        finally:
            os.close(self.write_end)

    def drain(self):
        def read_all():
            while chunk := os.read(self.read_end, 65536):
                self.text += chunk
        self.reader = threading.Thread(target=read_all, daemon=True)
        self.reader.start()

    def close(self, server):
        """Stops the server, then returns all it logged; fails on a
        sanitizer report in it (the harness cannot see this log)."""
        if self.reader is None:
            self.drain()
        assert server.stop() == 0
        self.reader.join(TIMEOUT)
        os.close(self.read_end)
        assert not SANITIZER_REPORT.search(self.text.decode(errors="replace"))
        return bytes(self.text)


def in_pipe_write(pid):
    """Whether a thread of the process, or of a child of it, sleeps in the
    kernel's pipe_write (anon_pipe_write in recent kernels): waits for room
    in a full pipe."""
    return any(wchan.endswith("pipe_write") for wchan in wchans(pid))


def wchans(pid):
    """Where each thread of the process and of its children sleeps."""
    found = []
    try:
        for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
            found.append((task / "wchan").read_text())
    except OSError:
        pass  # the process or a thread of it has just ended
    for child in children(pid):
        found += wchans(child)
    return found


def lines_logged(text):
    """How many lines about clients the server logged, counting those it
    says it dropped."""
    lines = text.splitlines()
    dropped = [int(line.split()[0]) for line in lines
               if line.endswith(b" log lines dropped")]
    return sum(dropped) + sum(line.startswith(b"client ") for line in lines)


@pytest.mark.stages("select")
def test_a_log_no_one_reads_delays_no_client_and_counts_what_it_drops(start):
    log = UnreadLog()
    server = log.start(start, "0")
    for _ in range(200):  # 400 lines, each client's connect and close
        server.assert_serves()
    assert not in_pipe_write(server.pid)
    log.drain()
    wait_until(lambda: unread_bytes(log.read_end) == 0, "the log read")
    # The first line written now says how many were dropped; a line that
    # is dropped after it has no later line to be counted with.
    server.assert_serves()
    wait_until(lambda: lines_logged(log.text) >= 400,
               lambda: f"400 lines logged or counted: {bytes(log.text)!r}")
    assert b" log lines dropped\n" in log.text
    assert lines_logged(log.close(server)) <= 402


def answered_before_a_stall(server, client):
    """Waits until the client has a reply to read (True), or the server
    sleeps in pipe_write (False)."""
    seen = []

    def either():
        if select.select([client.sock], [], [], 0)[0]:
            seen.append(True)
        elif in_pipe_write(server.pid):
            seen.append(False)
        return bool(seen)

    wait_until(either, "a reply, or the server waiting on its log")
    return seen[0]


@pytest.mark.stages("!select")
def test_a_log_no_one_reads_stalls_the_server_until_it_is_read(start):
    log = UnreadLog()
    server = log.start(start, "0")
    request, reply = server.probe
    for served in range(1000):
        with server.client() as c:
            c.send(request)
            if not answered_before_a_stall(server, c):
                break
            assert c.recv_exactly(len(reply)) == reply
    else:
        raise AssertionError("1000 clients served, and the log never stalled")
    with server.client() as waiting:
        waiting.send(request)
        assert waiting.nothing_within(0.5), "a reply came through a full log"
        log.drain()
        assert waiting.recv_exactly(len(reply)) == reply
    log.close(server)
