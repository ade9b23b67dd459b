"""v0.7-select: one thread, one select() loop, every client at once.

What the design promises beyond the protocol: no client can make the loop
wait for it, what the server holds for one client stays bounded, and a
descriptor select() cannot watch is refused instead of overflowing an
fd_set: a client's, and the listener's own.
"""

import os
import pathlib
import re
import resource
import socket

import pytest

from harness import TIMEOUT, children, describe_status, in_parallel, run_server

pytestmark = pytest.mark.stages("select")


def status(pid, field):
    """A field of /proc/PID/status, such as Threads or VmRSS (in kB)."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def test_one_process_with_one_thread_serves_100_clients(server):
    request, reply = server.probe
    clients = [server.client() for _ in range(100)]
    try:
        for c in clients:
            c.send(request)
        for c in clients:
            assert c.recv_exactly(len(reply)) == reply
        assert status(server.pid, "Threads") == 1
        assert children(server.pid) == {}
    finally:
        for c in clients:
            c.close()


def fill_until_blocked(client, data, most=64 << 20):
    """Sends data over and over until the server stops taking it (no byte
    for a second); fails if it takes `most` bytes and still reads on."""
    client.sock.settimeout(1.0)
    sent = 0
    try:
        while sent < most:
            client.send(data)
            sent += len(data)
    except socket.timeout:
        return
    finally:
        client.sock.settimeout(TIMEOUT)
    raise AssertionError(f"the server took {sent} bytes and kept reading")


def test_stalled_and_never_reading_clients_delay_no_one(server):
    request, reply = server.probe
    with server.client() as staller, server.client() as hog:
        staller.send(request[:5])  # half a request, then nothing
        fill_until_blocked(hog, request * 1000)  # never reads its replies

        def talk(i):
            with server.client() as c:
                for _ in range(50):
                    c.send(request)
                    assert c.recv_exactly(len(reply)) == reply

        in_parallel(20, talk)


def test_memory_for_a_client_that_never_reads_stays_bounded(server):
    request, reply = server.probe
    before = status(server.pid, "VmRSS")
    with server.client() as hog:
        hog.send(request * 100_000)
        fill_until_blocked(hog, request * 1000)  # the server stopped reading
        grown = status(server.pid, "VmRSS") - before
        assert grown < 4096, f"VmRSS grew by {grown} kB"
        server.assert_serves()


def test_a_connection_past_FD_SETSIZE_is_refused_and_the_rest_served(start):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2400:
        pytest.skip(f"the descriptor limit here is {hard}: 2400 needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def room_for_1100():
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))

    server = start("0", preexec_fn=room_for_1100)
    request, reply = server.probe
    clients = [server.client() for _ in range(1100)]
    try:
        answers = []
        for c in clients:
            try:
                c.send(request)
                answers.append(c.line())
            except (AssertionError, ConnectionError):
                answers.append(b"closed")
        refused = [a for a in answers if a != reply]
        assert set(refused) <= {b"error: server full\r\n", b"closed"}
        assert 1100 - 1024 <= len(refused) < 100
        assert answers[:900] == [reply] * 900
        clients[0].send(request)
        assert clients[0].line() == reply
    finally:
        for c in clients:
            c.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    server.assert_serves()


FD_SETSIZE = 1024  # descriptors an fd_set holds, with glibc and with musl


def open_up_to(last):
    """Opens /dev/null until every descriptor up to last is open here (open
    takes the lowest free number); returns those it opened."""
    opened = []
    while not opened or opened[-1] < last:
        opened.append(os.open(os.devnull, os.O_RDONLY))
    return opened


def test_a_listener_past_FD_SETSIZE_is_refused_at_start(binary):
    """Started with descriptors 3 to 1023 inherited, the listener gets
    1024: select() cannot watch it, and the server says so and exits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < FD_SETSIZE + 100:
        pytest.skip(f"the descriptor limit here is {hard}: {FD_SETSIZE + 100} needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    inherited = open_up_to(FD_SETSIZE - 1)
    try:
        result = run_server(binary, "0", pass_fds=range(3, FD_SETSIZE))
    finally:
        for fd in inherited:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    said = result.stderr.decode(errors="replace")
    assert result.returncode == 1, f"{describe_status(result.returncode)}: {said}"
    listener = re.search(r"descriptor (\d+)", said)
    assert listener and int(listener[1]) >= FD_SETSIZE, said
    assert f"FD_SETSIZE ({FD_SETSIZE})" in said
