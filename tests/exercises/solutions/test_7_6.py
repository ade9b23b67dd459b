"""Exercise 7.6, a reference test: requests sent in one piece, far more
than one read takes, all get their replies.

An edge-triggered loop hears of a client's bytes once, when they come. If
it then reads less than all of them (one read, a few, or until a request
is whole), the rest wait in the socket for an event that never comes,
unless the client sends again. So this client sends a great many requests
at once, then only waits for the replies. Each request is long and its
reply short: the server's writes never fill the socket, and no room that
comes back (EPOLLOUT) wakes the loop either. How much one read takes is
the server's business: the requests here outnumber any buffer it could
reasonably read into.
"""

import socket

from harness import TIMEOUT

REQUEST = b"GET/task_02/" + b"s" * 500 + b"\n"  # a long status, not used
REPLY = b"read book\r\n"
COUNT = 200  # 103 KB of requests, 2.2 KB of replies: the sockets hold them


def replies(client, count):
    """Reads replies until count have come, or nothing comes for TIMEOUT
    seconds, or the connection ends; returns what came."""
    got = b""
    while len(got) < count * len(REPLY):
        try:
            chunk = client.sock.recv(1 << 16)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    return got


def test_many_requests_sent_in_one_piece_all_get_their_replies(server):
    with server.client() as c:
        c.send(REQUEST * COUNT)
        got = replies(c, COUNT)
    whole = got == REPLY * COUNT
    assert whole, (
        f"sent {COUNT} requests of {len(REQUEST)} bytes in one piece, then "
        f"waited: expected {COUNT} replies {REPLY!r}; got "
        f"{got.count(REPLY)} replies ({len(got)} bytes), then nothing for "
        f"{TIMEOUT:g} s")

