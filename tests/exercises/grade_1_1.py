"""Exercise 1.1 (v0.1-blocking): greet each client before the echo.

The server sends "Welcome to 10086\\r\\n" as soon as a client connects,
then reads once (at most 1024 bytes), echoes what came and closes, as v0.1
always did; IDLE_TIMEOUT still disconnects a silent client.
"""

from grading import expect

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


def test_a_silent_client_is_greeted_then_dropped_after_IDLE_TIMEOUT(start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    with server.client() as c:
        expect(c, None, GREETING,
               "IDLE_TIMEOUT still holds: a client that sends nothing is "
               "greeted, then disconnected once it has been silent for "
               "IDLE_TIMEOUT seconds (1 here).", closes=True)
