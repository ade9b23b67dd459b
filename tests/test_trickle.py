"""Clients that are never idle: what IDLE_TIMEOUT cannot see.

IDLE_TIMEOUT disconnects a client that sends nothing, or reads nothing, for
that long. A client that does a little before each timeout runs out is
never disconnected: one that sends a byte every IDLE_TIMEOUT - 1 seconds,
or one that reads a little of its replies as often. It holds what the
server gave it (a thread, a descriptor, a process, a place in select's
sets) for as long as it goes on. These tests measure it, with
IDLE_TIMEOUT=1 and clients that act every half second: they state limits
that the chapters name, not promises.
"""

import resource
import time

import pytest

from harness import (TCP_ESTABLISHED, long_reply, send_without_reading,
                     tcp_state)

IDLE = 1         # IDLE_TIMEOUT, in seconds
PACE = IDLE / 2  # a trickling client acts this often: before each timeout
# How long the tests watch: past the time a silent client is dropped
# (IDLE), and a client that never reads (up to two writes' timeouts).
SENDERS_HELD = 2 * IDLE
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
    """How many clients fill the server, and how to start it so: one for
    v0.2, the table's 1024 for v0.8, and for the others as many as their
    descriptors allow, here 32 (less the few the server holds)."""
    if "serial" in features:
        return 1, {}
    if "fork" in features:
        return MAX_CHILDREN, {}

    def few_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))
    return DESCRIPTORS, {"preexec_fn": few_descriptors}


def send_a_byte(client):
    client.send(b"x")


@pytest.mark.stages("!once")
def test_clients_sending_a_byte_before_each_timeout_hold_every_place(
        start, features):
    n, popen = places(features)
    server = start("0", env={"IDLE_TIMEOUT": str(IDLE)}, **popen)
    if server.wrapped and n > 1:
        pytest.skip("Valgrind keeps descriptors of its own and closes what "
                    "it accepts past the limit; 1024 children under it "
                    "would take gigabytes")
    request, reply = server.probe
    tricklers = [server.client() for _ in range(n)]
    try:
        with server.client() as late:
            late.send(request)
            trickle(tricklers, send_a_byte, SENDERS_HELD)
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
    """One read of what has arrived: at this pace, the window that TCP
    opens each time lets the server's waiting write move a little."""
    client.sock.recv(4 << 20)


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
