"""v0.3 to v0.6: a thread per client.

What the design promises beyond the protocol: a client's thread ends with
its client and leaves nothing behind. No one joins it: detached, it frees
its own stack when it ends.
"""

import pathlib

import pytest

from harness import wait_until

pytestmark = pytest.mark.stages("threads")

CLIENTS = 500


def status(pid, field):
    """A field of /proc/PID/status, such as Threads."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def mappings(pid):
    """How many memory mappings the process has: a thread's stack is one,
    and its guard page another."""
    return len(pathlib.Path(f"/proc/{pid}/maps").read_text().splitlines())


def serve_one_after_another(server, n):
    request, reply = server.probe
    for _ in range(n):
        with server.client() as c:
            c.send(request)
            assert c.recv_exactly(len(reply)) == reply


def test_500_clients_one_after_another_leave_no_stack_behind(server):
    """A thread that is neither detached nor joined keeps its stack mapped
    after it ends (8 MiB and a guard page): 500 of them, 1000 mappings."""
    # The main thread, and one that ThreadSanitizer starts with the first
    # client's: once the count is back to that, every client's has ended.
    idle = status(server.pid, "Threads") + 1

    def clients_threads_ended():
        wait_until(lambda: status(server.pid, "Threads") <= idle,
                   "every client's thread ended")

    serve_one_after_another(server, 20)  # glibc's cache of stacks fills
    clients_threads_ended()
    before = mappings(server.pid)
    serve_one_after_another(server, CLIENTS)
    clients_threads_ended()
    grown = mappings(server.pid) - before
    assert grown < CLIENTS // 2, f"{grown} more mappings after {CLIENTS} clients"
