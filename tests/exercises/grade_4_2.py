"""Exercise 4.2 (v0.4-todo): answer a browser with a minimal HTTP/1.0
response.

The first line of a connection decides what it speaks. If it is an HTTP
request line for GET, `GET <target> HTTP/1.0` or `... HTTP/1.1` (single
spaces, a target of one byte or more without spaces, any target, up to
the longest line v0.4 keeps), the server reads the header lines that
follow up to the empty line that ends them (a header too long to keep
is still a header; lines end in \\r\\n or \\n), then sends

    HTTP/1.0 200 OK\\r\\n
    Content-Type: text/plain; charset=utf-8\\r\\n
    Content-Length: <length of the body>\\r\\n
    \\r\\n
    <the list line, its \\r\\n included>

and closes the connection. Any other first line: the todo protocol, as
before.
"""

import http.client
import socket

import pytest

from grading import check, expect, fail, outcome, receive, receive_line, show
from harness import LIST_REPLY, TIMEOUT, in_parallel

STATUS = b"HTTP/1.0 200 OK\r\n"

BROWSER_REQUEST = (
    b"GET /todo HTTP/1.1\r\n"
    b"Host: 127.0.0.1:9000\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Firefox/115.0\r\n"
    b"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
)


def response(client, sent, why):
    """Reads a whole response: checks its status line, headers and body,
    and that the connection then closes."""
    got, how = receive(client, STATUS, closes=False)
    if how != "whole":
        fail(why, sent=sent, expected=f"a response that starts {show(STATUS)}",
             got=outcome(got, how, STATUS))
    headers = {}
    while True:
        line, how = receive_line(client)
        if how != "whole":
            fail(why, sent=sent, expected="header lines, then an empty line",
                 got=f"after {len(headers)} headers: {outcome(line, how)}")
        if line == b"\r\n":
            break
        name, colon, value = line.decode(errors="replace").partition(":")
        check(colon and line.endswith(b"\r\n"), why, sent=sent,
              expected="header lines 'Name: value\\r\\n'", got=line)
        headers[name.strip().lower()] = value.strip()
    kind = headers.get("content-type", "")
    check(kind == "text/plain; charset=utf-8", why, sent=sent,
          expected="a header 'Content-Type: text/plain; charset=utf-8'",
          got=f"Content-Type: {kind!r}" if kind else "no Content-Type header")
    length = headers.get("content-length")
    check(length == str(len(LIST_REPLY)), why, sent=sent,
          expected=f"a header 'Content-Length: {len(LIST_REPLY)}' (the "
                   f"length of the body, the list line and its \\r\\n)",
          got=f"Content-Length: {length!r}" if length else "no Content-Length header")
    expect(client, None, LIST_REPLY,
           why + " The body is the list line, then the connection closes.",
           closes=True)


def test_a_minimal_http_1_0_request_gets_the_list(server):
    request = b"GET / HTTP/1.0\r\n\r\n"
    with server.client() as c:
        c.send(request)
        response(c, request, "A request line for GET and the empty line that "
                 "ends the (here no) headers get an HTTP/1.0 response.")


def test_a_browsers_request_with_headers_gets_the_list(server):
    with server.client() as c:
        c.send(BROWSER_REQUEST)
        response(c, BROWSER_REQUEST, "A browser's HTTP/1.1 request and its "
                 "headers get one HTTP/1.0 response, whatever the target.")


def no_response_before_the_empty_line(server, head, why):
    """Sends head, the request line and headers, checks that nothing comes
    for a while, then sends the empty line and checks the response."""
    with server.client() as c:
        c.send(head)
        if not c.nothing_within(0.5):
            fail(why, sent=head, expected="nothing yet", got=bytes(c.pending))
        c.send(b"\r\n")
        response(c, head + b"\r\n", "The empty line has come: now the "
                 "response comes.")


def test_the_response_waits_for_the_empty_line_after_the_headers(server):
    no_response_before_the_empty_line(
        server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "The request line and the headers get no reply of their own: the "
        "response comes once the empty line has ended the headers (the "
        "server must read the whole request before it answers and closes).")


