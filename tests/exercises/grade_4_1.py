"""Exercise 4.1 (v0.4-todo): `exit` closes the connection, after the
replies owed before it.

A request line that is exactly `exit` (sent as `exit\\n` or `exit\\r\\n`)
gets no reply: the server sends every reply owed to the requests before
it, then closes the connection. Requests after it, even in the same piece,
get no reply. Any other line is a request as before. Exercise 7.2 asks the
same of the event loop, and is graded by these tests too.
"""

import socket

import pytest

from grading import expect, reply_line


def replies_owed(server, n):
    request, reply = server.probe
    return request * n, reply * n


@pytest.mark.parametrize("exit_", [b"exit\n", b"exit\r\n"], ids=repr)
def test_exit_closes_the_connection(server, exit_):
    request, reply = server.probe
    with server.client() as c:
        expect(c, request, reply, "A request gets its reply.")
        expect(c, exit_, b"",
               "The request line exit gets no reply: the server closes the "
               "connection.", closes=True)


def test_exit_as_the_first_request_closes_at_once(server):
    with server.client() as c:
        expect(c, b"exit\n", b"",
               "A client whose first request is exit is owed nothing: the "
               "server closes the connection.", closes=True)


def test_replies_owed_before_exit_are_sent_and_nothing_after_it(server):
    before, owed = replies_owed(server, 3)
    request, _ = server.probe
    with server.client() as c:
        expect(c, before + b"exit\n" + request + b"partial", owed,
               "Three requests, exit, one more request and a partial line, "
               "all in one piece: the three replies owed before exit are "
               "sent, then the connection closes; nothing after exit gets "
               "a reply.", closes=True)


def test_exit_that_arrives_in_pieces_still_counts(server):
    request, reply = server.probe
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        expect(c, request, reply, "A request gets its reply.")
        for piece in (b"e", b"x", b"it", b"\r"):
            c.send(piece)
        expect(c, b"\n", b"",
               "exit\\r\\n sent in pieces (b'e', b'x', b'it', b'\\r', b'\\n') "
               "is still the line exit: requests are lines, however their "
               "bytes arrive.", closes=True)


def test_exit_after_500_requests_waits_for_every_reply(server):
    before, owed = replies_owed(server, 500)
    with server.client() as c:
        expect(c, before + b"exit\n", owed,
               "500 requests then exit, in one piece: all 500 replies come, "
               "then the connection closes.", closes=True)


@pytest.mark.parametrize("line", [
    b"exit ", b" exit", b"EXIT", b"Exit", b"exited", b"exit/", b"GET/exit/s",
    b"ex", b"", b"exit\0",
], ids=repr)
def test_a_line_that_only_contains_exit_is_a_request(server, line):
    request, reply = server.probe
    with server.client() as c:
        reply_line(c, line, "Only the line exit, exactly, ends the session "
                   "(case counts; a line is its bytes, up to its '\\n', not a C "
                   "string): this line is a request and gets a reply.")
        expect(c, request, reply, "The connection still answers requests.")


def test_one_client_saying_exit_leaves_the_others_served(server):
    request, reply = server.probe
    with server.client() as stays, server.client() as leaves:
        expect(stays, request, reply, "A request gets its reply.")
        expect(leaves, b"exit\n", b"", "exit closes the connection.",
               closes=True)
        expect(stays, request, reply,
               "Another client's exit closes only that client's connection.")
    with server.client() as later:
        expect(later, request, reply, "A new client is served too.")
