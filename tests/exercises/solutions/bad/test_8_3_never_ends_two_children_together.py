"""A test of exercise 8.3 that its grade must refuse: it never makes two
children end together.

It stops one child and lets it go on (each a SIGCHLD with no child to
reap), checks that the server still serves, then lets its clients leave
one at a time, each child reaped before the next ends. It catches a
reaper that blocks in wait() on such a SIGCHLD, and one that reaps only
when a client comes: the two buggy builds a grade once had. It misses
the bug the exercise names: a reaper that reaps one child per SIGCHLD,
without blocking, leaves zombies only when children end together.

What its grade must say:
    catches wait-reaper
    catches reap-only-when-a-client-comes
    misses once-per-signal-reaper
"""

import os
import signal

from harness import children, wait_until
from test_fork import served_clients  # n clients, each with its child


def test_a_stopped_child_holds_no_one_up_and_every_child_is_reaped(server):
    clients = served_clients(server, 2)
    first = min(children(server.pid))
    os.kill(first, signal.SIGSTOP)
    wait_until(lambda: children(server.pid).get(first) == "T",
               f"child {first} stopped")
    os.kill(first, signal.SIGCONT)
    server.assert_serves()
    wait_until(lambda: len(children(server.pid)) == 2,
               "the child of the client that was served reaped")
    for c in clients:
        left = set(children(server.pid))
        c.close()
        wait_until(lambda: len(set(children(server.pid)) & left) < len(left),
                   "the child of the client that left reaped")
    wait_until(lambda: children(server.pid) == {},
               lambda: f"every child reaped: left {children(server.pid)}")
