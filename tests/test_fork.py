"""v0.8-fork: a child process per client, a list they all share.

What the design promises beyond the protocol: one child per connection,
every exited child reaped, no process left after a stop, and a child that
dies takes down no one else.
"""

import itertools
import os
import pathlib
import signal
import socket

import pytest

from harness import TIMEOUT, ask, ask_many, children, proc_stat, wait_until

pytestmark = pytest.mark.stages("fork")


def served_clients(server, n):
    """n clients, each answered once: its child has surely been forked."""
    request, reply = server.probe
    clients = [server.client() for _ in range(n)]
    for c in clients:
        c.send(request)
        assert c.recv_exactly(len(reply)) == reply
    return clients


def live(pid):
    return {p for p, state in children(pid).items() if state != "Z"}


def test_each_connected_client_has_a_child_of_its_own(server):
    assert children(server.pid) == {}
    clients = served_clients(server, 5)
    assert len(live(server.pid)) == 5
    clients.append(server.client())
    clients[-1].send(server.probe[0])
    clients[-1].line()
    assert len(live(server.pid)) == 6
    for c in clients:
        c.close()
    wait_until(lambda: children(server.pid) == {}, "every child gone")


def test_no_zombie_is_left_after_50_clients_come_and_go(server):
    for _ in range(5):
        for c in served_clients(server, 10):
            c.close()
    wait_until(lambda: children(server.pid) == {},
               lambda: "every child reaped: %s" % children(server.pid))


def ended(pid):
    fields = proc_stat(pid)
    return fields is None or fields[0] == "Z"  # a zombie has ended


def test_sigterm_with_10_clients_connected_leaves_no_process(server):
    clients = served_clients(server, 10)
    pids = live(server.pid)
    assert len(pids) == 10
    assert server.stop(signal.SIGTERM) == 0
    wait_until(lambda: all(ended(p) for p in pids), "every child ended")
    for c in clients:
        assert c.wait_closed() == b""


def served_with_its_child(server):
    """A new client, answered once, and the PID of the child serving it."""
    request, reply = server.probe
    before = live(server.pid)
    client = server.client()
    client.send(request)
    assert client.line() == reply
    (child,) = live(server.pid) - before
    return client, child


def test_sigterm_ends_a_stopped_child_too(server):
    """A stopped process acts on no signal but SIGKILL and SIGCONT: a
    SIGTERM waits, pending, until the process is continued."""
    client, child = served_with_its_child(server)
    with client:
        os.kill(child, signal.SIGSTOP)
        try:
            wait_until(lambda: proc_stat(child)[0] == "T", "stopped")
            assert server.stop(signal.SIGTERM) == 0
            wait_until(lambda: ended(child), "ended: the child stopped by SIGSTOP")
        finally:
            if not ended(child):
                os.kill(child, signal.SIGKILL)
        assert client.wait_closed() == b""


def test_once_the_parent_is_killed_new_clients_are_refused(server):
    """Only the parent listens: each child closes its copy of the listening
    socket. A child that kept it would keep the port once the parent is
    gone: new clients queued with no one to accept them, and a restart
    failing with "Address already in use"."""
    request, reply = server.probe
    client, child = served_with_its_child(server)
    with client:
        server.kill()  # SIGKILL: no stop(), the child lives on
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), TIMEOUT).close()
        client.send(request)
        assert client.line() == reply
    wait_until(lambda: ended(child), "ended: the child, its client gone")


def test_a_crashed_child_takes_down_only_its_own_client(server):
    request, reply = server.probe
    victim, child = served_with_its_child(server)
    other, _ = served_with_its_child(server)
    with victim, other:
        os.kill(child, signal.SIGKILL)  # as a crash would
        assert victim.wait_closed() == b""
        other.send(request)
        assert other.line() == reply
    server.assert_serves()
    wait_until(lambda: children(server.pid) == {}, "every child reaped")


def test_sigterm_to_one_child_ends_that_child_only(server):
    """A child that kept the parent's handler would run stop() with its
    copy of the table, and kill the children forked before it."""
    request, reply = server.probe
    older, _ = served_with_its_child(server)
    younger, child = served_with_its_child(server)
    with older, younger:
        os.kill(child, signal.SIGTERM)
        assert younger.wait_closed() == b""
        older.send(request)
        assert older.line() == reply


