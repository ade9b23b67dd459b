"""Exercise 5.1 (v0.5-get): `COUNT/<status>`, how many tasks the list holds.

`COUNT/<status>`, with exactly one '/' (the status may be empty and is not
used), gets the number of tasks in the list, in decimal: `3` at start.
`COUNT` in any other shape gets a line that starts with `error: ` and
names the form, `COUNT/<status>`. Methods are case-sensitive. A COUNT
over 1024 bytes, or with a NUL byte, gets the error any request gets.
"""

import pytest

from grading import ask, check_limits, expect, expect_error

WHY = "COUNT/<status> gets the number of tasks in the list: 3 at start."


@pytest.mark.parametrize("request_", [b"COUNT/", b"COUNT/status",
                                      b"COUNT/any status at all"], ids=repr)
def test_count_gets_the_number_of_tasks(server, request_):
    with server.client() as c:
        ask(c, request_, b"3\r\n", WHY)


@pytest.mark.parametrize("request_", [b"COUNT", b"COUNT/a/b", b"COUNT//"],
                         ids=repr)
def test_count_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"COUNT/<status>",
                     "COUNT needs exactly one '/': any other shape gets an "
                     "error that names the form.")
        ask(c, b"COUNT/s", b"3\r\n", "The connection still answers COUNT.")


def test_count_is_case_sensitive_and_get_still_works(server):
    with server.client() as c:
        ask(c, b"count/s", b"data no found\r\n",
            "Methods are case-sensitive: count is not COUNT.")
        ask(c, b"COUNTS/s", b"data no found\r\n",
            "The method is the whole text before the first '/': COUNTS is "
            "not COUNT.")
        ask(c, b"GET/task_02/s", b"read book\r\n", "GET works as before.")


def test_count_answers_in_order_among_other_requests(server):
    with server.client() as c:
        expect(c, b"GET/task_01/s\nCOUNT/s\nnope\nCOUNT/\n",
               b"see someone\r\n3\r\ndata no found\r\n3\r\n",
               "Four requests in one piece get four replies, in order.")


def test_count_obeys_the_limits_every_request_has(server):
    check_limits(server, b"COUNT")
