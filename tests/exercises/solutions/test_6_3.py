"""Exercise 6.3, a reference test: clients that read and write the list at
the same time never see it half changed.

Graded on the ThreadSanitizer build, which stops the server at the first
two threads it sees touch the same memory with nothing to order them (the
harness then fails the test, showing the report). It counts a read from a
socket as ordered after every write to a socket before it, so a race shows
only when two threads really touch the list at the same moment. Here every
client waits at a barrier, then sends many requests at once, posts to a few
shared keys and reads of them, so that reads meet writes as well as writes
meet writes. The replies are checked too: a value is one that some client
posted, whole, or no value yet.
"""

import re
import threading

from harness import TIMEOUT, in_parallel

CLIENTS = 16
BATCHES = 40
PAIRS = 100  # a POST and a GET, PAIRS times in each send
KEYS = 4
WHOLE_VALUE = re.compile(rb"(c\d+b\d+p\d+|no key match)\r\n")


def batch(i, b):
    """Short requests: many of them come in each read of the server."""
    return b"".join(b"POST/k%d=c%db%dp%d/s\nGET/k%d/s\n"
                    % (p % KEYS, i, b, p, (p + 1) % KEYS) for p in range(PAIRS))


def post_and_get(server, i, start):
    """Client i posts to the shared keys and reads them; returns the GET
    replies that are neither a whole value nor `no key match`."""
    odd = []
    with server.client() as c:
        start.wait()
        for b in range(BATCHES):
            c.send(batch(i, b))
            for p in range(PAIRS):
                posted, got = c.line(), c.line()
                assert posted == b"submit success\r\n", (
                    f"client {i}, batch {b}, POST {p}: expected b'submit "
                    f"success\\r\\n', got {posted!r}")
                if not WHOLE_VALUE.fullmatch(got):
                    odd.append(got)
    return odd


def test_clients_posting_and_getting_at_once_see_only_whole_values(server):
    start = threading.Barrier(CLIENTS, timeout=TIMEOUT)
    odd = in_parallel(CLIENTS, lambda i: post_and_get(server, i, start))
    odd = [reply for replies in odd for reply in replies]
    assert not odd, (
        f"{CLIENTS} clients each posted {BATCHES * PAIRS} values to {KEYS} "
        f"shared keys and read them at the same time: expected every GET to "
        f"get a whole value or b'no key match\\r\\n', got {len(odd)} others, "
        f"such as {odd[:3]}")