def test_a_header_over_1024_bytes_does_not_end_the_headers(server):
    no_response_before_the_empty_line(
        server, b"GET / HTTP/1.1\r\nCookie: " + b"c" * 2000 + b"\r\n"
        b"Host: 127.0.0.1\r\n",
        "A header longer than the 1024 bytes a line may have is too long to "
        "keep, but it is still a header, not the empty line that ends them: "
        "no response yet. (The line reader gives a line too long with its "
        "length 0: its too_long says what it is.)")


def test_lines_ended_by_a_bare_newline_work_too(server):
    request = b"GET / HTTP/1.0\nHost: 127.0.0.1\n\n"
    with server.client() as c:
        c.send(request)
        response(c, request, "A line ends with \\n, with or without a \\r "
                 "before it, as every v0.4 line does: nc sends a bare \\n. "
                 "The empty line that ends the headers is then b'\\n'.")


def test_a_request_that_arrives_byte_by_byte_gets_the_list(server):
    with server.client() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(BROWSER_REQUEST)):
            c.send(BROWSER_REQUEST[i:i + 1])
        response(c, BROWSER_REQUEST, "An HTTP request is lines too, however "
                 "its bytes arrive (here one at a time).")


def test_pythons_http_client_reads_the_list(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        reply = conn.getresponse()
        got = (reply.status, reply.read())
    except (http.client.HTTPException, OSError) as error:
        got = error
    finally:
        conn.close()
    check(got == (200, LIST_REPLY),
          "Python's http.client, as a browser would, sends GET / HTTP/1.1: it "
          "must read status 200 and the list line as the body.",
          expected=f"200 and {show(LIST_REPLY)}",
          got=f"{got[0]} and {show(got[1])}" if isinstance(got, tuple) else repr(got))


def test_20_browsers_at_once_each_get_the_list(server):
    def browse(i):
        with server.client() as c:
            c.send(BROWSER_REQUEST)
            response(c, BROWSER_REQUEST, "20 browsers ask at once: each one "
                     "gets the response.")

    in_parallel(20, browse)


# The longest line v0.4 keeps is 1024 bytes, its \r counted: a request line
# sent with \r\n may have 1023 bytes.
LONGEST_TARGET = b"/" + b"t" * (1023 - len(b"GET / HTTP/1.1"))


@pytest.mark.parametrize("target", [
    b"*", b"http://127.0.0.1:9000/todo?a=1&b=%20#top", LONGEST_TARGET,
], ids=lambda t: repr(t) if len(t) < 50 else f"{len(t)} bytes")
def test_any_target_makes_an_http_request(server, target):
    request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with server.client() as c:
        c.send(request)
        response(c, request, "Any target without spaces makes an HTTP "
                 "request line, the longest a line may be too (1023 bytes "
                 "and its \\r\\n): the target is not used, and needs no "
                 "copy.")


# First lines that are not an HTTP request line for GET.
NOT_HTTP = [
    b"anything", b"GET/task_01/status", b"GET / HTTP/2.0", b"GET /  HTTP/1.0",
    b"get / HTTP/1.0", b"GET / HTTP/1.0 more", b"GET HTTP/1.0", b"",
    b"GET  HTTP/1.0", b"GET / HTTP/1.2", b"GET / HTTP/1.", b"GET / HTTP/1.10",
    b"GET / HTTP/1.0 ", b" GET / HTTP/1.0", b"GET\t/\tHTTP/1.0",
    b"GET  / HTTP/1.0", b"POST / HTTP/1.0", b"GET / http/1.0",
    b"GET / HTTP/1.0\0", b"GET " + LONGEST_TARGET + b"t HTTP/1.1",
]


def test_a_first_line_that_is_not_an_http_get_is_a_todo_request(server):
    for first in NOT_HTTP:  # one server, a connection for each line
        with server.client() as c:
            expect(c, first + b"\r\n", LIST_REPLY,
                   "Only 'GET <target> HTTP/1.0' or 'HTTP/1.1', with single "
                   "spaces and a target of at least one byte, makes a "
                   "connection HTTP: any other first line (a line too long "
                   "for v0.4 too) is a todo request and gets the list line, "
                   "as v0.4 does.")
            expect(c, b"GET / HTTP/1.0\r\n", LIST_REPLY,
                   "Only the first line decides: later in a todo session, an "
                   "HTTP request line is one more todo request.")
