"""Exercise 4.3, a reference test: requests are lines, whatever the reads
bring.

TCP delivers a stream of bytes: one read may bring several requests, or a
piece of one. A server that takes what a read brings for one request
misses the first case (several requests, one reply) or the second (a
request in pieces, one reply per piece), or both. Each test here makes one
case happen, then closes its side: the server then sends every reply it
owes and closes, so the test counts the replies without waiting for one
that may never come.
"""

import socket
import time

from harness import LIST_REPLY

REQUEST = b"anything\n"  # v0.4 answers every line with the whole list


def assert_replies(got, n, what):
    """got is n list replies, then the close."""
    count = got.count(LIST_REPLY)
    whole = got == LIST_REPLY * count
    assert (count, whole) == (n, True), (
        f"{what}, then closed our side: expected {n} replies, then the close; "
        f"got {count}" + ("" if whole else f" and other bytes: {got[:200]!r}"))


def test_requests_sent_in_one_piece_get_one_reply_each(server):
    with server.client() as c:
        c.send(REQUEST * 20)
        c.shutdown_write()
        got = c.wait_closed()
    assert_replies(got, 20, "sent 20 requests in one send")


def test_a_request_sent_in_pieces_gets_one_reply(server):
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(REQUEST)):
            c.send(REQUEST[i:i + 1])
            time.sleep(0.05)  # the client's pace: one byte at a time
        c.shutdown_write()
        got = c.wait_closed()
    assert_replies(got, 1, "sent one request a byte at a time")
