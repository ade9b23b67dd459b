"""What the exercise graders share: checks whose failure says what was sent,
what came back and what was expected, so that a student knows what to fix.

A check waits for the whole reply, but gives up as soon as what came can no
longer become the expected reply: a wrong answer fails at once, only a
missing one takes the harness's TIMEOUT.
"""

import re
import socket
import subprocess
import tempfile
import time

import pytest

import tsan
from harness import (SANITIZER_REPORT, START_TIMEOUT, TIMEOUT, Client, Server,
                     describe_status, finish_all, proc_stat, read_first_line,
                     server_env)


def show(data, limit=120):
    """bytes as Python writes them, cut short if long."""
    if len(data) <= limit:
        return repr(bytes(data))
    return f"{bytes(data[:limit])!r}... ({len(data)} bytes in all)"


def first_difference(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                min(len(a), len(b)))


def fail(why, **details):
    """Fails the test with a message a student can act on: why it matters
    first, then the details in the order given (what was sent, expected,
    got...). None values are left out."""
    expected, got = details.get("expected"), details.get("got")
    if isinstance(expected, bytes) and isinstance(got, bytes) and \
            max(len(expected), len(got)) > 120:
        details["differ at"] = f"byte {first_difference(expected, got)}"
    lines = [why]
    for name, value in details.items():
        if value is not None:
            text = show(value) if isinstance(value, bytes) else str(value)
            text = text.replace("\n", "\n" + " " * 13)
            lines.append(f"  {name + ':':10} {text}")
    pytest.fail("\n".join(lines), pytrace=False)


def excerpt(text, lines=6):
    """What matters in a server's standard error: a sanitizer's report from
    its first line (what went wrong, and where), else the last lines."""
    report = SANITIZER_REPORT.search(text)
    if report:
        kept = text[text.rfind("\n", 0, report.start()) + 1:].splitlines()[:16]
    else:
        kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) if kept else "(nothing)"


def check(condition, why, **details):
    if not condition:
        fail(why, **details)


def wait_for(condition, why, **details):
    """Polls condition() until it holds; after TIMEOUT, fails with why and
    the details, each a value or a function called then (to say what
    the state was at the end of the wait)."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            fail(why, **{name: value() if callable(value) else value
                         for name, value in details.items()})
        time.sleep(0.02)  # the pace of the polls, not a wait for an event


# ------------------------------------------------------------------ replies

def outcome(got, how, expected=b""):
    """What came back, and how it ended, in words."""
    if how == "more":
        extra = show(got[len(expected):])
        if expected:
            return (f"the {len(expected)} bytes expected, then {extra} "
                    f"instead of the close")
        return f"{extra} instead of the close"
    if not got:
        return {"closed": "nothing: the connection closed",
                "reset": "nothing: the connection was reset",
                "silent": f"nothing within {TIMEOUT:g} s"}[how]
    return show(got) + {"closed": ", then the connection closed",
                        "reset": ", then the connection was reset",
                        "silent": f", then nothing more for {TIMEOUT:g} s",
                        "differs": "", "whole": ""}[how]


def more(client, deadline):
    """The next bytes from the connection, or how it ended: "closed",
    "reset", or "silent" if nothing came before the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return "silent"
    client.sock.settimeout(left)
    try:
        return client.sock.recv(1 << 16) or "closed"
    except socket.timeout:
        return "silent"
    except ConnectionResetError:
        return "reset"
    finally:
        client.sock.settimeout(TIMEOUT)


def receive(client, expected, closes):
    """Reads until the reply is whole, differs from expected, or the
    connection ends or falls silent. Returns (bytes, how it ended); bytes
    past a whole reply stay in the client for the next one."""
    got = bytes(client.pending)
    client.pending.clear()
    deadline = time.monotonic() + TIMEOUT
    while True:
        if not expected.startswith(got[:len(expected)]):
            return got, "differs"
        if len(got) > len(expected) and closes:
            return got, "more"
        if len(got) >= len(expected) and not closes:
            client.pending += got[len(expected):]
            return got[:len(expected)], "whole"
        chunk = more(client, deadline)
        if isinstance(chunk, str):
            return got, chunk
        got += chunk


def receive_line(client):
    """Reads up to the next '\n': (the line, "whole"), or (what came, how
    the connection ended)."""
    got = bytes(client.pending)
    client.pending.clear()
    deadline = time.monotonic() + TIMEOUT
    while b"\n" not in got:
        chunk = more(client, deadline)
        if isinstance(chunk, str):
            return got, chunk
        got += chunk
    end = got.index(b"\n") + 1
    client.pending += got[end:]
    return got[:end], "whole"


def send(client, data, why):
    try:
        client.send(data)
    except OSError as error:
        fail(why, sent=data, got=f"the send failed: {error} (the server had "
             f"closed the connection)")


def connect(server, why, host="127.0.0.1"):
    """A new client of the server, or a failed check that says why there
    is none: the server has ended, or it does not accept."""
    try:
        return server.client(host)
    except OSError as error:
        state = ("it is still running" if server.alive() else
                 f"it has ended: {describe_status(server.proc.returncode)}")
        fail(why, expected="a connection", got=f"the connect failed: "
             f"{error}; {state}")


def expect(client, sent, expected, why, closes=False):
    """Sends sent (unless None), then checks that exactly expected comes
    back; with closes, that the server then closes the connection."""
    if sent is not None:
        send(client, sent, why)
    got, how = receive(client, expected, closes)
    ended = how in ("closed", "reset") if closes else how == "whole"
    ok = got == expected and ended
    if not ok:
        wanted = show(expected) + (", then the connection closed"
                                   if closes else "")
        fail(why, sent="nothing" if sent is None else sent, expected=wanted,
             got=outcome(got, how, expected))


