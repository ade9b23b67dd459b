"""Exercise 4.1 (v0.4-todo): `exit` closes the connection, after the
replies owed before it.

A request line that is exactly `exit` (sent as `exit\\n` or `exit\\r\\n`)
gets no reply: the server sends every reply owed to the requests before
it, then closes the connection gracefully: it stops writing, reads and
drops what the client still sends for a few seconds at most, then closes,
so that requests after exit (none of which gets a reply) cost no reply
owed before it. Any other line is a request as before. Exercise 7.2 asks
the same of the event loop, and is graded by these tests too.
"""

import socket
import threading

import pytest

from grading import expect, fail, outcome, receive, reply_line
from harness import TIMEOUT, Client


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


OWED = 2000
AFTER = 1 << 20  # bytes of requests after exit: 8 times a receive buffer
                 # as Linux first sizes it (tcp_rmem: 128 KiB)


class SmallWindowClient(Client):
    """A client with a small receive buffer, set before it connects: what
    it has not read yet waits on the server's side."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.pending = bytearray()


def send_in_background(client, data, again=False):
    """Starts sending data from a thread (again: over and over, until a
    send fails); returns the thread, whose .failure is what made the
    sending fail, if anything did."""
    def send():
        try:
            client.send(data)
            while again:
                client.send(data)
        except OSError as error:
            sender.failure = error

    sender = threading.Thread(target=send, daemon=True)
    sender.failure = None
    sender.start()
    return sender


def test_every_reply_owed_comes_though_more_requests_follow_exit(server):
    request, reply = server.probe
    after = request * (AFTER // len(request))
    with SmallWindowClient(server.port) as c:
        sender = send_in_background(c, request * OWED + b"exit\n" + after)
        sender.join(TIMEOUT)  # the client reads late: once all is sent
        got, how = receive(c, reply * OWED, closes=True)
        sender.join(TIMEOUT)
    if got != reply * OWED or how != "closed":
        whole = 0
        while got.startswith(reply, whole * len(reply)):
            whole += 1
        rest = got[whole * len(reply):]
        failed = (f"; the sending of the requests after exit failed: "
                  f"{sender.failure}" if sender.failure else "")
        fail(f"{OWED} requests, exit, then {AFTER >> 20} MiB of requests "
             f"(more than a socket's buffer holds), sent in one piece by a "
             f"client that reads only once all is sent: "
             f"every reply owed before exit must come, then the end of the "
             f"stream. A close() with requests still unread sends a reset, "
             f"and the reset destroys the replies not yet delivered: after "
             f"the replies, stop writing (shutdown), read and drop what the "
             f"client still sends until it closes its side (for a few "
             f"seconds at most), then close.",
             sent=f"{request!r} x {OWED}, b'exit\\n', then {len(after)} "
                  f"bytes of requests",
             expected=f"{OWED} replies ({OWED * len(reply)} bytes), then "
                      f"the end of the stream",
             got=f"{whole} replies ({whole * len(reply)} bytes), then "
                 f"{outcome(rest, how)}{failed}")


FLOOD = "b'exit\\n', then requests without end, read as they come"


def exit_then_flood(c, request):
    """Sends exit, then requests without end from a thread, and reads what
    comes until the end of the stream; returns the sending thread."""
    c.send(b"exit\n")
    sender = send_in_background(c, request * 1000, again=True)
    got, how = receive(c, b"", closes=True)
    if got or how != "closed":
        c.sock.shutdown(socket.SHUT_RDWR)  # ends the sending thread
        fail("exit gets no reply: after it the server stops writing "
             "(shutdown), and the client reads the end of the stream, even "
             "while it goes on sending. A close() with requests unread "
             "sends a reset instead.", sent=FLOOD,
             expected="no reply, then the end of the stream",
             got=outcome(got, how))
    return sender


def cut_off(sender):
    return isinstance(sender.failure, (ConnectionError, BrokenPipeError))


def test_after_exit_the_server_still_reads_for_a_while(server):
    request, _ = server.probe
    with server.client() as c:
        sender = exit_then_flood(c, request)
        sender.join(0.5)  # the client's own sending, for half a second
        if cut_off(sender):
            fail("After exit the server stops writing at once (shutdown): "
                 "the client reads the end of the stream while the server "
                 "still reads and drops what it sends, for a few seconds "
                 "(one at least). Here the sending was cut off as soon as "
                 "the end of the stream came: the server closed instead of "
                 "stopping to write first.", sent=FLOOD,
                 expected="the end of the stream, then the sending going on "
                          "for 0.5 s at least",
                 got=f"the end of the stream, then the sending cut off "
                     f"within 0.5 s: {sender.failure}")
        c.sock.shutdown(socket.SHUT_RDWR)  # ends the sending thread


def test_a_client_that_goes_on_sending_after_exit_is_cut_off(server):
    request, _ = server.probe
    with server.client() as c:
        sender = exit_then_flood(c, request)
        sender.join(TIMEOUT)
        if not cut_off(sender):
            c.sock.shutdown(socket.SHUT_RDWR)  # ends the sending thread
            fail("After exit, the server reads and drops what the client "
                 "still sends, but for a few seconds at most: then it "
                 "closes, and what the client goes on sending meets a "
                 "reset. A client that never stops sending must not keep "
                 "its thread for ever.", sent=FLOOD,
                 expected=f"the sending cut off within {TIMEOUT:g} s",
                 got=f"still sending after {TIMEOUT:g} s" if sender.failure
                 is None or isinstance(sender.failure, socket.timeout) else
                 f"the sending failed: {sender.failure}")


# Lines next to exit: each one is a request. b"exit\r\r" is sent as
# b"exit\r\r\n": the line is exit and a \r, only one \r being its line end.
NOT_EXIT = [b"exit ", b" exit", b"EXIT", b"Exit", b"exited", b"exit/",
            b"GET/exit/s", b"ex", b"", b"exit\0", b"exit\r\r", b"exit\t",
            b"\rexit"]


def test_a_line_that_only_contains_exit_is_a_request(server):
    request, reply = server.probe
    for line in NOT_EXIT:  # one server, a connection for each line
        with server.client() as c:
            reply_line(c, line, "Only the line exit, exactly, ends the "
                       "session (case counts; a line is its bytes up to its "
                       "'\\n', less one '\\r' before it, not a C string): "
                       "this line is a request and gets a reply.")
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
