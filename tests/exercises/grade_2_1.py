"""Exercise 2.1 (v0.2-loop): `exit` ends the session.

A chunk that is exactly `exit`, `exit\\n` or `exit\\r\\n` is not echoed: the
server closes the connection and goes on to the next client. Every other
chunk is echoed as before.
"""

import pytest

from grading import expect

EXITS = [b"exit", b"exit\n", b"exit\r\n"]


@pytest.mark.parametrize("exit_", EXITS, ids=repr)
def test_exit_closes_the_connection_without_an_echo(server, exit_):
    with server.client() as c:
        expect(c, b"hello\n", b"hello\n", "A chunk that is not exit is echoed.")
        expect(c, exit_, b"",
               "A chunk that says exit (alone, or with the \\n or \\r\\n nc "
               "and telnet send) is not echoed: the server closes the "
               "connection.", closes=True)


@pytest.mark.parametrize("chunk", [
    b"exit now\n", b"exited\n", b"EXIT\n", b"Exit\n", b" exit\n", b"no exit\n",
], ids=repr)
def test_anything_else_is_still_echoed(server, chunk):
    with server.client() as c:
        expect(c, chunk, chunk,
               "Only a chunk that is exactly exit ends the session (case "
               "counts): any other chunk is echoed, as before.")
        expect(c, b"still here\n", b"still here\n",
               "The connection stays open after it.")


def test_the_next_client_is_served_once_the_first_says_exit(server):
    with server.client() as first, server.client() as second:
        expect(first, b"a", b"a", "The first client is echoed.")
        second.send(b"b")  # waits in the backlog: v0.2 serves one at a time
        expect(first, b"exit", b"",
               "The first client says exit: its connection closes.",
               closes=True)
        expect(second, None, b"b",
               "Once the first client has said exit, the server takes the "
               "client that waited in the backlog and echoes what it sent.")
