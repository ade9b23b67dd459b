"""What no stage may do: die, hang or spin because of what a client did.

Each test makes a client misbehave, then checks that a fresh client is
still served (the harness also checks, after every test, that the server
is alive and stops cleanly). More misbehaving clients, resets and running
out of descriptors among them, are in test_faults.py.
"""

import time

import pytest

from harness import (TCP_ESTABLISHED, long_reply, send_without_reading,
                     tcp_state, wait_until)


# A talking client's pace. Its requests must reach the server less than
# IDLE_TIMEOUT apart even when the machine is busy: each gap is the pace
# plus however late the client and the server get the CPU, which on a
# loaded machine can pass half a second.
TALKING_IDLE_TIMEOUT = 2
PACE = 0.1


def test_silent_client_is_disconnected_after_IDLE_TIMEOUT(start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    began = time.monotonic()  # before the connection: its clock starts later
    with server.client() as silent:
        silent.wait_closed()
        assert time.monotonic() - began >= 0.9
    server.assert_serves()


def keep_talking(server, talker, seconds):
    """Sends a request every PACE seconds, for seconds, each answered."""
    request, reply = server.probe
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        talker.send(request)
        assert talker.recv_exactly(len(reply)) == reply
        time.sleep(PACE)  # the client's pace, not a wait for the server


@pytest.mark.stages("!once")
def test_client_that_keeps_talking_outlives_IDLE_TIMEOUT(start):
    server = start("0", env={"IDLE_TIMEOUT": str(TALKING_IDLE_TIMEOUT)})
    with server.client() as talker:
        keep_talking(server, talker, 1.5 * TALKING_IDLE_TIMEOUT)


@pytest.mark.stages("concurrent")
def test_silent_client_is_dropped_while_a_talking_one_stays(start):
    server = start("0", env={"IDLE_TIMEOUT": str(TALKING_IDLE_TIMEOUT)})
    with server.client() as silent, server.client() as talker:
        keep_talking(server, talker, 1.5 * TALKING_IDLE_TIMEOUT)
        assert silent.wait_closed() == b""


@pytest.mark.stages("!once")
def test_client_that_never_reads_is_dropped_after_IDLE_TIMEOUT(start):
    """Its replies fill every buffer on the way, and the server's write
    waits: SO_SNDTIMEO ends that wait (v0.7 stops reading from it instead,
    and drops it as silent). The server stopped reading, so the bytes it
    has not read make its close a reset."""
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    request, _ = long_reply(server)
    with server.client() as hog:
        began = time.monotonic()
        taken = send_without_reading(hog, request)
        # The server reads on until its replies fill every buffer: a
        # busy machine makes that long (v0.5's 13-byte replies take some
        # 300,000 writes), so the wait counts from the last byte it took.
        wait_until(lambda: tcp_state(hog) != TCP_ESTABLISHED,
                   "the client that never reads dropped", progress=taken)
        assert time.monotonic() - began >= 0.9
    server.assert_serves()


def test_client_that_sends_a_lot_and_closes_without_reading_survives(server):
    """The server's replies then go to a closed connection: the kernel
    answers the first with a reset, and a write after the reset raises
    SIGPIPE, which kills a process that does not ignore it. A stage that
    serves one client at a time is kept busy with another meanwhile, so
    that these clients are surely gone before it writes a byte to them
    (else it may have written everything before they leave)."""
    request, reply = server.probe
    batch = request * (16384 // len(request))  # all of it fits in flight
    holder = server.client() if "serial" in server.features else None
    if holder is not None:
        holder.send(request)
        assert holder.recv_exactly(len(reply)) == reply  # it serves us now
    for _ in range(5):
        c = server.client()
        try:
            c.send(batch)
            c.shutdown_write()
        except OSError:
            pass  # the server hung up first (v0.1 does, after one read)
        c.close()
    if holder is not None:
        holder.close()
    server.assert_serves()
