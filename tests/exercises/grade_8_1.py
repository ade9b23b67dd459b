"""Exercise 8.1 (v0.8-fork): a pool of pre-forked workers.

The environment variable WORKERS (a whole number from 1 to 1024, both
allowed, default 4, written in digits only, as IDLE_TIMEOUT; anything else
is a bad argument, exit 2) sets the size of the pool. At start the server
forks WORKERS worker processes; each one accepts a client, serves it to
the end, and accepts the next. The parent forks no process per client: it
only replaces a worker that dies. So the server is always the parent plus
WORKERS processes, however many clients come; a client that comes while
every worker is busy waits in the backlog, and is served when one is
free. IDLE_TIMEOUT still drops a silent client, which frees its worker.
The list is shared as in v0.8, and a stop (SIGINT, SIGTERM) leaves no
process. No process spins: the parent sleeps until a worker dies, and a
worker whose accept fails for want of descriptors pauses before it tries
again, as v0.8 does.
"""

import os
import resource
import signal
import subprocess
import threading
import time

import pytest

from grading import (assert_refused, ask, busiest, check, expect, fail, show,
                     wait_for)
from harness import (START_TIMEOUT, TIMEOUT, children, describe_status,
                     in_parallel, proc_stat, read_first_line, server_env)

WORKERS = 3


def live(server):
    return {p for p, state in children(server.pid).items() if state != "Z"}


def pool(server, n=WORKERS):
    """Waits for the pool to be whole; returns the workers' PIDs."""
    deadline = time.monotonic() + TIMEOUT
    while len(live(server)) != n:
        if time.monotonic() > deadline:
            fail(f"The server forks its {n} workers at start, before any "
                 f"client comes: it is the parent plus {n} processes.",
                 expected=f"{n} child processes", got=f"{len(live(server))} "
                 f"after {TIMEOUT:g} s: {sorted(live(server))}")
        time.sleep(0.02)
    return live(server)


def check_pool(server, workers, when):
    now = live(server)
    check(now == workers, f"{when}: the server is still the parent and the "
          f"same {len(workers)} workers. No process is forked per client.",
          expected=f"the workers {sorted(workers)}", got=f"children {sorted(now)}")


def served(server, n):
    """n clients, each answered once and kept connected: n workers busy."""
    request, reply = server.probe
    clients = [server.client() for _ in range(n)]
    for i, c in enumerate(clients):
        expect(c, request, reply, f"Client {i + 1} of {n}: there is a worker "
               f"for each, so each one is served at once.")
    return clients


@pytest.fixture
def server(start):
    return start("0", env={"WORKERS": str(WORKERS)})


def test_the_pool_is_forked_at_start(server):
    pool(server)


def test_clients_beyond_the_pool_wait_then_are_all_served(server):
    request, reply = server.probe
    busy = served(server, WORKERS)
    workers = live(server)
    waiting = [server.client() for _ in range(7)]
    try:
        for c in waiting:
            c.send(request)
        check_pool(server, workers, "10 clients connected at once")
        if not waiting[0].nothing_within(0.5):
            fail("All 3 workers are busy with a client each: the 4th client "
                 "waits in the backlog, unanswered, until one is free.",
                 sent=request, expected="nothing yet", got=bytes(waiting[0].pending))
        for c in busy:
            c.close()
        for i, c in enumerate(waiting):
            expect(c, None, reply,
                   f"Waiting client {i + 1} of 7 is served once a worker is "
                   f"free (every served client closes after its reply).")
            c.close()
        check_pool(server, workers, "After all 10 clients were served")
    finally:
        for c in busy + waiting:
            c.close()


def test_without_WORKERS_the_pool_has_4(start):
    server = start("0")
    request, _ = server.probe
    busy = served(server, 4)
    try:
        with server.client() as fifth:
            fifth.send(request)
            if not fifth.nothing_within(0.5):
                fail("Without WORKERS the pool has 4 workers: with 4 clients "
                     "being served, the 5th waits in the backlog.",
                     sent=request, expected="nothing yet",
                     got=bytes(fifth.pending))
        check(len(live(server)) == 4, "Without WORKERS the pool has 4 workers.",
              expected="4 children", got=f"children {sorted(live(server))}")
    finally:
        for c in busy:
            c.close()


def test_a_pool_of_one_serves_one_client_at_a_time(start):
    server = start("0", env={"WORKERS": "1"})
    request, reply = server.probe
    busy = served(server, 1)
    with server.client() as second:
        second.send(request)
        if not second.nothing_within(0.5):
            fail("WORKERS=1 is a pool of one: while its worker serves a "
                 "client, the next one waits in the backlog.", sent=request,
                 expected="nothing yet", got=bytes(second.pending))
        busy[0].close()
        expect(second, None, reply, "WORKERS=1: once the first client has "
               "left, its worker serves the next.")
    check(len(live(server)) == 1, "WORKERS=1 is the parent and one worker.",
          expected="1 child", got=f"children {sorted(live(server))}")


