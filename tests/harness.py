"""What the socket tests share: the stage table, a running server, a client.

A Server is a stage's real binary, started on port 0; it reads the
`listening on` line to learn its port, and is stopped by PID. A Client is
one connection whose every wait is bounded by TIMEOUT.
"""

import concurrent.futures
import fcntl
import os
import pathlib
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time

import tsan

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Generous bounds: a test waits for an event (a reply, an exit), never for
# a fixed time, so a bound costs nothing until something is wrong. On a
# 2-core machine whose load average was in the hundreds, v0.8 under
# AddressSanitizer took more than 10 s to answer a client queued behind
# 50 others, and Valgrind more than 30 s to start it.
TIMEOUT = 30.0
START_TIMEOUT = 60.0

SANITIZER_REPORT = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer"
    r"|runtime error:|ERROR: ThreadSanitizer"
    r"|ERROR SUMMARY: [1-9]"  # Valgrind's, with --wrapper valgrind
)
SANITIZER_OPTIONS = {
    "ASAN_OPTIONS": "abort_on_error=0:halt_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0",
}


def read_stage_table():
    table = {}
    text = (pathlib.Path(__file__).parent / "stages.txt").read_text()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            table[words[0]] = frozenset(words[1:])
    return table


STAGES = read_stage_table()

LIST_REPLY = (
    b"{'task_01': 'see someone', 'task_02': 'read book', "
    b"'task_03': 'play basketball'}\r\n"
)


def probe(features):
    """A request every stage with these features answers, and its reply."""
    if "echo" in features:
        return b"ping\n", b"ping\n"
    if "list" in features:
        return b"anything\n", LIST_REPLY
    return b"GET/task_01/status\n", b"see someone\r\n"


def long_reply(server):
    """A request whose reply is long, and that reply: so that the replies
    to a few MiB of requests fill every buffer between server and client."""
    if "post" in server.features:
        value = b"v" * 256
        with server.client() as c:
            c.send(b"POST/long=" + value + b"/s\n")
            assert c.line() == b"submit success\r\n"
        return b"GET/long/s\n", value + b"\r\n"
    if "list" in server.features:
        return b"\n", LIST_REPLY
    return server.probe


# ---------------------------------------------------------------- servers


def server_env(extra=None):
    env = dict(os.environ)
    for name, value in SANITIZER_OPTIONS.items():
        env.setdefault(name, value)
    env.pop("IDLE_TIMEOUT", None)
    env.pop("CRASH_AT", None)  # v0.8's crash points: see tests/crash/crash.mk
    env.update(extra or {})
    return env


def describe_status(status):
    """An exit status as Popen gives it, in words: "exit status 2", or
    "killed by SIGSEGV (signal 11)" for a negative one."""
    if status is None or status >= 0:
        return f"exit status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        return f"killed by signal {-status}"
    return f"killed by {name} (signal {-status})"


def read_first_line(pipe, timeout):
    """The first line a process writes, or what it wrote before exiting."""
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(pipe, selectors.EVENT_READ)
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(pipe.fileno(), 1)
            if not chunk:
                break
            data += chunk
    return data


class Server:
    """A running server process: `server ARGS...` with stderr kept aside,
    run under the wrapper command (such as valgrind) if there is one."""

    def __init__(self, binary, features, args, env=None, wrapper=(), **popen):
        self.wrapped = bool(wrapper)
        self.launch(features, [*wrapper, *tsan.command(binary, *args)], env,
                    **popen)
        match = re.fullmatch(rb"listening on (.+):(\d+)\n", self.line)
        if not match:
            self.kill()
            raise AssertionError(
                f"expected 'listening on ADDRESS:PORT', got {self.line!r}\n"
                f"stderr:\n{self.stderr()}")
        self.address = match[1].decode()
        self.port = int(match[2])

    def launch(self, features, command, env=None, **popen):
        """Starts command and reads its first line into self.line."""
        self.features = features
        self.probe = probe(features)
        self.log = tempfile.TemporaryFile()
        popen.setdefault("stderr", self.log)  # a test may give its own
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            env=server_env(env), **popen)
        self.stopped = False
        self.line = read_first_line(self.proc.stdout, START_TIMEOUT)

    @property
    def pid(self):
        return self.proc.pid

    def client(self, host="127.0.0.1"):
        return Client(self.port, host)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        """Sends sig and returns the exit status; fails if it does not exit."""
        self.stopped = True
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"server did not exit within {timeout} s of {sig.name}")

    def kill(self):
        self.stopped = True
        if self.alive():
            self.proc.kill()
            self.proc.wait(TIMEOUT)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def assert_serves(self, host="127.0.0.1"):
        """A fresh client gets its request answered."""
        request, reply = self.probe
        with self.client(host) as c:
            c.send(request)
            assert c.recv_exactly(len(reply)) == reply

    def finish(self):
        """The checks made after every test; returns what went wrong."""
        problems = []
        if not self.stopped:
            if not self.alive():
                problems.append(
                    f"the server died during the test "
                    f"({describe_status(self.proc.returncode)})")
            else:
                status = self.stop()
                if status != 0:
                    problems.append(f"SIGTERM: {describe_status(status)}, not 0")
        else:
            self.kill()
        self.proc.stdout.close()
        log = self.stderr()
        if SANITIZER_REPORT.search(log):
            problems.append("a sanitizer reported a problem")
        if problems:
            problems.append(f"server stderr:\n{log[-6000:]}")
        self.log.close()
        return problems


