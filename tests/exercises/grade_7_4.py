"""Exercise 7.4 (v0.7-select): v0.7's loop on epoll, level-triggered.

The server is v0.7 on the wire and on the command line, with epoll in
place of select(): no FD_SETSIZE, so 1100 clients at once are all served;
one process, one thread; no client can make the loop wait for it; what it
holds for a client stays bounded; IDLE_TIMEOUT as before, up to 30 days.

Level-triggered, epoll reports a socket for as long as it is ready: a
socket watched for what the loop will not act on makes epoll_wait return
at once, for ever, and the loop spins. So these checks put the loop in
each state where it has nothing to do (an idle client; a client whose
replies have all gone; a client over its output bound that does not read;
a connection waiting while the server is out of descriptors) and measure
that it sleeps. A server stopped and continued serves on (epoll_wait fails
with EINTR then), and clients that leave, by a reset too, harm no one.
Exercise 7.5, the same loop edge-triggered, is graded by these checks too.
"""

import os
import pathlib
import signal
import socket
import threading
import time

from grading import check, expect, fail, first_difference, show
from harness import (TIMEOUT, describe_status, limit_descriptors, long_reply,
                     proc_stat, wait_until)

WINDOW = 1.0   # seconds the loop is watched while it has nothing to do
TRIES = 3      # windows, at most: a busy machine may delay its last work


# ------------------------------------------------------------ asleep or not


def busy_seconds(pid):
    """(seconds on a CPU, seconds waiting for one) of every thread of the
    process so far, from /proc/PID/task/*/schedstat; None if the kernel
    keeps no such count."""
    on = waiting = 0
    try:
        for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
            fields = (task / "schedstat").read_text().split()
            on, waiting = on + int(fields[0]), waiting + int(fields[1])
    except (OSError, IndexError, ValueError):
        return None
    return on / 1e9, waiting / 1e9