def ask(client, request, reply, why):
    """One request line (its '\\n' added) and the reply line it must get."""
    expect(client, request + b"\n", reply, why)


def reply_line(client, request, why):
    """Sends one request line and returns the reply line, whatever it is."""
    send(client, request + b"\n", why)
    got, how = receive_line(client)
    if how != "whole":
        fail(why, sent=request + b"\n", expected="a reply line ending in \\r\\n",
             got=outcome(got, how))
    return got


def expect_error(client, request, form, why):
    """The request gets a reply line that starts with "error: " and, if
    form is given, contains it."""
    got = reply_line(client, request, why)
    ok = got.startswith(b"error: ") and got.endswith(b"\r\n")
    if form is not None:
        ok = ok and form in got
    check(ok, why, sent=request + b"\n",
          expected="a line that starts with b'error: '"
          + (f" and contains {form.decode()!r}" if form else "")
          + ", ending in \\r\\n",
          got=got)


def check_limits(server, start, reply):
    """A request of a new method obeys the limits every request has, at
    their edges. start is the beginning of a request of that method that is
    right, up to its status: with a status that makes it 1024 bytes long it
    gets reply (bytes, or a function(client, request, why) that checks it);
    one byte longer, or with a NUL byte in its status, it gets the error any
    request gets."""
    method = start.split(b"/")[0].decode()
    longest = start + b"s" * (1024 - len(start))
    why = (f"The limits every request has come first, for {method} too: a "
           f"request over 1024 bytes, or one that holds a NUL byte, gets the "
           f"error any request gets, whatever its method.")
    with server.client() as c:
        if callable(reply):
            reply(c, longest, f"A {method} of 1024 bytes (its '\\n' not "
                  f"counted) is within the limits, and is answered.")
        else:
            ask(c, longest, reply, f"A {method} of 1024 bytes (its '\\n' not "
                "counted) is within the limits, and is answered.")
        expect_error(c, longest + b"s", b"1024", why)
        expect_error(c, start + b"st\0tus", b"NUL", why)
        ask(c, b"GET/task_01/s", b"see someone\r\n",
            "The connection goes on after those errors.")


# ------------------------------------------------------------------ processes


def busiest(pids, seconds=1.0):
    """The largest share of a second in which one of the processes was
    running or ready to run (state R), and which one: near 0 for a process
    that sleeps, near 1 for one that spins, however busy the machine."""
    running = dict.fromkeys(pids, 0)
    samples = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in pids:
            fields = proc_stat(pid)
            running[pid] += fields is not None and fields[0] == "R"
        samples += 1
        time.sleep(0.01)  # the pace of the samples, not a wait for an event
    pid = max(running, key=running.get)
    return running[pid] / samples, pid


# ------------------------------------------------------------------ starts


def command(args, env=None):
    """The command line, as a shell would show it."""
    words = [f"{k}={v}" for k, v in (env or {}).items()] + ["server", *args]
    return " ".join(words)


def assert_refused(binary, args, env, status, why):
    """The server must refuse to start: exit with this status, without
    printing its `listening on` line."""
    proc = subprocess.Popen(tsan.command(binary, *args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=server_env(env))
    try:
        line = read_first_line(proc.stdout, START_TIMEOUT)
        if line.startswith(b"listening on"):
            fail(why, ran=command(args, env),
                 expected=f"no 'listening on' line, exit status {status}",
                 got=f"it started: {show(line)}")
        try:
            code = proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        check(code == status, why, ran=command(args, env),
              expected=f"exit status {status}",
              got=describe_status(code) if code is not None else
              f"still running after {TIMEOUT:g} s",
              stderr=excerpt(proc.stderr.read().decode(errors="replace"))
              if code is not None else None)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def listening_path(line):
    match = re.fullmatch(rb"listening on (/.*)\n", line)
    return match and match[1].decode()


class UnixServer(Server):
    """A server started as `server PORT PATH`, whose `listening on` line
    names a path instead of ADDRESS:PORT."""

    def __init__(self, binary, features, path, env=None, port="0"):
        self.path = path
        self.launch(features, tsan.command(binary, port, path), env)
        if listening_path(self.line) != path:
            try:  # no line at all: it has exited, or is about to
                status = None if self.line else self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                status = None
            self.kill()
            fail("Given a path for ADDRESS, the server listens on a Unix "
                 "socket there and prints one line naming it.",
                 ran=command([port, path], env),
                 expected=f"the line {show(f'listening on {path}'.encode())}",
                 got=self.line or (f"no line: {describe_status(status)}"
                                   if status is not None else
                                   f"no line within {START_TIMEOUT:g} s"),
                 stderr=excerpt(self.stderr()))

    def client(self, host=None):
        return UnixClient(self.path)


class UnixClient(Client):
    """A harness Client over a Unix-domain stream socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.pending = bytearray()


@pytest.fixture
def socket_dir():
    """A fresh folder for socket and data files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ex-") as path:
        yield path


@pytest.fixture
def start_unix(binary, features):
    """start_unix(path) -> a running `server 0 PATH` (or PORT: port),
    stopped afterwards."""
    servers = []

    def start_unix(path, env=None, port="0"):
        server = UnixServer(binary, features, path, env, port)
        servers.append(server)
        return server

    yield start_unix
    finish_all(servers)

