"""Exercise 3.1 (v0.3-threads): count each connection's messages in
thread-local storage.

The n-th message of a connection comes back as "n: " followed by the
message: "1: hello", "2: world"... Each connection counts from 1, whatever
the others do. A message is what one read brings (v0.3 has no framing), so
a client sends one message and waits for its echo before the next. Any
bytes, NUL too, up to a full read of 1024, come back as they were sent.
"""

import threading

from grading import expect
from harness import in_parallel

WHY_OWN = ("Each connection counts its own messages: the counter lives in "
           "its thread's storage (_Thread_local), not in one global that every "
           "thread shares.")


def numbered(n, message):
    return b"%d: %s" % (n, message)


def test_each_message_comes_back_after_its_number(server):
    with server.client() as c:
        for n, message in enumerate([b"hello\n", b"world\n", b"again\n"], 1):
            expect(c, message, numbered(n, message),
                   f"Message {n} of a connection comes back as "
                   f"'{n}: ' followed by the message.")
        for n in range(4, 13):
            expect(c, b"more\n", numbered(n, b"more\n"),
                   f"Message {n} of a connection comes back as '{n}: ' "
                   f"followed by the message: a number of two digits too.")


def test_nul_bytes_and_a_full_read_of_1024_bytes_come_back_whole(server):
    with server.client() as c:
        for n, message in enumerate([b"a\0b\0\n", bytes(range(256)) * 4], 1):
            expect(c, message, numbered(n, message),
                   "A message is bytes, not a C string: NUL bytes come back "
                   "too, and so does a full read of 1024 bytes, after its "
                   "number (format the number, then copy the bytes).")


def test_message_10_of_1024_bytes_the_longest_reply_comes_back_whole(server):
    full = bytes(range(256)) * 4
    with server.client() as c:
        for n in range(1, 10):
            expect(c, b"x", numbered(n, b"x"), f"Message {n} comes back numbered.")
        expect(c, full, numbered(10, full),
               "Message 10 is a full read of 1024 bytes: its reply, "
               "'10: ' and the 1024 bytes, is 1028 bytes long. Leave room "
               "for the longest number, not for one digit.")


def test_two_connections_that_take_turns_count_separately(server):
    with server.client() as a, server.client() as b:
        for n in range(1, 4):
            for name, c in (("a", a), ("b", b)):
                message = b"from %s\n" % name.encode()
                expect(c, message, numbered(n, message),
                       f"Clients a and b take turns; this is message {n} of "
                       f"client {name}. " + WHY_OWN)


def test_a_new_connection_counts_from_1(server):
    for i in range(3):
        with server.client() as c:
            for n in (1, 2):
                expect(c, b"x\n", numbered(n, b"x\n"),
                       f"Connection {i + 1}, one after the other: each one "
                       f"counts from 1, even when it gets the descriptor "
                       f"number of the one before.")
            c.shutdown_write()
            expect(c, None, b"", "A client that closes its side is closed.",
                   closes=True)  # so its descriptor is free for the next


def test_20_clients_at_once_each_count_their_own_10_messages(server):
    start = threading.Barrier(20)

    def talk(i):
        with server.client() as c:
            start.wait()
            for n in range(1, 11):
                message = b"client %d\n" % i
                expect(c, message, numbered(n, message),
                       "20 clients talk at once. " + WHY_OWN)

    in_parallel(20, talk)
