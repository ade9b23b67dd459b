"""Exercise 8.3, a reference test: children that end at the same time are
all reaped.

Signals of one kind do not queue: while a SIGCHLD is pending, another
child's exit adds nothing to it. So the server may get one SIGCHLD for
several children, and its handler must wait for every child that has
ended. To make children end "at the same time" as the server sees it, the
test stops the server (SIGSTOP) while they end, then lets it go on: it
then has one SIGCHLD for all of them. It connects no new client before it
looks: a new connection must not be what gets the zombies reaped.
"""

import os
import signal

from harness import children, wait_until
from test_fork import served_clients  # n clients, each with its child

CLIENTS = 10


def describe(pid):
    states = list(children(pid).values())
    return (f"every child reaped: the server still has {len(states)} children, "
            f"{states.count('Z')} of them zombies (state Z)")


def test_children_that_end_while_the_server_is_stopped_are_all_reaped(server):
    clients = served_clients(server, CLIENTS)
    os.kill(server.pid, signal.SIGSTOP)
    try:
        for c in clients:
            c.close()
        wait_until(lambda: sorted(children(server.pid).values()) ==
                   ["Z"] * CLIENTS, f"{CLIENTS} children ended")
    finally:
        os.kill(server.pid, signal.SIGCONT)
    wait_until(lambda: children(server.pid) == {}, lambda: describe(server.pid))
