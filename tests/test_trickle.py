"""Clients that are never idle: what IDLE_TIMEOUT cannot see.

IDLE_TIMEOUT disconnects a client that sends nothing, or reads nothing, for
that long. A client that does a little before each timeout runs out is
never disconnected: one that sends a byte every IDLE_TIMEOUT - 1 seconds,
or one that reads a little of its replies as often. It holds what the
server gave it (a thread, a descriptor, a process, a place in select's
sets) for as long as it goes on. These tests measure it, with
IDLE_TIMEOUT=1 (2 for v0.8's 1024 clients) and clients that act every half
second: they state limits that the chapters name, not promises.
"""

import select
import time

import pytest

from harness import (TCP_ESTABLISHED, limit_descriptors, long_reply,
                     send_without_reading, tcp_state)

IDLE = 1    # IDLE_TIMEOUT, in seconds
PACE = 0.5  # a trickling client acts this often: before each timeout
# How long the tests watch: twice the time a silent client is given, and
# more than the two writes' timeouts a client that never reads is given.
TIMEOUTS_HELD = 2
READER_HELD = 3 * IDLE
DESCRIPTORS = 32  # RLIMIT_NOFILE of the threaded and select() stages here
MAX_CHILDREN = 1024  # v0.8's table


def trickle(clients, act, seconds):
    """Calls act(client) for each client every PACE seconds, for this
    long."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for c in clients:
            act(c)
        time.sleep(PACE)  # the clients' pace, not a wait for the server


def places(features):
    """How many clients fill the server, its IDLE_TIMEOUT, and how to start
    it: one client for v0.2; the table's 1024 for v0.8, with a timeout of
    2 s, since a round of 1024 sends can be slow on a busy machine; and for
    the others as many as their descriptors allow, here 32 (less the few
    the server holds)."""
    if "serial" in features:
        return 1, IDLE, {}
    if "fork" in features:
        return MAX_CHILDREN, 2 * IDLE, {}
    return DESCRIPTORS, IDLE, {"preexec_fn": limit_descriptors(DESCRIPTORS)}


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
    tricklers = [server.client() for _ in range(n)]
    try:
        with server.client() as late:
            late.send(request)
            trickle(tricklers, send_a_byte, TIMEOUTS_HELD * idle)
            assert all(tcp_state(c) == TCP_ESTABLISHED for c in tricklers)
            if "fork" in features:  # the table is full: closed, unanswered
                assert late.wait_closed() == b""
            else:  # still waiting to be accepted, or for its thread
                assert late.nothing_within(0.1)
            for c in tricklers:
                c.close()
            if "fork" not in features:
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
        trickle([reader], read_what_came, READER_HELD)
        assert tcp_state(reader) == TCP_ESTABLISHED
    server.assert_serves()
