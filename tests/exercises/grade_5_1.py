"""Exercise 5.1 (v0.5-get): `COUNT/<status>`, how many tasks the list holds.

`COUNT/<status>`, with exactly one '/' (the status may be empty and is not
used), gets the number of tasks in the list, in decimal: `3`, since v0.5's
list cannot change. `COUNT` in any other shape gets a line that starts
with `error: ` and names the form, `COUNT/<status>`. A method is the whole
text before the first '/', compared whole and case-sensitive. A COUNT over
1024 bytes, or with a NUL byte, gets the error any request gets; one of
1024 bytes is answered.
"""

import socket

import pytest

from grading import ask, check_limits, expect, expect_error

WHY = "COUNT/<status> gets the number of tasks in the list: 3 in v0.5."


@pytest.mark.parametrize("request_", [b"COUNT/", b"COUNT/status",
                                      b"COUNT/any status at all", b"COUNT/s\r"],
                         ids=repr)
def test_count_gets_the_number_of_tasks(server, request_):
    with server.client() as c:
        ask(c, request_, b"3\r\n", WHY + " The status may be empty, hold "
            "anything but '/', and the line may end in \\r\\n.")


@pytest.mark.parametrize("request_", [b"COUNT", b"COUNT/a/b", b"COUNT//",
                                      b"COUNT/a/"], ids=repr)
def test_count_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"COUNT/<status>",
                     "COUNT needs exactly one '/': any other shape gets an "
                     "error that names the form.")
        ask(c, b"COUNT/s", b"3\r\n", "The connection still answers COUNT.")


@pytest.mark.parametrize("request_", [
    b"COUN/s", b"C/s", b"/s", b"count/s", b"Count/s", b"COUNTS/s", b"COUNTS",
    b" COUNT/s",
], ids=repr)
def test_a_method_is_the_whole_text_before_the_first_slash(server, request_):
    with server.client() as c:
        ask(c, request_, b"data no found\r\n",
            "A method is the whole text before the first '/' (all of the "
            "line if it has none), compared whole and case-sensitive: this "
            "one is not COUNT, but a method the server does not know.")
        ask(c, b"GET/task_02/s", b"read book\r\n", "GET works as before.")


def test_count_answers_in_order_among_other_requests(server):
    with server.client() as c:
        expect(c, b"GET/task_01/s\nCOUNT/s\nnope\nCOUNT/\n",
               b"see someone\r\n3\r\ndata no found\r\n3\r\n",
               "Four requests in one piece get four replies, in order.")


def test_a_count_that_arrives_in_pieces_is_answered(server):
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (b"CO", b"UNT", b"/s"):
            c.send(piece)
        expect(c, b"\n", b"3\r\n",
               "COUNT/s\\n sent in pieces (b'CO', b'UNT', b'/s', b'\\n') is "
               "still one request: requests are lines, however their bytes "
               "arrive.")


def test_count_obeys_the_limits_every_request_has(server):
    check_limits(server, b"COUNT/", b"3\r\n")
