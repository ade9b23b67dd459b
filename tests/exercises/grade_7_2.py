"""Exercise 7.2 (v0.7-select): `exit` in the event loop.

What exercise 4.1 asks, in v0.7's select() loop: the request line `exit`
gets no reply; the server sends every reply owed before it, then closes
the connection; nothing after it gets a reply. The close is graceful: the
server stops writing (shutdown), reads and drops whatever the client still
sends, and closes once the client has closed its side, or after a few
seconds (one at least): the client gets every reply owed, then the end of
the stream, never a reset, however much it sent after exit. The loop must
not block on that client meanwhile: other clients are served while its
replies drain, and while it lingers.
"""

import socket
import threading
import time

from grade_4_1 import (  # noqa: F401  (4.1's tests, run on this stage)
    test_a_line_that_only_contains_exit_is_a_request,
    test_exit_after_500_requests_waits_for_every_reply,
    test_exit_as_the_first_request_closes_at_once,
    test_exit_closes_the_connection,
    test_exit_that_arrives_in_pieces_still_counts,
    test_one_client_saying_exit_leaves_the_others_served,
    test_replies_owed_before_exit_are_sent_and_nothing_after_it,
)
from grading import expect, fail, more, show
from harness import TIMEOUT, Client

OWED = 2000  # requests before exit: replies owed


def read_to_the_end(client):
    """Everything the connection brings until it ends: (bytes, "closed",
    "reset" or "silent")."""
    got = bytearray()
    deadline = time.monotonic() + TIMEOUT
    while True:
        chunk = more(client, deadline)
        if isinstance(chunk, str):
            return bytes(got), chunk
        got += chunk
        deadline = time.monotonic() + TIMEOUT


def sending(client, data):
    """Sends data from a thread of its own; returns a function that waits
    for it (TIMEOUT at most) and says how it went: None if every byte
    went, else what stopped it."""
    outcome = []

    def send():
        try:
            client.sock.sendall(data)
            outcome.append(None)
        except OSError as error:
            outcome.append(f"the send failed: {error}")

    thread = threading.Thread(target=send, daemon=True)
    thread.start()

    def finished():
        thread.join(TIMEOUT)
        return outcome[0] if outcome else \
            f"the send still waited after {TIMEOUT:g} s: the server reads nothing"
    return finished


def check_every_reply(got, how, reply, why, sent):
    whole = got == reply * OWED and how == "closed"
    if not whole:
        count = len(got) // len(reply)
        right = got[:count * len(reply)] == reply * count
        fail(why, sent=sent,
             expected=f"{OWED} replies {show(reply)}, then the end of the "
             f"stream (the server's FIN)",
             got=(f"{count} replies" if right else f"{show(got)}") + {
                 "closed": ", then the end of the stream",
                 "reset": ", then a reset (ECONNRESET): the server closed "
                          "with bytes from the client unread",
                 "silent": f", then nothing for {TIMEOUT:g} s"}[how])


def test_every_reply_owed_before_exit_comes_then_the_end_not_a_reset(server):
    request, reply = server.probe
    sent = request * OWED + b"exit\n" + request * 5000
    with server.client() as c:
        finished = sending(c, sent)
        got, how = read_to_the_end(c)
        finished()
    check_every_reply(
        got, how, reply, "The client sent, in one piece, 2000 requests, exit, "
        "then 5000 more. It is owed 2000 replies, then the end. A close() "
        "while the 5000 are unread sends a reset instead of the end, and a "
        "reset throws away the replies not yet delivered: send what is "
        "owed, shutdown(SHUT_WR), then read and drop what comes until the "
        "client closes its side.",
        sent=f"{OWED} x {show(request)}, b'exit\\n', 5000 x {show(request)}")


class SmallSendBufferClient(Client):
    """A client whose send buffer is set small before it connects, so that
    the kernel cannot grow it: what the server does not read waits, and
    makes the sending wait."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.pending = bytearray()


def test_what_comes_after_exit_is_read_and_dropped(server):
    request, reply = server.probe
    # 2 MiB: more than the server's receive buffer and this client's send
    # buffer hold together, so that only a server that reads takes it all.
    after = request * ((2 << 20) // len(request))
    sent = f"{OWED} x {show(request)}, b'exit\\n', then 2 MiB of requests"
    with SmallSendBufferClient(server.port) as c:
        finished = sending(c, request * OWED + b"exit\n" + after)
        got, how = read_to_the_end(c)
        send_failed = finished()
    check_every_reply(got, how, reply, "After exit, the client still sends "
                      "more than the buffers between it and the server "
                      "hold: it is owed every reply before exit, then the "
                      "end of the stream.", sent=sent)
    if send_failed:
        fail("What the client sends after exit is read and dropped, until it "
             "closes its side (for a few seconds at most): a client that "
             "sends all its requests before it reads must not be left "
             "waiting, nor reset, while it sends.", sent=sent,
             expected="every byte sent", got=send_failed)


def sending_for_ever(client, request):
    """Sends requests again and again from a thread until a send fails;
    returns the thread, whose .failure says what stopped it."""
    def send():
        try:
            while True:
                client.sock.sendall(request * 100)
        except OSError as error:
            sender.failure = error

    sender = threading.Thread(target=send, daemon=True)
    sender.failure = None
    sender.start()
    return sender


def test_after_exit_the_server_reads_for_a_while_then_cuts_off_a_client_that_goes_on(
        server):
    request, reply = server.probe
    sent = "b'exit\\n', then requests without end"
    with server.client() as lingering, server.client() as other:
        lingering.send(b"exit\n")
        sender = sending_for_ever(lingering, request)
        expect(lingering, None, b"", "exit gets no reply: the server stops "
               "writing at once (shutdown), and the client reads the end of "
               "the stream, while it goes on sending.", closes=True)
        began = time.monotonic()
        sender.join(0.5)  # the client's own sending, for half a second
        if sender.failure is not None:
            fail("After exit the server still reads and drops what the "
                 "client sends, for a few seconds (one at least): here the "
                 "sending was cut off at once, as by a close instead of a "
                 "shutdown.", sent=sent, expected="the sending going on for "
                 "0.5 s at least", got=f"the send failed within "
                 f"{time.monotonic() - began:.1f} s: {sender.failure}")
        expect(other, request, reply, "While a client lingers after exit, "
               "sending on, the loop serves the others.")
        sender.join(TIMEOUT)
        if sender.failure is None:
            lingering.sock.shutdown(socket.SHUT_RDWR)  # ends the sending
            fail("After exit, the server reads and drops what the client "
                 "still sends for a few seconds at most, then closes: a "
                 "client that sends for ever must not keep its connection "
                 "for ever (nor IDLE_TIMEOUT hold it: it is never silent).",
                 sent=sent, expected=f"the sending cut off within {TIMEOUT:g} s",
                 got=f"still sending after {TIMEOUT:g} s")


def test_others_are_served_while_a_slow_reader_is_owed_replies(server):
    request, reply = server.probe
    n = 20000
    with server.client() as slow, server.client() as other:
        sender = threading.Thread(target=slow.send,
                                  args=(request * n + b"exit\n",))
        sender.start()  # the server soon stops reading: slow does not read
        try:
            for _ in range(20):
                expect(other, request, reply,
                       "A client that sent many requests and exit, and does "
                       "not read its replies yet, delays no one: the loop "
                       "keeps serving the others.")
        finally:
            expect(slow, None, reply * n,
                   f"The slow client reads at last: every one of the {n} "
                   f"replies owed before its exit comes, then the connection "
                   f"closes.", closes=True)
            sender.join()
