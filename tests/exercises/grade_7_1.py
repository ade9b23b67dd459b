"""Exercise 7.1 (v0.7-select): poll() in place of select().

The server serves every client it can hold a descriptor for: a connection
whose descriptor is past FD_SETSIZE (1024) is served like any other,
instead of being told `error: server full`, and 1100 clients ready at the
same moment are all served. Everything else v0.7 promises stays: one
thread, no client can make the loop wait for it, what it holds for a
client stays bounded, and IDLE_TIMEOUT still disconnects a silent client,
on time even when nothing else wakes the loop (poll() counts
milliseconds), and only a silent one, up to its largest value, 30 days
(poll() takes its timeout as an int: 30 days of milliseconds do not fit).
The loop sleeps when there is nothing to do: after clients left with a
reset (POLLHUP and POLLERR come with POLLIN), and while out of descriptors
(the listener left out of the list while accepting is paused).
"""

import resource
import time

from grading import busiest, check, expect, fail, outcome, receive
from harness import limit_descriptors
from test_robustness import (  # noqa: F401  (v0.7's promises, kept)
    test_silent_client_is_dropped_while_a_talking_one_stays,
)
from test_select import (  # noqa: F401
    test_memory_for_a_client_that_never_reads_stays_bounded,
    test_one_process_with_one_thread_serves_100_clients,
    test_stalled_and_never_reading_clients_delay_no_one,
)

CLIENTS = 1100


def test_1100_clients_at_once_are_all_served(start):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2400:
        fail(f"This check needs {CLIENTS} connections, so a limit of at least "
             f"2400 open files; this shell's hard limit is {hard}. Raise it "
             f"(as root: ulimit -Hn 4096, or in /etc/security/limits.conf) "
             f"and grade again.")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def room_for_all():
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))

    server = start("0", preexec_fn=room_for_all)
    request, reply = server.probe
    clients = []
    try:
        for i in range(CLIENTS):
            clients.append(server.client())
            clients[-1].send(request)
            got, how = receive(clients[-1], reply, closes=False)
            if how != "whole":
                fail(f"Client {i + 1} of {CLIENTS}, all connected at once, "
                     f"must be served: with poll() or epoll, no FD_SETSIZE "
                     f"limits the descriptors the loop can watch (this "
                     f"client's is about {i + 4} on the server).",
                     sent=request, expected=reply,
                     got=outcome(got, how, reply))
        for c in clients:  # every one of them ready at once
            c.send(request)
        for i, c in enumerate(clients):
            got, how = receive(c, reply, closes=False)
            if how != "whole":
                fail(f"All {CLIENTS} clients send a request at once: client "
                     f"{i + 1} is answered too. poll() says which of them "
                     f"are ready: act on every entry it returns.",
                     sent=request, expected=reply, got=outcome(got, how, reply))
    finally:
        for c in clients:
            c.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    server.assert_serves()


def test_with_a_30_day_IDLE_TIMEOUT_no_client_is_dropped_early(start):
    server = start("0", env={"IDLE_TIMEOUT": "2592000"})
    request, reply = server.probe
    why = ("IDLE_TIMEOUT=2592000 is 30 days: no client may be dropped now. In "
           "milliseconds that is 2592000000, more than an int holds (at most "
           "2147483647): compute it in a long long, and give poll() at most "
           "INT_MAX.")
    with server.client() as idle, server.client() as talking:
        for _ in range(5):
            expect(talking, request, reply, "A client that talks is kept. " + why)
            time.sleep(0.2)  # the client's pace, not a wait for the server
        expect(idle, request, reply, "A client silent for a second is kept. " + why)


def test_a_silent_client_alone_is_dropped_after_IDLE_TIMEOUT(start):
    server = start("0", env={"IDLE_TIMEOUT": "1"})
    with server.client() as silent:
        began = time.monotonic()
        got, how = receive(silent, b"", closes=True)
        took = time.monotonic() - began
    check(how in ("closed", "reset") and took >= 0.9,
          "With IDLE_TIMEOUT=1 and nothing else happening, a client that "
          "sends nothing is dropped after a second, not before: poll() must "
          "wake up when its time is up. Its timeout is in milliseconds.",
          sent="nothing", expected="the connection closed after 1 s",
          got=outcome(got, how) if how not in ("closed", "reset") else
          f"the connection closed after {took:.1f} s")


def test_clients_that_reset_leave_the_loop_asleep(server):
    request, reply = server.probe
    for _ in range(10):
        c = server.client()
        expect(c, request, reply, "A request gets its reply.")
        c.reset()
    share, _ = busiest([server.pid])
    check(share < 0.5, "Ten clients left with a reset (RST): poll() reports "
          "POLLHUP and POLLERR for them, besides what was asked (test "
          "revents with &, not ==). The read that follows meets the reset, "
          "and the client is dropped; then the loop sleeps.",
          sent="a request, then a reset, from 10 clients",
          expected="the server asleep most of the time",
          got=f"running in {share:.0%} of 1 s")
    server.assert_serves()


def test_out_of_descriptors_the_loop_does_not_spin(start):
    server = start("0", preexec_fn=limit_descriptors(64))
    request, reply = server.probe
    clients = [server.client() for _ in range(64 + 16)]
    try:
        share, _ = busiest([server.pid])
        check(share < 0.5, "With 64 descriptors and 80 clients, accept fails "
              "(EMFILE) for as long as one waits: v0.7 pauses accepting for "
              "100 ms after that, and poll() must not watch the listener "
              "meanwhile (an entry whose fd is -1 is skipped), or it wakes "
              "up at once, again and again.",
              sent="80 connections", expected="the server asleep most of the time",
              got=f"running in {share:.0%} of 1 s")
        expect(clients[0], request, reply, "The clients it holds are served.")
    finally:
        for c in clients:
            c.close()
    server.assert_serves()
