"""Exercise 1.2 (v0.1-blocking): a UDP echo server.

`server [PORT [ADDRESS]]` binds a UDP socket, prints `listening on
ADDRESS:PORT` (its UDP port), and sends every datagram back to its sender:
at most 1024 bytes of it, the rest of a longer one being lost; an empty
datagram too. The command line and IDLE_TIMEOUT are checked as before, but
IDLE_TIMEOUT disconnects no one; SIGINT and SIGTERM stop it with exit
status 0.
"""

import select
import signal
import socket
import time

import pytest

from grading import assert_refused, check, fail
from harness import TIMEOUT, describe_status


class UdpClient(socket.socket):
    """A UDP socket connected to the server: it takes datagrams from the
    server's address only, and hears of an ICMP "port unreachable"."""

    def __init__(self, server, host):
        super().__init__(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_DGRAM)
        self.server = server
        self.settimeout(TIMEOUT)
        self.connect((host, server.port))


def udp_client(server, host="127.0.0.1"):
    return UdpClient(server, host)


def ended(server):
    return f"the server has ended ({describe_status(server.proc.returncode)})"


def reply(sock):
    """The next datagram, or what went wrong instead, in words. A server
    that ends while the client waits is reported at once."""
    deadline = time.monotonic() + TIMEOUT
    while not select.select([sock], [], [], 0.1)[0]:
        if not sock.server.alive():
            return f"no datagram: {ended(sock.server)}"
        if time.monotonic() > deadline:
            return f"no datagram within {TIMEOUT:g} s"
    try:
        return sock.recv(1 << 16)
    except ConnectionRefusedError:
        if not sock.server.alive():
            return f"'connection refused': {ended(sock.server)}"
        return ("'connection refused': no UDP socket is bound to that port "
                "(a SOCK_STREAM socket never receives datagrams)")


def datagram(sock, sent, expected, why):
    """Sends one datagram and checks the one that comes back."""
    try:
        sock.send(sent)
    except ConnectionRefusedError:
        pass  # an earlier datagram was refused: reply() says it again
    got = reply(sock)
    if got != expected:
        fail(why, sent=sent, expected=expected, got=got)


def test_a_datagram_comes_back_to_its_sender(server):
    with udp_client(server) as c:
        datagram(c, b"ping", b"ping",
                 f"A datagram sent to the port the server named "
                 f"({server.line.decode().strip()}) comes back, unchanged, "
                 f"to the socket that sent it.")


def test_1024_bytes_of_any_value_come_back_in_one_datagram(server):
    data = (b"\0 NUL bytes too, " * 64)[:1024]
    with udp_client(server) as c:
        datagram(c, data, data,
                 "A datagram of 1024 bytes, NUL bytes included, comes back "
                 "whole: one datagram, every byte as it was.")


def test_an_empty_datagram_comes_back_empty_and_the_server_goes_on(server):
    with udp_client(server) as c:
        datagram(c, b"", b"",
                 "A datagram may be empty: recvfrom returns 0 for it, which "
                 "is not the end of anything (UDP has no connection to "
                 "close). It comes back as an empty datagram.")
        datagram(c, b"after", b"after",
                 "After an empty datagram the server goes on: the next "
                 "datagram comes back.")


@pytest.mark.parametrize("size", [1025, 2000])
def test_a_datagram_over_1024_bytes_comes_back_cut_to_1024(server, size):
    data = b"a" * 1024 + b"b" * (size - 1024)
    with udp_client(server) as c:
        datagram(c, data, data[:1024],
                 f"The server reads a datagram into 1024 bytes: of {size} "
                 f"bytes, what does not fit is lost, and only the first 1024 "
                 f"bytes come back.")
        datagram(c, b"next", b"next",
                 "The rest of a cut datagram is not kept for the next read "
                 "(as a TCP stream would): the next datagram comes back as "
                 "it was.")


def test_each_client_gets_its_own_datagrams_back(server):
    with udp_client(server) as a, udp_client(server) as b:
        for i in range(5):
            for name, sock in (("a", a), ("b", b)):
                message = b"from %s, number %d" % (name.encode(), i)
                datagram(sock, message, message,
                         "Two clients take turns: each datagram goes back to "
                         "the address it came from, not to the last client "
                         "or the first.")


def test_100_datagrams_sent_at_once_all_come_back_in_order(server):
    sent = [b"datagram %d" % i for i in range(100)]
    with udp_client(server) as c:
        datagram(c, b"first", b"first", "A datagram comes back to its sender.")
        for message in sent:
            c.send(message)
        for message in sent:
            got = reply(c)
            if got != message:
                fail("100 datagrams sent in a row come back in the order "
                     "they were sent (on one machine none is lost).",
                     sent=message, expected=message, got=got)


def test_ipv6_works_too(start):
    server = start("0", "::1")
    line = f"listening on [::1]:{server.port}\n".encode()
    check(server.line == line, "Started as `server 0 ::1`, the server names "
          "its address as the TCP stages do, the IPv6 one in brackets.",
          ran="server 0 ::1", expected=line, got=server.line)
    with udp_client(server, "::1") as c:
        datagram(c, b"over IPv6", b"over IPv6",
                 "Started as `server 0 ::1`, the server echoes datagrams sent "
                 "to [::1]:PORT, as the TCP stages serve IPv6.")


def test_a_silent_spell_longer_than_IDLE_TIMEOUT_stops_nothing(start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    with udp_client(server) as c:
        datagram(c, b"before", b"before", "A datagram comes back.")
        time.sleep(1.5)  # the client's own silence, longer than IDLE_TIMEOUT
        datagram(c, b"after", b"after",
                 "IDLE_TIMEOUT is checked but has no one to disconnect: after "
                 "1.5 s without a datagram (IDLE_TIMEOUT is 1), the server "
                 "still echoes. A receive timeout on the socket would make "
                 "recvfrom fail with EAGAIN: a pause, not an end.")


@pytest.mark.parametrize("args,env", [
    (["65536"], None), (["0", "localhost"], None), (["0", "127.0.0.1", "x"], None),
    (["0"], {"IDLE_TIMEOUT": "0"}), (["0"], {"IDLE_TIMEOUT": "2592001"}),
], ids=lambda value: repr(value) if value else "")
def test_the_command_line_and_IDLE_TIMEOUT_are_checked_as_before(binary, args, env):
    assert_refused(binary, args, env, 2,
                   "UDP changes the socket, not the command line: a bad PORT, "
                   "an ADDRESS that is not a numeric address, an argument too "
                   "many, or a bad IDLE_TIMEOUT (it is still read and checked) "
                   "is a bad argument, exit 2.")


def test_sigint_stops_it_with_exit_status_0(start):
    server = start("0")
    status = server.stop(signal.SIGINT)
    check(status == 0, "SIGINT (Ctrl-C) stops the server with exit status 0, "
          "as SIGTERM does.", sent="SIGINT", expected="exit status 0",
          got=describe_status(status))
