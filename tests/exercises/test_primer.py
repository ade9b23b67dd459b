"""The example of the primer on pytest and the harness in TEACHING.md: two
tests of an echo server that loops (v0.2-loop, v0.3-threads), written as
the "write a test" exercises ask. make test runs them with the other
socket tests; by hand:

    make build/gcc/v0.2-loop/server
    /usr/bin/python3 -m pytest -v tests/exercises/test_primer.py --stage v0.2-loop --bin-dir build/gcc

The mark below keeps them to the stages that echo in a loop, when pytest
runs every stage. A test in mine/N.M/ needs none: its grade runs it on its
exercise's stage only.
"""

import pytest

pytestmark = pytest.mark.stages("echo", "loop")


def test_two_lines_come_back_in_the_order_they_were_sent(server):
    with server.client() as c:
        c.send(b"hello\n")
        first = c.line()
        c.send(b"world\n")
        second = c.line()
    assert (first, second) == (b"hello\n", b"world\n"), (
        f"sent b'hello\\n' then b'world\\n': got {first!r} then {second!r}")


def test_a_client_that_resets_its_connection_leaves_the_server_serving(server):
    with server.client() as c:
        c.send(b"hello\n")
        c.line()
        c.reset()
    server.assert_serves()
