"""Exercise 2.1 (v0.2-loop): `exit` ends the session.

A chunk (what one read brings) that is exactly `exit`, `exit\\n` or
`exit\\r\\n` is not echoed: the server closes the connection and goes on to
the next client. Every other chunk is echoed as before, even one that only
differs by a byte (`exit `, `exit\\r`, `exit\\n\\n`, `exit\\0`, `exi`) or holds
exit among other lines.
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
    b"exit ", b"exit \n", b"exit\t\n", b"exit\r", b"exit\n\n", b"exit\r\n\r\n",
    b"exit\0", b"exit\0\n", b"e", b"exi", b"exit\nexit\n", b"hello\nexit\n",
], ids=repr)
def test_anything_else_is_still_echoed(server, chunk):
    with server.client() as c:
        expect(c, chunk, chunk,
               "Only a chunk that is exactly exit, exit\\n or exit\\r\\n "
               "ends the session: any other chunk is echoed, as before. Case "
               "counts, and so does every byte: a blank, a second line end, "
               "a NUL byte or a missing letter makes another chunk, and exit "
               "with other lines in the same read is just bytes.")
        expect(c, b"still here\n", b"still here\n",
               "The connection stays open after it.")


def test_exit_split_across_two_reads_is_two_chunks_echoed(server):
    with server.client() as c:
        expect(c, b"ex", b"ex", "A chunk that is not exit is echoed.")
        expect(c, b"it\n", b"it\n",
               "A chunk is what one read brings: exit sent as b'ex', then "
               "(once its echo has come) b'it\\n', is two chunks, neither "
               "of them exit, both echoed.")


def test_a_full_read_of_1024_bytes_is_echoed_whole(server):
    chunk = bytes(range(256)) * 4
    with server.client() as c:
        expect(c, chunk, chunk,
               "A read of 1024 bytes, the whole buffer, NUL bytes included, "
               "is not exit: it comes back whole. A chunk is bytes, not a C "
               "string: there is no room for a '\\0' after a full read.")
        expect(c, b"exit\n", b"", "exit still ends the session after it.",
               closes=True)


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
