"""Exercise 7.5 (v0.7-select): the same loop, edge-triggered.

Everything 7.4 asks (its checks run here too, after these), with every
socket watched edge-triggered (EPOLLET) and non-blocking. Edge-triggered,
epoll reports a socket when bytes, room or connections come, and not again
for what the loop leaves: so every read, write and accept goes on until
EAGAIN, and what the loop stops early (reading, for the output bound;
accepting, out of descriptors) it must take up again without an event.
Each check here makes one of those waits for an event that never comes.
"""

import os
import signal
import socket
import time

import pytest

from grade_7_4 import drain, send_from_a_thread, send_until_blocked
from grading import check, expect, fail
from harness import TIMEOUT

EPOLLET = 1 << 31
O_NONBLOCK = 0o4000


def descriptors(pid):
    """{descriptor: what it is} for every open descriptor of the process:
    'socket:[N]', 'anon_inode:[eventpoll]', a path..."""
    found = {}
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            found[int(entry.name)] = os.readlink(entry.path)
        except OSError:  # closed meanwhile
            pass
    return found


def fdinfo(pid, fd):
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        return f.read()


def watched(pid):
    """{descriptor: the events it is watched for} in every epoll set the
    process holds, as its /proc/PID/fdinfo says (lines "tfd: 5 events:
    8000001d ...")."""
    found = {}
    for fd, what in descriptors(pid).items():
        if what == "anon_inode:[eventpoll]":
            for line in fdinfo(pid, fd).splitlines():
                words = line.split()
                if words[:1] == ["tfd:"] and words[2:3] == ["events:"]:
                    found[int(words[1])] = int(words[3], 16)
    return found


def test_every_socket_is_watched_edge_triggered_and_non_blocking(server):
    request, reply = server.probe
    with server.client() as a:
        expect(a, request, reply, "A request gets its reply.")
        b = server.client()
        expect(b, request, reply, "A request gets its reply.")
        sockets = {fd for fd, what in descriptors(server.pid).items()
                   if what.startswith("socket:")}
        events = watched(server.pid)
        check(sockets and sockets <= set(events),
              "Every socket the server holds (the listener and each client) "
              "is in its epoll set.",
              expected=f"the sockets {sorted(sockets)} in an epoll set",
              got=f"the set holds {sorted(events) or 'nothing'}")
        level = sorted(fd for fd in sockets if not events[fd] & EPOLLET)
        check(not level, "Exercise 7.5 is the edge-triggered loop: every "
              "socket is watched with EPOLLET (bit 31 of its events "
              "word in /proc/PID/fdinfo/N, N the epoll descriptor).",
              expected="EPOLLET on every socket",
              got=f"level-triggered: descriptors {level}, watched for "
              + ", ".join(f"{events[fd]:#x}" for fd in level))
        blocking = sorted(fd for fd in sockets if not int(
            fdinfo(server.pid, fd).split("flags:")[1].split()[0], 8)
            & O_NONBLOCK)
        check(not blocking, "Every socket is non-blocking (O_NONBLOCK): the "
              "last read, write or accept of each event is the one that "
              "fails with EAGAIN, and on a blocking socket it would wait "
              "instead, and the whole loop with it.",
              expected="O_NONBLOCK on every socket",
              got=f"descriptors {blocking} are blocking")
        b.close()


def test_a_client_that_waits_between_requests_is_kept(server):
    request, reply = server.probe
    with server.client() as c:
        for i in range(3):
            expect(c, request, reply,
                   f"A client that waits a moment after each reply is kept "
                   f"(request {i + 1} of 3): read() fails with EAGAIN when "
                   f"all that came has been read, which is how every read "
                   f"loop of an edge-triggered server ends, not an error.")
            time.sleep(0.2)  # the client's pace, not a wait for the server


def requests_of(size):
    """Requests of exactly size bytes in all (size >= 14), and their
    replies: the first one padded to fit."""
    count, pad = divmod(size, 14)  # len(b"GET/task_01/s\n") == 14
    requests = b"GET/task_01/" + b"s" * (1 + pad) + b"\n"
    requests += b"GET/task_01/s\n" * (count - 1)
    return requests, b"see someone\r\n" * count


