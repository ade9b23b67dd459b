"""Exercise 3.2 (v0.3-threads): a cap on the number of threads.

The environment variable MAX_CLIENTS (a whole number from 1 to 100000,
default 64, written in digits only, as IDLE_TIMEOUT; anything else is a bad
argument, exit 2) caps how many clients
have a thread at once. A client that connects while MAX_CLIENTS others are
being served gets the line "error: server busy\\r\\n", and the server closes
its connection; the clients being served go on. Once one leaves, however
it leaves (it closes, it resets, IDLE_TIMEOUT drops it), the next client
is served again; a client turned away never had a place, and the cap
holds however clients come and go. IDLE_TIMEOUT keeps its own rules.
"""

import time

import pytest

from grading import assert_refused, connect, expect, fail, receive
from harness import TIMEOUT

BUSY = b"error: server busy\r\n"


def served(server, n):
    """n clients, each echoed once: each one surely has its thread."""
    clients = [server.client() for _ in range(n)]
    for i, c in enumerate(clients):
        expect(c, b"hello %d" % i, b"hello %d" % i,
               f"Client {i + 1} of {n}, all connected at once, is echoed "
               f"(the cap is not reached yet).")
    return clients


def test_three_clients_are_served_at_once_with_MAX_CLIENTS_3(start):
    server = start("0", env={"MAX_CLIENTS": "3"})
    clients = served(server, 3)
    for i, c in enumerate(clients):
        expect(c, b"again", b"again",
               "The three clients are served at the same time: each one is "
               "echoed again, in turn.")
        c.close()


def test_the_client_over_the_cap_is_told_server_busy_and_closed(start):
    server = start("0", env={"MAX_CLIENTS": "3"})
    clients = served(server, 3)
    with server.client() as fourth:
        expect(fourth, None, BUSY,
               "Three clients are being served and MAX_CLIENTS is 3: the "
               "fourth gets the line 'error: server busy' and its connection "
               "is closed, at once.", closes=True)
    for c in clients:
        expect(c, b"still here", b"still here",
               "The clients being served go on being echoed after the fourth "
               "was turned away.")
        c.close()


def served_soon(server, why):
    """A new client, served once a place is free: it may be told busy
    until the thread of a client that left has ended, but not for long.
    Returns it, still connected."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        c = connect(server, why)
        try:
            c.send(b"my turn")
        except OSError:
            pass  # turned away before it could send: try again
        got, _ = receive(c, b"my turn", closes=False)
        if got == b"my turn":
            return c
        c.close()
        if not BUSY.startswith(got) or time.monotonic() > deadline:
            fail(why, sent=b"my turn", expected=b"my turn", got=got,
                 tried=f"for {TIMEOUT:g} s")
        time.sleep(0.02)  # and try again, as harness.wait_until does


def test_a_place_frees_up_when_a_client_leaves(start):
    server = start("0", env={"MAX_CLIENTS": "3"})
    clients = served(server, 3)
    clients.pop().close()
    clients.append(served_soon(
        server, "One of the three clients has left: a new client is served "
        "again (it may be told busy until the thread of the one that left "
        "has ended, but not for long)."))
    with server.client() as fourth:
        expect(fourth, None, BUSY,
               "A place freed up and was taken again: three clients are "
               "being served, so the cap holds as before, and a fourth is "
               "told the server is busy. (A client that left is counted out "
               "once.)", closes=True)
    for c in clients:
        c.close()


def test_clients_turned_away_take_no_place(start):
    server = start("0", env={"MAX_CLIENTS": "2"})
    clients = served(server, 2)
    for i in range(5):
        with server.client() as turned_away:
            expect(turned_away, None, BUSY,
                   f"Two clients are being served and MAX_CLIENTS is 2: "
                   f"client {i + 3} is told the server is busy.", closes=True)
    clients.pop().close()
    clients.append(served_soon(
        server, "Two clients were served and five turned away; one of the two "
        "has left. Only clients being served count: the five turned away "
        "never had a place, so a new client is served again."))
    for c in clients:
        c.close()


def test_a_client_that_leaves_with_a_reset_frees_its_place(start):
    server = start("0", env={"MAX_CLIENTS": "1"})
    served(server, 1)[0].reset()
    served_soon(server, "MAX_CLIENTS is 1, and the client served has left "
                "with a reset (its read fails with ECONNRESET instead of "
                "returning 0): however a client leaves, its place is free "
                "again, and a new client is served.").close()


def test_a_client_dropped_by_IDLE_TIMEOUT_frees_its_place(start):
    server = start("0", env={"MAX_CLIENTS": "1", "IDLE_TIMEOUT": "1"})
    with served(server, 1)[0] as silent:
        expect(silent, None, b"", "A client silent for IDLE_TIMEOUT (1 s) is "
               "disconnected.", closes=True)
    served_soon(server, "MAX_CLIENTS is 1, and the client served was dropped "
                "after IDLE_TIMEOUT (its read fails with EAGAIN): its place "
                "is free again, and a new client is served.").close()


def test_without_MAX_CLIENTS_64_are_served_and_the_65th_is_busy(server):
    clients = served(server, 64)
    try:
        with server.client() as extra:
            expect(extra, None, BUSY,
                   "Without MAX_CLIENTS the cap is 64: 64 clients are being "
                   "served, so the 65th is told the server is busy.",
                   closes=True)
    finally:
        for c in clients:
            c.close()


def test_MAX_CLIENTS_1_serves_one_and_100000_is_allowed(start):
    server = start("0", env={"MAX_CLIENTS": "1"})
    first = served(server, 1)[0]
    with server.client() as second:
        expect(second, None, BUSY, "MAX_CLIENTS is 1 and one client is being "
               "served: the second is told the server is busy.", closes=True)
    first.close()
    start("0", env={"MAX_CLIENTS": "100000"}).assert_serves()


@pytest.mark.parametrize("value", [
    "0", "-1", "abc", "", "3x", "100001", "+3", " 3", "3 ", "0x10",
    "99999999999999999999",
], ids=repr)
def test_a_bad_MAX_CLIENTS_is_a_bad_argument(binary, value):
    assert_refused(binary, ["0"], {"MAX_CLIENTS": value}, 2,
                   "MAX_CLIENTS must be a whole number from 1 to 100000, "
                   "written in digits only (no sign, no space, no hex): "
                   "anything else is a bad argument, and the server exits 2 "
                   "without starting, as for a bad IDLE_TIMEOUT. atoi and "
                   "strtol alone take too much.")


@pytest.mark.parametrize("value", ["0", "2592001", "1x", ""], ids=repr)
def test_a_bad_IDLE_TIMEOUT_is_still_a_bad_argument(binary, value):
    assert_refused(binary, ["0"], {"IDLE_TIMEOUT": value}, 2,
                   "IDLE_TIMEOUT keeps its rules while MAX_CLIENTS joins it "
                   "(a whole number from 1 to 2592000, in digits only): "
                   "anything else is a bad argument, exit 2.")
