"""Exercise 7.1 (v0.7-select): poll() in place of select().

The server serves every client it can hold a descriptor for: a connection
whose descriptor is past FD_SETSIZE (1024) is served like any other,
instead of being told `error: server full`. Everything else v0.7 promises
stays: one thread, no client can make the loop wait for it, what it holds
for a client stays bounded, and IDLE_TIMEOUT still disconnects a silent
client, and only a silent one, up to its largest value, 30 days (poll()
takes its timeout in milliseconds, as an int: 30 days of them do not fit).
"""

import resource
import time

from grading import expect, fail, outcome, receive
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
        clients[0].send(request)
        got, how = receive(clients[0], reply, closes=False)
        if how != "whole":
            fail("The first client is still served once all are connected.",
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