@pytest.mark.parametrize("size", [1026, 5000, 100_000])
def test_requests_that_take_more_than_one_read_all_get_replies(server, size):
    """A read takes at most 1025 bytes here (line.c's buffer): 1026 bytes
    in one piece are two reads, and the second has no event of its own."""
    requests, replies = requests_of(size)
    with server.client() as c:
        expect(c, requests, replies,
               f"{len(replies) // 13} requests, {size} bytes, sent in one "
               f"piece: more than one read takes (line.c reads at most 1025 "
               f"bytes). Edge-triggered, epoll reports the socket once for "
               f"them all: read until read() fails with EAGAIN, or the "
               f"bytes left wait for ever, and the client with them.")


def test_a_request_over_1024_bytes_then_another_are_both_answered(server):
    request, reply = server.probe
    with server.client() as c:
        expect(c, b"GET/task_01/" + b"s" * 3000 + b"\n" + request,
               b"error: request longer than 1024 bytes\r\n" + reply,
               "A request of 3013 bytes then a short one, in one piece: the "
               "long one takes three reads, and gets its error; the short "
               "one after it gets its reply. Read until EAGAIN.")


@pytest.mark.parametrize("burst", [2, 50])
def test_connections_that_came_while_the_loop_was_stopped_are_all_served(
        server, burst):
    """While the server is stopped (SIGSTOP) the connections wait in the
    listener's backlog: when it goes on, epoll reports the listener once
    for them all."""
    request, reply = server.probe
    os.kill(server.pid, signal.SIGSTOP)
    try:
        clients = [server.client() for _ in range(burst)]
        for c in clients:
            c.send(request)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    try:
        for i, c in enumerate(clients):
            expect(c, None, reply,
                   f"{burst} clients connected while the server was stopped "
                   f"(SIGSTOP), then it went on (SIGCONT): client {i + 1} "
                   f"must be served. Edge-triggered, epoll reports the "
                   f"listener once for the whole burst: accept until "
                   f"accept() fails with EAGAIN, or the others wait in the "
                   f"backlog until some new client comes.")
    finally:
        for c in clients:
            c.close()


def test_requests_sent_past_the_output_bound_are_all_answered_once_read(server):
    """The loop stops reading a client whose replies do not fit: its
    requests wait in the socket. When the client reads, room comes, and
    the loop writes, then reads on."""
    request, reply = server.probe
    with server.client() as c:
        sent = send_until_blocked(c, request * 1000)
        rest = request[sent % len(request):] if sent % len(request) else b""
        sender = send_from_a_thread(c, rest)  # the last request made whole
        count = -(-sent // len(request))
        drain(c, reply * count,
              f"A client sent {count} requests without reading, until the "
              f"server stopped reading them (their replies did not fit), "
              f"then read: every request must be answered. Replies left "
              f"when a write fails with EAGAIN go when EPOLLOUT comes; the "
              f"requests waiting in the socket are read when the replies "
              f"fit again.")
        sender.join(TIMEOUT)


def test_a_client_that_reads_slowly_is_kept_and_served(server):
    """A write to a full socket fails with EAGAIN: the client is slow, not
    gone. Its replies wait for EPOLLOUT."""
    request, reply = server.probe
    n = 50_000
    with server.client() as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sender = send_from_a_thread(c, request * n)
        got = 0
        try:
            while got < len(reply) * n:
                chunk = c.sock.recv(1000)  # a little at a time
                if not chunk:
                    break
                got += len(chunk)
        except (socket.timeout, ConnectionResetError) as error:
            fail("A client that reads slowly is served at its pace.",
                 expected=f"{n} replies", got=f"{got // len(reply)} replies, "
                 f"then {error}")
        sender.join()
        check(got == len(reply) * n, "A client that sends many requests and "
              "reads its replies slowly is kept: a write that fails with "
              "EAGAIN means the socket is full, not that the client is "
              "gone. Wait for EPOLLOUT.",
              expected=f"{n} replies", got=f"{got // len(reply)} replies, then "
              "the connection closed")


# v0.7's and 7.4's checks, after this exercise's own: the first check that
# fails names the mistake.
from grade_7_4 import *  # noqa: E402,F401,F403
