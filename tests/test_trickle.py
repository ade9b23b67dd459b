"""Clients that are never idle: what IDLE_TIMEOUT cannot see.

IDLE_TIMEOUT disconnects a client that sends nothing, or reads nothing, for
that long. A client that does a little before each timeout runs out is
never disconnected: one that sends a byte every IDLE_TIMEOUT - 1 seconds,
or one that reads a little of its replies as often. It holds what the
server gave it (a thread, a descriptor, a process, a place in select's
sets) for as long as it goes on. These tests measure it, with
IDLE_TIMEOUT=1 (5 for v0.8's 1024 clients) and clients that act every half
second: they state limits that the chapters name, not promises.
"""

import pathlib
import select
import threading
import time

import pytest

from harness import (TCP_ESTABLISHED, children, limit_descriptors, long_reply,
                     send_without_reading, tcp_state, wait_until)

IDLE = 1    # IDLE_TIMEOUT, in seconds
PACE = 0.5  # a trickling client acts this often: before each timeout
# How long the tests watch: twice the time a silent client is given, and
# more than the two writes' timeouts a client that never reads is given.
TIMEOUTS_HELD = 2
READER_HELD = 3 * IDLE
DESCRIPTORS = 32  # RLIMIT_NOFILE of the threaded and select() stages here
MAX_CHILDREN = 1024  # v0.8's table
# How long v0.8 may take to fork a child for each of them: it took 38 s
# here, the AddressSanitizer build with a load average of 400.
FORKS_TIMEOUT = 120


class Trickler:
    """Calls act(client) for each client in a list every PACE seconds, from
    a thread of its own, from the round after the client joins the list
    until stop(). A client acts while the others are still connecting,
    however long that takes: with a backlog of 128 (musl's SOMAXCONN, or
    a kernel's somaxconn) the 1024 connections of v0.8 wait for SYNs sent
    again, seconds, longer than a timeout."""

    def __init__(self, clients, act):
        self.clients, self.act = clients, act
        self.done = threading.Event()
        self.failure = None
        self.thread = threading.Thread(target=self.run)

    def run(self):
        try:
            while True:
                for c in list(self.clients):
                    self.act(c)
                if self.done.wait(PACE):  # the clients' pace, not a wait for the server
                    return
        except OSError as e:
            self.failure = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def check(self):
        """Fails if an act failed: the server dropped the client."""
        assert self.failure is None, f"a trickling client failed: {self.failure!r}"

    def stop(self):
        self.__exit__()
        self.check()


def places(features):
    """How many clients fill the server, its IDLE_TIMEOUT, and how to start
    it: one client for v0.2; the table's 1024 for v0.8, with a timeout of
    5 s, since on a busy machine one of 1024 clients can go more than 2 s
    between two bytes (it did here, with a load average of 60); and for
    the others as many as their descriptors allow, here 32 (less the few
    the server holds)."""
    if "serial" in features:
        return 1, IDLE, {}
    if "fork" in features:
        return MAX_CHILDREN, 5 * IDLE, {}
    return DESCRIPTORS, IDLE, {"preexec_fn": limit_descriptors(DESCRIPTORS)}


def child_count(pid):
    """How many children the process has: one file to read, where scanning
    /proc takes the CPU the tricklers need on a busy machine (0.6 s a
    scan here, under load)."""
    listed = pathlib.Path(f"/proc/{pid}/task/{pid}/children")
    if not listed.exists():  # a kernel built without CONFIG_PROC_CHILDREN
        return len(children(pid))
    return len(listed.read_text().split())


def wait_for_children(server, trickler, enough, what):
    """Waits until enough(how many children the server has) is true; fails
    at once if the trickler failed."""
    def counted():
        trickler.check()
        return enough(child_count(server.pid))

    wait_until(counted, lambda: f"{what}: {child_count(server.pid)} children",
               FORKS_TIMEOUT)


def send_a_byte(client):
    client.send(b"x")


@pytest.mark.stages("!once")
def test_clients_sending_a_byte_before_each_timeout_hold_every_place(
        start, features):
    n, idle, popen = places(features)
    server = start("0", env={"IDLE_TIMEOUT": str(idle)}, **popen)
    if server.wrapped and n > 1:
        pytest.skip("Valgrind keeps descriptors of its own and closes what "
                    "it accepts past the limit; 1024 children under it "
                    "would take gigabytes")
    request, reply = server.probe
    tricklers = []
    try:
        with Trickler(tricklers, send_a_byte) as trickler:
            for _ in range(n):
                tricklers.append(server.client())
            if "fork" in features:  # the table is full once each has its child
                wait_for_children(server, trickler, lambda k: k == n,
                                  f"{n} children forked")
            with server.client() as late:
                late.send(request)
                time.sleep(TIMEOUTS_HELD * idle)  # how long the places are held
                assert all(tcp_state(c) == TCP_ESTABLISHED for c in tricklers)
                if "fork" in features:  # the table is full: closed, unanswered
                    assert late.wait_closed() == b""
                else:  # still waiting to be accepted, or for its thread
                    assert late.nothing_within(0.1)
                trickler.stop()
                for c in tricklers:
                    c.close()
                if "fork" in features:  # a child sees its client leave
                    wait_for_children(server, trickler, lambda k: k < n,
                                      "a place freed")
                else:
                    assert late.recv_exactly(len(reply)) == reply
    finally:
        for c in tricklers:
            c.close()
    server.assert_serves()


def read_what_came(client):
    """Reads all that has arrived, without waiting for more: at this pace,
    the window TCP opens each time lets the server's waiting write move."""
    while select.select([client.sock], [], [], 0)[0]:
        if not client.sock.recv(1 << 20):
            return


@pytest.mark.stages("!once", "!select")
def test_a_client_reading_a_little_before_each_timeout_holds_its_writer(start):
    """Each write that moves a few bytes before SO_SNDTIMEO runs out
    returns their count, and write_all starts a new write, with a new
    timeout."""
    server = start("0", env={"IDLE_TIMEOUT": str(IDLE)})
    request, _ = long_reply(server)
    with server.client() as reader:
        send_without_reading(reader, request)
        with Trickler([reader], read_what_came) as trickler:
            time.sleep(READER_HELD)  # how long the writer is held
            trickler.stop()
        assert tcp_state(reader) == TCP_ESTABLISHED
    server.assert_serves()
