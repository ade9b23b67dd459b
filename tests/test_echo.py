"""The echo stages, v0.1 to v0.3: what each serves, and what it cannot.

The limitations are tests too: v0.1 answers one message per connection,
v0.2 serves one client at a time.
"""

import os
import threading

import pytest

from harness import in_parallel

pytestmark = pytest.mark.stages("echo")


def echo(client, data):
    """Sends data while reading the echo back (so neither side's buffers
    fill up and block the other) and returns what came back."""
    sender = threading.Thread(target=client.send, args=(data,))
    sender.start()
    try:
        return client.recv_exactly(len(data))
    finally:
        sender.join()


def test_echoes_one_byte(server):
    with server.client() as c:
        c.send(b"x")
        assert c.recv_exactly(1) == b"x"


def test_echoes_1024_bytes(server):
    data = os.urandom(1024)
    with server.client() as c:
        c.send(data)
        assert c.recv_exactly(1024) == data


@pytest.mark.stages("once")
def test_closes_after_one_echo(server):
    with server.client() as c:
        c.send(b"first")
        assert c.wait_closed() == b"first"


@pytest.mark.stages("once")
def test_second_message_on_a_connection_is_never_answered(server):
    with server.client() as c:
        c.send(b"first")
        assert c.recv_exactly(5) == b"first"
        try:
            c.send(b"second")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server has closed, as it should
        assert b"second" not in c.wait_closed()


@pytest.mark.stages("loop")
def test_echoes_every_message_until_the_client_leaves(server):
    with server.client() as c:
        for i in range(100):
            message = b"message %d\n" % i
            c.send(message)
            assert c.recv_exactly(len(message)) == message


@pytest.mark.stages("loop")
def test_echoes_1_mib_with_every_byte_back_in_order(server):
    data = os.urandom(1 << 20)
    with server.client() as c:
        assert echo(c, data) == data


@pytest.mark.stages("loop")
def test_stays_open_after_the_client_half_closes_until_the_echo_is_sent(server):
    with server.client() as c:
        c.send(b"last words")
        c.shutdown_write()
        assert c.wait_closed() == b"last words"


@pytest.mark.stages("serial")
def test_second_client_gets_nothing_until_the_first_leaves(server):
    first = server.client()
    first.send(b"a")
    assert first.recv_exactly(1) == b"a"
    with server.client() as second:  # connects: the kernel's backlog takes it
        second.send(b"b")
        first.send(b"still me")  # the server is busy with the first client
        assert first.recv_exactly(8) == b"still me"
        assert second.nothing_within(0.5)
        first.close()
        assert second.recv_exactly(1) == b"b"  # now it is served


@pytest.mark.stages("concurrent")
def test_second_client_is_served_while_the_first_stays(server):
    with server.client() as first, server.client() as second:
        first.send(b"a")
        assert first.recv_exactly(1) == b"a"
        second.send(b"b")
        assert second.recv_exactly(1) == b"b"
        first.send(b"c")
        assert first.recv_exactly(1) == b"c"


@pytest.mark.stages("concurrent")
def test_50_clients_at_once_are_all_echoed(server):
    clients = [server.client() for _ in range(50)]
    try:
        def talk(i):
            message = b"client %d says hello\n" % i
            clients[i].send(message)
            assert clients[i].recv_exactly(len(message)) == message
        # Every client is connected before any is answered: a server that
        # took them one at a time would stall on the second.
        in_parallel(50, talk)
    finally:
        for c in clients:
            c.close()
