"""Exercise 8.2 (v0.8-fork): `WHO/<status>`, the PID of the process serving
this connection.

`WHO/<status>` (exactly one '/'; the status may be empty and is not used)
gets the process id of the process that serves this connection, in
decimal: in v0.8, the child forked for this client. WHO in any other shape
gets an error that names `WHO/<status>`; a WHO over 1024 bytes, or with a
NUL byte, gets the error any request gets.
"""

import pytest

from grading import ask, check, check_limits, expect_error, reply_line
from harness import children, wait_until

WHY = ("WHO/<status> gets the PID, in decimal, of the process that serves "
       "this connection: the child the server forked for it.")


def who(client):
    """Asks WHO/ and returns the PID in the reply, checked to be a number."""
    line = reply_line(client, b"WHO/s", WHY)
    check(line.endswith(b"\r\n") and line[:-2].isdigit(), WHY,
          sent=b"WHO/s\n", expected="a number, then \\r\\n", got=line)
    return int(line[:-2])


def test_who_gets_the_pid_of_the_child_serving_this_connection(server):
    with server.client() as c:
        pid = who(c)
        live = {p for p, state in children(server.pid).items() if state != "Z"}
        check(pid in live, WHY, sent=b"WHO/s\n",
              expected=f"the PID of one of the server's children {sorted(live)} "
                       f"(the server itself is {server.pid})",
              got=str(pid))


def test_each_connection_has_its_own_pid_and_keeps_it(server):
    with server.client() as a, server.client() as b:
        first = who(a)
        check(who(a) == first, "Asked twice on one connection, WHO gets the "
              "same PID: one child serves the connection from start to end.",
              sent=b"WHO/s\n", expected=str(first), got="another PID")
        other = who(b)
        check(other != first, "Two connections are served by two children: "
              "WHO gets two different PIDs.", sent="WHO/s on each connection",
              expected="two PIDs", got=f"{first} twice")


def test_the_child_is_gone_once_its_client_leaves(server):
    with server.client() as c:
        pid = who(c)
    wait_until(lambda: pid not in children(server.pid),
               f"gone: the child {pid} whose client left (reaped, no zombie)")


@pytest.mark.parametrize("request_", [b"WHO", b"WHO/a/b", b"WHO//"], ids=repr)
def test_who_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"WHO/<status>",
                     "WHO needs exactly one '/': any other shape gets an "
                     "error that names the form.")


def test_who_is_case_sensitive_and_get_still_works(server):
    with server.client() as c:
        ask(c, b"who/s", b"data no found\r\n",
            "Methods are case-sensitive: who is not WHO.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "GET works as before.")


def test_who_obeys_the_limits_every_request_has(server):
    check_limits(server, b"WHO")
