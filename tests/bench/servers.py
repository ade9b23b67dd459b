"""Starting a row's server for a cell, finding its port, stopping its whole
process tree."""

import contextlib
import os
import signal
import socket
import subprocess

from harness import proc_stat, read_first_line

from .accounting import tree, wait_until


class Running:
    """A started server: its root process and the port it listens on."""

    def __init__(self, spec, proc, port=None):
        self.spec, self.proc, self.port = spec, proc, port
        if port is None:
            line = read_first_line(proc.stdout, 30).decode(errors="replace")
            if not line.startswith("listening on "):
                self.stop()
                raise RuntimeError(f"{spec.name}: no 'listening on' line, "
                                   f"got {line!r}")
            self.port = int(line.rsplit(":", 1)[1])

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        """SIGTERM to every process of the tree, by PID, children first;
        SIGKILL to what is left after 5 seconds."""
        procs = tree(self.pid)
        for pid in sorted(procs, key=lambda p: p == self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for pid in procs:
            if not wait_until(lambda: (proc_stat(pid) or ["Z"])[0] == "Z", 5):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.proc.stdout:
            self.proc.stdout.close()


def start(spec, scenario):
    """Starts the row's server for scenario. WORKERS, the size of a pool, is
    every connection the scenario opens: a pool's worker serves one
    connection at a time. Servers that have no pool ignore it."""
    if spec.is_redis:
        return start_redis(spec)
    env = dict(os.environ, **spec.env,
               WORKERS=str(scenario.connections + scenario.idle))
    return Running(spec, subprocess.Popen(
        [*spec.command, "0"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_call(port, command):
    """Sends one command (RESP) and returns the first reply line."""
    parts = command.split(b" ", 2)
    message = b"*%d\r\n" % len(parts) + b"".join(
        b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(message)
        return s.recv(100)


def start_redis(spec):
    """Redis on a free port, in memory only, with the three tasks stored."""
    port = free_port()
    proc = subprocess.Popen(
        [*spec.command, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", "", "--loglevel", "warning"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    server = Running(spec, proc, port)

    def answers():
        try:
            return redis_call(port, b"PING") == b"+PONG\r\n"
        except OSError:
            return False

    if not wait_until(answers, 10):
        server.stop()
        raise RuntimeError("redis-server did not answer PING within 10 s")
    for task, value in ((b"task_01", b"see someone"), (b"task_02", b"read book"),
                        (b"task_03", b"play basketball")):
        redis_call(port, b"SET " + task + b" " + value)
    return server