def cpu_seconds(pid):
    """CPU time of the whole process, to the nanosecond (its CPU-time
    clock, as glibc's clock_getcpuclockid names it)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def one_window(pid):
    """What the process did in WINDOW seconds: (the share of them it ran or
    waited to run, how that reads in words)."""
    before, cpu_before = busy_seconds(pid), cpu_seconds(pid)
    began = time.monotonic()
    time.sleep(WINDOW)  # the window the loop is measured in, not a wait for an event
    took = time.monotonic() - began
    after, cpu = busy_seconds(pid), cpu_seconds(pid) - cpu_before
    if before is None or after is None:
        # No schedstat: CPU time alone, which a busy machine lowers, so an
        # eighth of the window counts as spinning.
        return 4 * cpu / took, f"on a CPU {cpu:.2f} s of {took:.2f} s"
    on, waiting = after[0] - before[0], after[1] - before[1]
    return (on + waiting) / took, (
        f"on a CPU {on:.2f} s and waiting for one {waiting:.2f} s, of "
        f"{took:.2f} s")


def assert_sleeps(server, state, why):
    """The loop, with nothing to do, sleeps in epoll_wait: in one of TRIES
    windows of WINDOW seconds it ran, or waited for a CPU to run on, less
    than half the time. A loop that spins is on a CPU or waiting for one
    all the time, however busy the machine is: that sum does not depend on
    the load, where CPU time alone does (a spinning loop got 5% of a CPU
    here, beside ten busy programs)."""
    seen = []
    for _ in range(TRIES):
        if not server.alive():
            fail(f"The server died while {state}.", expected="it goes on",
                 got=describe_status(server.proc.returncode))
        share, words = one_window(server.pid)
        if share < 0.5:
            return
        seen.append(words)
    fail(f"While {state}, the loop has nothing to do: it must sleep in "
         f"epoll_wait. {why}", expected=f"asleep most of one of {TRIES} "
         f"windows of {WINDOW:g} s", got="busy in every window: "
         + "; ".join(seen))


def send_until_blocked(client, data):
    """Sends data, over and over, until the server stops taking it (a send
    waits a second); returns how many bytes went."""
    client.sock.settimeout(1.0)
    sent = 0
    try:
        while True:
            at = sent % len(data)
            sent += client.sock.send(data[at:])
    except socket.timeout:
        return sent
    except OSError as error:
        fail("A client that sends requests and does not read its replies "
             "is kept: the server stops reading it while its replies do not "
             "fit, and waits for it to read.",
             expected="the server takes the requests, then stops reading",
             got=f"after {sent} bytes, the send failed: {error}")
    finally:
        client.sock.settimeout(TIMEOUT)


def send_from_a_thread(client, data):
    """Sends data from a thread of its own, as the server takes it (it
    stops reading a client whose replies do not fit: it takes the rest once
    this one reads); returns the thread. A send that fails is the check's to
    see, by the replies missing."""
    def send():
        try:
            client.send(data)
        except OSError:
            pass

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def drain(client, expected, why):
    """Reads until as many bytes as expected have come, or the connection
    ends, or nothing comes for TIMEOUT seconds; fails, saying where the
    bytes first differ, unless they are the ones expected."""
    got = bytearray(client.pending)
    client.pending.clear()
    ended = None
    while len(got) < len(expected) and ended is None:
        try:
            chunk = client.sock.recv(1 << 20)
            ended = None if chunk else "then the connection closed"
            got += chunk
        except socket.timeout:
            ended = f"then nothing for {TIMEOUT:g} s"
        except ConnectionResetError:
            ended = "then the connection was reset"
    whole = got == expected  # apart from the check: pytest's diff of MiB is slow
    if not whole:
        at = first_difference(got, expected)
        fail(why, expected=f"{len(expected)} bytes of replies",
             got=f"{len(got)} bytes, {ended or 'and they differ'}",
             differ=None if at == len(got) else
             f"at byte {at}: {show(bytes(got[at:at + 40]))}, expected "
             f"{show(expected[at:at + 40])}")


# ------------------------------------------------------------------ checks


def test_an_idle_client_leaves_the_loop_asleep(server):
    request, reply = server.probe
    with server.client() as a:
        expect(a, request, reply, "A request gets its reply.")
        with server.client() as b:
            expect(b, request, reply, "A request gets its reply.")
            assert_sleeps(server, "two clients are connected, answered, "
                          "and send nothing more",
                          "An idle socket is almost always writable: "
                          "watched for EPOLLOUT when no reply waits, it is "
                          "reported ready on every call. Watch EPOLLOUT "
                          "only while replies wait to be sent.")


def test_a_client_over_its_output_bound_leaves_the_loop_asleep_and_is_served(server):
    request, reply = long_reply(server)
    with server.client() as hog:
        sent = send_until_blocked(hog, request * 1000)
        assert_sleeps(server, "a client over its output bound sends and does "
                      "not read",
                      "The loop stops reading such a client: its input stays "
                      "in the socket, which stays readable. Watched for "
                      "EPOLLIN meanwhile, it is reported on every call: "
                      "drop EPOLLIN while its replies do not fit, and watch "
                      "it again when they do.")
        rest = request[sent % len(request):] if sent % len(request) else b""
        sender = send_from_a_thread(hog, rest)  # the last request made whole
        count = -(-sent // len(request))
        drain(hog, reply * count,
              f"The client then reads: every one of the {count} requests it "
              f"sent is answered, in order, however long it waited.")
        sender.join(TIMEOUT)


VALUES = [b"a" * 256, b"b" * 129, b"c" * 64, b"d" * 7, b"e" * 200]
REPLIES = 8 << 20  # bytes: more than the kernel's buffers hold


def test_a_client_that_reads_late_gets_every_reply_whole_and_in_order(server):
    """A write to a non-blocking socket takes what fits: the rest waits
    for EPOLLOUT. Once it has all gone, EPOLLOUT is no longer watched."""
    with server.client() as c:
        for i, value in enumerate(VALUES):
            expect(c, b"POST/k%d=%s/s\n" % (i, value), b"submit success\r\n",
                   "A POST is stored.")
        rounds = REPLIES // sum(len(v) + 2 for v in VALUES)
        requests = b"".join(b"GET/k%d/s\n" % i for i in range(len(VALUES)))
        sender = send_from_a_thread(c, requests * rounds)
        sender.join(1.0)  # a slow reader: it reads nothing for a second
        drain(c, b"".join(v + b"\r\n" for v in VALUES) * rounds,
              f"A client sent {len(VALUES) * rounds} requests for "
              f"{REPLIES >> 20} MiB of replies, and read nothing for a "
              f"second: every reply must come, whole and in order. A write "
              f"takes what fits in the socket's buffer; the rest waits "
              f"for EPOLLOUT.")
        sender.join(TIMEOUT)
        assert_sleeps(server, "a client that has been sent every reply it "
                      "was owed stays connected and sends nothing",
                      "EPOLLOUT is watched while replies wait; once they "
                      "have all gone, it must no longer be.")


def test_out_of_descriptors_the_loop_sleeps_and_serves_who_waited(start):
    """With 32 descriptors, 27 clients at most are connected: the others
    wait in the listener's backlog. Accept fails (EMFILE) for as long as
    they wait: the loop pauses accepting, and must not watch the listener
    meanwhile, which stays readable. When clients leave, those that waited
    are served, without a new connection to wake the loop."""
    server = start("0", preexec_fn=limit_descriptors(32))
    request, reply = server.probe
    clients = [server.client() for _ in range(40)]
    try:
        for c in clients:
            c.send(request)
        expect(clients[0], None, reply, "The first client is served.")
        served = clients[:1] + [c for c in clients[1:]
                                if not c.nothing_within(0.3)]
        check(10 <= len(served) < 30, "With 32 descriptors, the server "
              "holds about 27 clients; the others wait.",
              expected="10 to 29 of 40 clients answered",
              got=f"{len(served)} answered")
        assert_sleeps(server, f"{len(served)} clients are connected and "
                      f"{40 - len(served)} wait in the backlog, with no "
                      f"descriptor left",
                      "accept fails with EMFILE for as long as a connection "
                      "waits, and a listener with connections waiting is "
                      "reported readable on every call: leave it out of the "
                      "set while accepting is paused.")
        for c in served:
            c.close()
        for i, c in enumerate(c for c in clients if c not in served):
            expect(c, None, reply,
                   f"Once the {len(served)} clients served have left, the "
                   f"ones that waited in the backlog are accepted and "
                   f"answered (client {i + 1} of {40 - len(served)}), with "
                   f"no new connection to wake the loop.")
    finally:
        for c in clients:
            c.close()
    server.assert_serves()


def test_a_server_stopped_and_continued_serves_on(server):
    """On Linux, epoll_wait fails with EINTR when the process is stopped
    and continued, even with no handler for the signal (signal(7))."""
    request, reply = server.probe
    with server.client() as c:
        expect(c, request, reply, "A request gets its reply.")
        for _ in range(3):
            # Stopped where it sleeps, in epoll_wait (its one thread asleep).
            wait_until(lambda: not server.alive() or
                       proc_stat(server.pid)[0] == "S",
                       "the server asleep, in epoll_wait")
            if not server.alive():
                break
            os.kill(server.pid, signal.SIGSTOP)
            os.kill(server.pid, signal.SIGCONT)
        expect(c, request, reply,
               "The server was stopped (SIGSTOP) and continued (SIGCONT), "
               "three times: "
               "on Linux epoll_wait then fails with EINTR, "
               "which is no error. The loop goes on, and the client is "
               "served.")
    server.assert_serves()


def test_clients_that_reset_while_replies_wait_harm_no_one(server):
    """A reset is reported as EPOLLERR and EPOLLHUP, with whatever the
    socket is watched for: the read, or the write, drops the client, and
    nothing may use it after."""
    request, reply = long_reply(server)
    hogs = [server.client() for _ in range(3)]
    for hog in hogs:
        send_until_blocked(hog, request * 1000)
    for hog in hogs:
        hog.reset()
    for _ in range(20):
        c = server.client()
        c.send(request * 200)
        c.reset()
    with server.client() as c:
        expect(c, request, reply,
               "Clients reset the connection while replies waited for them: "
               "the server drops each, touches none after, and serves on.")


# v0.7's promises, and 7.1's, after this exercise's own checks: the first
# check that fails names the mistake.
from grade_7_1 import (  # noqa: E402,F401  (no FD_SETSIZE, 30 days)
    test_1100_clients_at_once_are_all_served,
    test_with_a_30_day_IDLE_TIMEOUT_no_client_is_dropped_early,
)
from test_robustness import (  # noqa: E402,F401
    test_client_that_never_reads_is_dropped_after_IDLE_TIMEOUT,
    test_silent_client_is_dropped_while_a_talking_one_stays,
)
from test_select import (  # noqa: E402,F401
    test_memory_for_a_client_that_never_reads_stays_bounded,
    test_one_process_with_one_thread_serves_100_clients,
    test_stalled_and_never_reading_clients_delay_no_one,
)
from test_todo import (  # noqa: E402,F401  (the protocol, through the new loop)
    test_a_request_sent_byte_by_byte_gets_one_reply,
    test_client_reset_while_the_server_replies_harms_no_one,
    test_every_reply_owed_is_sent_after_the_client_half_closes,
    test_limit,
    test_many_requests_in_one_send_get_one_reply_each_in_order,
    test_the_articles_session,
)