def test_more_than_1024_clients_one_after_another_are_all_served(server):
    """The table holds 1024 children: a slot that reap() did not free
    would be lost for good, and the 1025th client refused."""
    if server.wrapped:
        pytest.skip("1100 children take a minute under Valgrind, and reap() "
                    "allocates nothing for it to check")
    request, reply = server.probe
    for i in range(1100):
        with server.client() as c:
            c.send(request)
            assert c.line() == reply, f"client {i}"


@pytest.mark.stages("post")
def test_a_child_killed_in_the_middle_of_posts_leaves_the_list_usable(server):
    """The lock is let go by the kernel when its holder dies, so a child
    killed while it holds it blocks no one."""
    for round_ in range(10):
        before = set(live(server.pid))
        victim = server.client()
        victim.send(b"POST/k%d=v/s\n" % round_)
        assert victim.line() == b"submit success\r\n"
        victim.send(b"".join(b"POST/k%d=%d/s\n" % (round_, i)
                             for i in range(2000)))
        for child in live(server.pid) - before:
            os.kill(child, signal.SIGKILL)
        victim.close()
        with server.client() as c:
            c.send(b"GET/task_01/s\n")
            assert c.line() == b"see someone\r\n"


def test_a_client_reset_mid_request_leaves_the_others_unaffected(server):
    request, reply = server.probe
    with server.client() as steady:
        for _ in range(10):
            c = server.client()
            c.send(request[:4])
            c.reset()
            steady.send(request)
            assert steady.line() == reply
    wait_until(lambda: children(server.pid) == {}, "every child reaped")


# ------------------------------------------------ a crash inside a change


@pytest.fixture
def crash_file(binary, tmp_path):
    """The file the test build's crash points read (tests/crash/crash.mk):
    the next child to reach step N of a change, once N is written in it,
    empties it and is killed there."""
    if b"CRASH_AT" not in pathlib.Path(binary).read_bytes():
        pytest.skip("a build without crash points (-DCRASH_POINTS)")
    return tmp_path / "crash-at"


def killed_at_step(server, crash_file, step, request):
    """Sends the POST with its child set to die at this step of the change:
    True if it died there, False if the change has no such step (and went
    through)."""
    crash_file.write_text(f"{step}\n")
    with server.client() as c:
        c.send(request)
        c.shutdown_write()
        reply = c.wait_closed()
    if reply == b"submit success\r\n":
        assert crash_file.read_text() == f"{step}\n"
        return False
    assert reply == b"" and crash_file.read_text() == "", \
        f"step {step}: the child was not killed, and replied {reply!r}"
    return True


def get(server, task_id):
    with server.client() as c:
        return ask(c, b"GET/%s/s" % task_id)


def value_for(step):
    """A value for each step, each longer than the one before: a length
    left from an earlier value shows in a torn one."""
    return b"%d" % step * (20 + step)


@pytest.mark.stages("post")
def test_a_child_killed_at_any_step_of_a_post_leaves_the_old_value_or_the_new(
        start, crash_file):
    server = start("0", env={"CRASH_AT": str(crash_file)})
    for step in itertools.count(1):
        before = get(server, b"task_01")
        value = value_for(step)
        if not killed_at_step(server, crash_file, step,
                              b"POST/task_01=%s/s\n" % value):
            break
        assert get(server, b"task_01") in (before, value + b"\r\n"), \
            f"killed at step {step}"
        assert get(server, b"task_02") == b"read book\r\n"
    assert step > 1, "no step of a change killed its child"


def free_slots(server):
    """How many new tasks the list still takes, filling it."""
    with server.client() as c:
        replies = ask_many(c, [b"POST/fill_%d=v/s" % i for i in range(1024)])
    return replies.count(b"submit success\r\n")


@pytest.mark.stages("post")
def test_a_child_killed_at_any_step_of_adding_a_task_leaves_it_absent_or_whole(
        start, crash_file):
    server = start("0", env={"CRASH_AT": str(crash_file)})
    added = 0
    for step in itertools.count(1):
        task_id, value = b"new_%d" % step, value_for(step)
        if not killed_at_step(server, crash_file, step,
                              b"POST/%s=%s/s\n" % (task_id, value)):
            break
        after = get(server, task_id)
        assert after in (b"no key match\r\n", value + b"\r\n"), \
            f"killed at step {step}"
        added += after != b"no key match\r\n"
    assert step > 1, "no step of a change killed its child"
    # A task half added would hold a slot that no GET can name.
    assert free_slots(server) == 1024 - 3 - added - 1