def finish_all(servers):
    """Runs every server's after-test checks; fails the test if any failed."""
    import pytest  # here, not above: make bench uses this module without it

    problems = [p for s in servers for p in s.finish()]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def limit_descriptors(n):
    """A preexec_fn for start(): the server runs with RLIMIT_NOFILE n."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return limit


def run_server(binary, *args, env=None, **popen):
    """Runs the binary to completion (for arguments, or a start, it must
    refuse)."""
    return subprocess.run(tsan.command(binary, *args), stdin=subprocess.DEVNULL,
                          capture_output=True, env=server_env(env),
                          timeout=START_TIMEOUT, **popen)


# ---------------------------------------------------------------- clients


class Client:
    """One connection, with reads that wait at most TIMEOUT."""

    def __init__(self, port, host="127.0.0.1", timeout=TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.pending = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        """Sends all of data; fails if the server takes none of it for
        TIMEOUT. (sendall's timeout bounds the whole send instead: a few MiB
        to a server on a busy machine can take longer, while it reads on.)"""
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view):]
            except socket.timeout:
                raise socket.timeout(
                    f"the server took no byte for {self.sock.gettimeout()} s; "
                    f"{len(view)} of {len(data)} bytes still to send") from None

    def _fill(self, what):
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise AssertionError(
                f"no reply within {TIMEOUT} s while waiting for {what}; "
                f"had {bytes(self.pending[:200])!r}") from None
        if not chunk:
            raise AssertionError(
                f"connection closed while waiting for {what}; "
                f"had {bytes(self.pending[:200])!r}")
        self.pending += chunk

    def recv_exactly(self, n):
        while len(self.pending) < n:
            self._fill(f"{n} bytes")
        data = bytes(self.pending[:n])
        del self.pending[:n]
        return data

    def line(self):
        """The next reply line, with its line ending."""
        while b"\n" not in self.pending:
            self._fill("a line")
        end = self.pending.index(b"\n") + 1
        data = bytes(self.pending[:end])
        del self.pending[:end]
        return data

    def wait_closed(self):
        """Waits for the server to close the connection; returns what came
        before the close."""
        data = bytes(self.pending)
        self.pending.clear()
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return data
            except socket.timeout:
                raise AssertionError(
                    f"connection still open after {TIMEOUT} s") from None
            if not chunk:
                return data
            data += chunk

    def nothing_within(self, seconds):
        """True if no byte arrives within seconds (and the link stays open)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)
        self.pending += chunk
        return False

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Closes with RST instead of FIN (SO_LINGER with a zero timeout)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def ask(client, request):
    """Sends one request line and returns its reply line."""
    client.send(request + b"\n")
    return client.line()


def ask_many(client, requests):
    """Sends every request in one go, then reads one reply for each."""
    client.send(b"".join(r + b"\n" for r in requests))
    return [client.line() for _ in requests]


TCP_ESTABLISHED = 1  # tcp_state() of an open connection, linux/tcp.h


def tcp_state(client):
    """The connection's TCP state, as the kernel keeps it: a client can see
    that the server has dropped it without reading anything."""
    return client.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def unread_bytes(file):
    """How many bytes wait to be read in a socket or a pipe (a descriptor,
    or an object with fileno())."""
    return struct.unpack("i", fcntl.ioctl(file, termios.FIONREAD, b"\0" * 4))[0]


def send_without_reading(client, request):
    """Sends requests from a thread of its own, reading no reply, until
    the connection breaks or the server takes no byte for TIMEOUT seconds.
    Returns a function that tells how many bytes the server has taken so
    far: a wait_until progress."""
    sent = [0]

    def send():
        try:
            while True:
                client.send(request * 1000)
                sent[0] += len(request) * 1000
        except OSError:
            pass

    threading.Thread(target=send, daemon=True).start()
    return lambda: sent[0]


def in_parallel(n, work):
    """Runs work(i) for i in range(n) in n threads; returns the results.
    An exception (a failed assert) in any thread fails the caller."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return [f.result() for f in [pool.submit(work, i) for i in range(n)]]


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name: state, ppid, ...
    None if there is no such process."""
    try:
        text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def children(pid):
    """{child pid: state letter} for every child of the process; a zombie
    is 'Z'."""
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(entry.name)
            if fields is not None and fields[1] == str(pid):
                found[int(entry.name)] = fields[0]
    return found


def wait_until(condition, what, timeout=TIMEOUT, progress=None):
    """Polls condition() until it is true; fails after timeout seconds,
    saying what it waited for (what() if it is a function, for a message
    that shows the state at the end of the wait). With progress, a
    function whose value changes while the server works towards the
    condition (the bytes it has taken, say), the timeout counts from its
    last change: on a busy machine the way there can be long, but a server
    that stands still for timeout seconds fails, and so does one that is
    still on its way after ten times that."""
    began = time.monotonic()
    deadline = began + timeout
    last = progress() if progress else None
    while not condition():
        now = time.monotonic()
        if progress and progress() != last and now < began + 10 * timeout:
            last, deadline = progress(), now + timeout
        if now > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"still not {said} after {now - began:.0f} s"
                                 + (f", the last {timeout} s with no progress"
                                    if progress and now - began > timeout else ""))
        time.sleep(0.02)


def cpu_seconds(pid):
    """User plus system CPU time the process (and its waited-for children,
    none here) has used so far."""
    fields = proc_stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
