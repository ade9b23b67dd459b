"""Exercise 7.2 (v0.7-select): `exit` in the event loop.

What exercise 4.1 asks, in v0.7's select() loop: the request line `exit`
gets no reply; the server sends every reply owed before it, then closes
the connection; nothing after it gets a reply. The close is graceful: the
server stops writing (shutdown), reads and drops whatever the client still
sends, and closes once the client has closed its side, or IDLE_TIMEOUT
after its exit: the client gets every reply owed, then the end of the
stream, never a reset, however much it sent after exit. The loop must not
block on that client meanwhile: other clients are served while its replies
drain, and while it lingers.
"""

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
from harness import TIMEOUT

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


def test_what_comes_after_exit_is_read_and_dropped(server):
    request, reply = server.probe
    after = request * (16 * 1024 * 1024 // len(request))  # 16 MiB
    sent = f"{OWED} x {show(request)}, b'exit\\n', then 16 MiB of requests"
    with server.client() as c:
        finished = sending(c, request * OWED + b"exit\n" + after)
        got, how = read_to_the_end(c)
        send_failed = finished()
    check_every_reply(got, how, reply, "After exit, the client still sends "
                      "more than every buffer between it and the server "
                      "holds: it is owed every reply before exit, then the "
                      "end of the stream.", sent=sent)
    if send_failed:
        fail("What the client sends after exit is read and dropped, until it "
             "closes its side: a client that sends all its requests before it "
             "reads a reply must not be left waiting, nor reset.", sent=sent,
             expected="every byte sent", got=send_failed)


def test_a_client_that_keeps_sending_after_exit_is_closed_after_IDLE_TIMEOUT(
        start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    request, reply = server.probe
    with server.client() as lingering, server.client() as other:
        expect(lingering, b"exit\n", b"", "exit gets no reply, then the end "
               "of the stream.", closes=True)
        began = time.monotonic()
        try:
            while time.monotonic() - began < TIMEOUT:
                lingering.send(request)  # never closing its side
                expect(other, request, reply, "While a client lingers after "
                       "exit, sending on, the loop serves the others.")
                time.sleep(0.1)  # the lingering client's pace
        except OSError:
            return  # the server closed it: the send met the reset
    fail("After exit, the server reads and drops what the client sends for "
         "IDLE_TIMEOUT at most, then closes, even if the client never closes "
         "its side: a client that sends for ever must not keep its "
         "connection for ever.", sent=b"exit\n, then a request every 0.1 s",
         expected="the connection closed about 1 s after exit (IDLE_TIMEOUT=1)",
         got=f"still open after {TIMEOUT:g} s")


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
