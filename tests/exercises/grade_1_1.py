"""Exercise 1.1 (v0.1-blocking): greet each client before the echo.

The server sends "Welcome to 10086\\r\\n" as soon as a client connects,
then reads once (at most 1024 bytes), echoes what came and closes, as v0.1
always did; IDLE_TIMEOUT still disconnects a silent client. A client that
left before its greeting could be sent costs the server nothing.
"""

from grading import connect, expect
from harness import limit_descriptors

GREETING = b"Welcome to 10086\r\n"


def test_a_client_is_greeted_as_soon_as_it_connects_then_echoed_once(server):
    with server.client() as c:
        expect(c, None, GREETING,
               "A client that has connected and sent nothing yet must get "
               "the greeting.")
        expect(c, b"hello", b"hello",
               "After the greeting, what the client sends comes back once, "
               "then the server closes the connection, as v0.1 does.",
               closes=True)


def test_a_message_sent_before_the_greeting_arrives_is_echoed_after_it(server):
    with server.client() as c:
        expect(c, b"early", GREETING + b"early",
               "A client may speak before it has read the greeting: it gets "
               "the greeting, then its echo, then the connection closes.",
               closes=True)


def test_every_client_is_greeted(server):
    for i in range(3):
        with server.client() as c:
            message = b"client %d" % i
            expect(c, message, GREETING + message,
                   f"Client {i + 1} of 3, one after the other: each one is "
                   f"greeted, not only the first.", closes=True)


def test_a_full_read_of_1024_bytes_comes_back_whole(server):
    message = bytes(range(256)) * 4
    with server.client() as c:
        expect(c, message, GREETING + message,
               "v0.1 reads at most 1024 bytes, once: 1024 bytes (every byte "
               "value, NUL too) sent at once come back whole after the "
               "greeting, then the connection closes.", closes=True)


def test_a_message_of_1025_bytes_comes_back_cut_to_1024(server):
    message = b"a" * 1024 + b"b"
    with server.client() as c:
        expect(c, None, GREETING, "A client is greeted first.")
        expect(c, message, message[:1024],
               "v0.1 reads once, at most 1024 bytes: of 1025 bytes sent at "
               "once, the first 1024 come back, then the connection closes "
               "(the byte left unread makes that close a reset).",
               closes=True)


LEAVERS = 40
DESCRIPTORS = 32


def test_clients_that_leave_before_their_greeting_cost_the_server_nothing(start):
    server = start("0", preexec_fn=limit_descriptors(DESCRIPTORS))
    with server.client() as busy:
        expect(busy, None, GREETING, "A client is greeted first.")
        for _ in range(LEAVERS):  # they wait in the backlog, then reset
            server.client().reset()
        expect(busy, b"hello", b"hello", "The first client is echoed.",
               closes=True)
    why = (f"{LEAVERS} clients connected while the server was busy with "
           f"another, then left (a reset) before it could greet them: the "
           f"greeting fails for each of them, and the server must still "
           f"close each connection and go on. It runs with "
           f"{DESCRIPTORS} descriptors here: a connection left open on a "
           f"failed write leaves none for the next client.")
    with connect(server, why) as after:
        expect(after, b"after", GREETING + b"after", why, closes=True)


def test_a_silent_client_is_greeted_then_dropped_after_IDLE_TIMEOUT(start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    with server.client() as c:
        expect(c, None, GREETING,
               "IDLE_TIMEOUT still holds: a client that sends nothing is "
               "greeted, then disconnected once it has been silent for "
               "IDLE_TIMEOUT seconds (1 here).", closes=True)
