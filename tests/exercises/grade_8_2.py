"""Exercise 8.2 (v0.8-fork): `WHO/<status>`, the PID of the process serving
this connection.

`WHO/<status>` (exactly one '/'; the status may be empty and is not used)
gets the process id of the process that serves this connection, in
decimal: in v0.8, the child forked for this client. WHO in any other shape
gets an error that names `WHO/<status>`. A method is the whole text before
the first '/', compared whole and case-sensitive. A WHO over 1024 bytes, or
with a NUL byte, gets the error any request gets; one of 1024 bytes is
answered.
"""

import pytest

from grading import ask, check, check_limits, expect, expect_error, reply_line
from harness import children, wait_until

WHY = ("WHO/<status> gets the PID, in decimal, of the process that serves "
       "this connection: the child the server forked for it.")


def who(client, request=b"WHO/s", why=WHY):
    """Sends a WHO and returns the PID in the reply, checked to be a
    number."""
    line = reply_line(client, request, why)
    check(line.endswith(b"\r\n") and line[:-2].isdigit(), why,
          sent=request + b"\n", expected="a number, then \\r\\n", got=line)
    return int(line[:-2])


def test_who_gets_the_pid_of_the_child_serving_this_connection(server):
    with server.client() as c:
        pid = who(c)
        live = {p for p, state in children(server.pid).items() if state != "Z"}
        check(pid in live, WHY, sent=b"WHO/s\n",
              expected=f"the PID of one of the server's children {sorted(live)} "
                       f"(the server itself is {server.pid})",
              got=str(pid))


@pytest.mark.parametrize("request_", [b"WHO/", b"WHO/any status at all",
                                      b"WHO/s\r"], ids=repr)
def test_the_status_may_be_anything_but_a_slash(server, request_):
    with server.client() as c:
        first = who(c)
        check(who(c, request_, WHY + " The status may be empty, hold "
                  "anything but '/', and the line may end in \\r\\n.") == first,
              "WHO gets the same PID whatever its status.", sent=request_ + b"\n",
              expected=str(first), got="another PID")


def test_who_answers_in_order_among_other_requests(server):
    with server.client() as c:
        pid = who(c)
        expect(c, b"GET/task_01/s\nWHO/\nnope\nWHO/s\n",
               b"see someone\r\n%d\r\ndata no found\r\n%d\r\n" % (pid, pid),
               "Four requests in one piece get four replies, in order.")


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


@pytest.mark.parametrize("request_", [b"WHO", b"WHO/a/b", b"WHO//",
                                      b"WHO/a/"], ids=repr)
def test_who_in_a_wrong_shape_gets_an_error_naming_the_form(server, request_):
    with server.client() as c:
        expect_error(c, request_, b"WHO/<status>",
                     "WHO needs exactly one '/': any other shape gets an "
                     "error that names the form.")
        who(c, why="The connection still answers WHO after the error.")


@pytest.mark.parametrize("request_", [b"who/s", b"Who/s", b"WHOM/s", b"WH/s",
                                      b"/s", b"WHOS"], ids=repr)
def test_a_method_is_the_whole_text_before_the_first_slash(server, request_):
    with server.client() as c:
        ask(c, request_, b"data no found\r\n",
            "A method is the whole text before the first '/' (all of the "
            "line if it has none), compared whole and case-sensitive: this "
            "one is not WHO, but a method the server does not know.")
        ask(c, b"GET/task_01/s", b"see someone\r\n", "GET works as before.")


def test_who_obeys_the_limits_every_request_has(server):
    check_limits(server, b"WHO/", lambda c, request, why: who(c, request, why))