def test_a_pool_of_1024_is_allowed(binary):
    proc = subprocess.Popen([binary, "0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=server_env({"WORKERS": "1024"}),
                            start_new_session=True)
    try:
        line = read_first_line(proc.stdout, START_TIMEOUT)
    finally:  # no need to wait for 1024 forks: the whole group goes at once
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    check(line.startswith(b"listening on"), "WORKERS may be any whole "
          "number from 1 to 1024: 1024 is allowed, and the server starts.",
          ran="WORKERS=1024 server 0", expected="its line 'listening on ...'",
          got=show(line) if line else f"no line: {describe_status(proc.returncode)}")


def test_a_silent_client_frees_its_worker_after_IDLE_TIMEOUT(start):
    server = start("0", env={"WORKERS": "1", "IDLE_TIMEOUT": "1"})
    request, reply = server.probe
    with server.client() as silent, server.client() as waiting:
        waiting.send(request)  # behind the silent one in the backlog
        expect(waiting, None, reply,
               "WORKERS=1, IDLE_TIMEOUT=1: a client that sends nothing has "
               "the only worker, and is dropped after a second (set "
               "IDLE_TIMEOUT on each client a worker accepts, as v0.8 did "
               "before it forked); then the worker serves the next client.")
        expect(silent, None, b"", "The silent client was dropped: its "
               "connection is closed.", closes=True)


def test_no_process_spins_while_the_server_is_idle(server):
    workers = pool(server)
    share, pid = busiest([server.pid, *workers])
    check(share < 0.5, "With no client, every process sleeps: the workers "
          "in accept, the parent until a worker dies (sigsuspend, pause, "
          "waitpid without WNOHANG), never in a loop that asks again and "
          "again.", expected="every process asleep most of the time",
          got=f"process {pid} running in {share:.0%} of 1 s"
          + (" (the parent)" if pid == server.pid else " (a worker)"))


def test_20_clients_at_once_are_all_served_by_the_pool(server):
    request, reply = server.probe
    start = threading.Barrier(20)
    most = []

    def visit(i):  # one request each: the last waits for 6 in turn
        with server.client() as c:
            start.wait()
            expect(c, request, reply, "20 clients come at once: every one "
                   "is served, 3 at a time.")
            most.append(len(live(server)))

    in_parallel(20, visit)
    check(max(most) <= WORKERS and len(live(server)) == WORKERS,
          "20 clients come and go: the server stays the parent and its 3 "
          "workers all along. No process is forked per client.",
          expected="3 children at every moment",
          got=f"up to {max(most)} while the clients came, "
              f"{len(live(server))} after they left")


def test_a_worker_that_dies_is_replaced(server):
    request, reply = server.probe
    busy = served(server, WORKERS)
    victim = min(live(server))
    os.kill(victim, signal.SIGKILL)
    try:
        wait_for(lambda: victim not in children(server.pid) and
                 len(live(server)) == WORKERS,
                 "A worker was killed: the parent reaps it and forks a new "
                 "one, so the pool stays at 3.", expected=f"3 workers, "
                 f"{victim} not among them", got=lambda: f"after {TIMEOUT:g} "
                 f"s, children {children(server.pid)} (Z: a zombie)")
    finally:
        for c in busy:
            c.close()
    with server.client() as c:
        expect(c, request, reply, "The pool serves clients after a worker died.")


def test_a_post_is_seen_through_another_worker(server):
    with server.client() as writer, server.client() as reader:
        ask(writer, b"POST/shared=seen by all/s", b"submit success\r\n",
            "POST stores a task.")
        ask(reader, b"GET/shared/s", b"seen by all\r\n",
            "Another client, served by another worker while the first one's "
            "worker is still busy with it, sees the POST: the list is shared.")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=lambda s: s.name)
def test_a_stop_leaves_no_process(server, sig):
    busy = served(server, WORKERS)
    workers = live(server)
    status = server.stop(sig)
    for c in busy:
        c.close()
    check(status == 0, f"{sig.name} stops the server with exit status 0.",
          expected="exit status 0", got=describe_status(status))

    def gone(pid):
        fields = proc_stat(pid)
        return fields is None or fields[0] == "Z"

    wait_for(lambda: all(gone(p) for p in workers),
             f"{sig.name} stops the parent and every worker with it.",
             expected="no worker left", got=lambda: f"still running after "
             f"{TIMEOUT:g} s: {[p for p in workers if not gone(p)]}")


def lowest_free_descriptor(pid):
    taken = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
    return min(set(range(len(taken) + 1)) - taken)


def test_no_process_spins_while_the_workers_are_out_of_descriptors(server):
    request, reply = server.probe
    workers = pool(server)
    limits = {}
    try:
        for pid in workers:  # no descriptor left for a worker's next client
            _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
            limits[pid] = resource.prlimit(
                pid, resource.RLIMIT_NOFILE, (lowest_free_descriptor(pid), hard))
        # A worker waiting in accept has its descriptor already: one client
        # each uses it up, and from then on their accept fails with EMFILE.
        for c in served(server, WORKERS):
            c.close()
        share, pid = busiest([server.pid, *workers])
        check(share < 0.5, "No worker can take a descriptor (accept fails "
              "with EMFILE): no process may spin meanwhile. A worker whose "
              "accept fails pauses before it tries again, as v0.8's "
              "accept_client does; the parent sleeps in sigsuspend.",
              expected="every process asleep most of the time",
              got=f"process {pid} running in {share:.0%} of 1 s")
        with server.client() as c:
            c.send(request)
            for pid, limit in limits.items():
                resource.prlimit(pid, resource.RLIMIT_NOFILE, limit)
            limits = {}
            expect(c, None, reply, "Once the workers have descriptors again, "
                   "a client is served.")
    finally:
        for pid, limit in limits.items():
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limit)


@pytest.mark.parametrize("value", [
    "0", "-1", "abc", "", "1025", "+4", " 4", "4 ", "0x4", "99999999999999999999",
], ids=repr)
def test_a_bad_WORKERS_is_a_bad_argument(binary, value):
    assert_refused(binary, ["0"], {"WORKERS": value}, 2,
                   "WORKERS must be a whole number from 1 to 1024, written "
                   "in digits only (no sign, no space, no hex): anything else "
                   "is a bad argument, and the server exits 2 without "
                   "starting, as for a bad IDLE_TIMEOUT.")
