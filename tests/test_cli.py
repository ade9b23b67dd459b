"""The command line every stage shares: `server [PORT [ADDRESS]]`.

Arguments it must refuse, the `listening on` line, a port in use, the stop
signals and a restart on the same port.
"""

import os
import re
import signal
import socket

import pytest

from harness import run_server

BAD_ARGUMENTS = [
    ["abc"], ["65536"], ["99999999999999999999"], ["+80"], [" 80"], ["80 "],
    ["0x50"], ["-1"], [""], ["0", "localhost"], ["0", "1.2.3.4.5"],
    ["0", "::1::2"], ["0", "127.0.0.1", "extra"],
    # inet_aton's old forms: 0.0.0.0, 127.0.0.1, 127.0.0.1, 1.2.3.4 in octal
    ["0", "0"], ["0", "127.1"], ["0", "0x7f000001"], ["0", "01.02.03.04"],
]


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=repr)
def test_bad_argument_exits_2_with_usage_on_stderr(binary, args):
    result = run_server(binary, *args)
    assert result.returncode == 2
    assert b"usage: server [PORT [ADDRESS]]" in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", " 5", "5s", ""])
def test_bad_idle_timeout_exits_2(binary, value):
    result = run_server(binary, "0", env={"IDLE_TIMEOUT": value})
    assert result.returncode == 2
    assert b"IDLE_TIMEOUT" in result.stderr


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_usage_on_stdout_and_exits_0(binary, flag):
    result = run_server(binary, flag)
    assert result.returncode == 0
    assert result.stdout.startswith(b"usage: server [PORT [ADDRESS]]\n")


def test_listening_line_names_the_address_and_the_real_port(server):
    assert re.fullmatch(rb"listening on 127\.0\.0\.1:\d+\n", server.line)
    assert server.port != 0
    server.assert_serves()


def test_port_0_with_leading_zeros_is_still_port_0(start):
    assert start("000").port != 0


def test_ipv6_address_is_bracketed_in_the_listening_line(start):
    server = start("0", "::1")
    assert re.fullmatch(rb"listening on \[::1\]:\d+\n", server.line)
    server.assert_serves(host="::1")


def close_stdin_and_stderr():
    os.close(0)
    os.close(2)


def test_started_with_stdin_and_stderr_closed_it_logs_nothing_to_a_client(
        start, pytestconfig):
    """`server <&- 2>&-`: the listener would take descriptor 0 and the first
    client descriptor 2, where the log goes, ahead of its reply."""
    if pytestconfig.getoption("--wrapper"):
        pytest.skip("Valgrind will not start without descriptor 2")
    server = start("0", preexec_fn=close_stdin_and_stderr)
    server.assert_serves()


def test_port_in_use_exits_1_naming_the_port(binary, server):
    result = run_server(binary, str(server.port))
    assert result.returncode == 1
    assert str(server.port).encode() in result.stderr
    assert b"in use" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM],
                         ids=lambda s: s.name)
def test_signal_stops_it_without_waiting_for_a_connected_client_with_status_0(
        start, sig):
    """The client stays connected and silent, for far longer than the stop
    may take (server.stop waits TIMEOUT): a server that went back to
    waiting for it after the signal would never exit."""
    server = start("0", env={"IDLE_TIMEOUT": "3600"})
    request, reply = server.probe
    with server.client() as busy:  # a client in the middle of a session
        busy.send(request)
        assert busy.recv_exactly(len(reply)) == reply
        assert server.stop(sig) == 0


def test_restart_on_the_same_port_right_after_a_stop(start):
    first = start("0")
    request, reply = first.probe
    with first.client() as c:
        c.send(request)
        assert c.recv_exactly(len(reply)) == reply
        # Stopping with a client connected makes the server close first,
        # which leaves its port in TIME_WAIT: only SO_REUSEADDR rebinds it.
        assert first.stop() == 0
    again = start(str(first.port))
    assert again.port == first.port
    again.assert_serves()


def test_defaults_to_127_0_0_1_port_9000(start):
    try:
        server = start()
    except AssertionError:
        if port_9000_taken():
            pytest.skip("port 9000 is taken on this machine")
        raise
    assert server.line == b"listening on 127.0.0.1:9000\n"
    server.assert_serves()


def port_9000_taken():
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", 9000))
        except OSError:
            return True
    return False
