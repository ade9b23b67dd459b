"""The scenario every stage runs, and the clients that play it.

Three clients, on one clock (seconds since the scenario began):

    time  A                       B                      C
    0.0   connects
    0.1   asks (request 1)
    0.3                           connects
    0.4                           asks (request 1)
    0.6   asks (request 2)                               connects
    0.7                                                  asks (a POST where
                                                         the stage has POST)
                                                         and leaves at once
    0.9                           asks (request 2)
    1.0                           waits for its replies
                                  (or to be cut off),
                                  leaves 0.2 s later
    1.1   sends half of request 3
    1.4   sends the other half
    1.7   leaves, once B and C
          have had a reply

A request is the stage's probe (tests/harness.py): `ping` to an echo stage,
a GET to a todo stage. Every wait is for an event, never for the machine
to be quick: A leaves only once B and C have had a reply, so "B was
answered while A was still there" is a fact about the server, not about
how fast this machine is. A stage whose row in tests/stages.txt says
`serial` serves one client at a time and cannot answer B or C while A is
connected: there A leaves at 1.7 without waiting, and the facts check
that B got nothing before. B stays 0.2 s after its replies, as a reader
would: on a serial stage C then waits for B as B waited for A.

A stage whose threads share the list under a lock (v0.6) is recorded from
a build that keeps the lock after a POST until another thread waits for it
(hold_lock.c). There, 0.2 s after its second request, and as long as C
has no reply, B asks again once answered: however late C's thread stores
the POST, a request comes after it to want the lock.

To leave, a client closes its side (shutdown: the server reads the end of
the stream), waits until the server has closed the connection too, then
closes its socket: so the picture shows the server's close() as well.

The clients are played by one thread, in a loop around select(), like the
v0.7 server: it makes each step when its time comes and writes down, with
the time, everything each client did and everything it received.
"""

import dataclasses
import selectors
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import TIMEOUT, probe  # noqa: E402

POST = (b"POST/task_04=write code/status\n", b"submit success\r\n")
LINGER = 0.2  # seconds B stays once it has its replies
LIMIT = 30.0  # seconds: the scenario ends by then, whatever the server does


def others_answered(me, everyone):
    return all(c.replies for c in everyone.values() if c is not me)


def answered_or_cut_off(me, everyone):
    return me.replies == len(me.expected) or me.cut_off


def closed_by_server(me, everyone):
    return me.cut_off


def post_answered(me, everyone):
    return bool(everyone["C"].replies) or me.cut_off


def holds_lock(features):
    """True for a stage whose threads share the list under a lock: it is
    recorded from the build in hold_lock.c."""
    return {"threads", "post"} <= features


def leave(at=0.0, once=None, after=None):
    """Closes its side, then its socket once the server has closed."""
    return [Step(at, "leave", once=once, after=after),
            Step(at, "close", once=closed_by_server)]


@dataclasses.dataclass
class Step:
    at: float                 # not before this many seconds into the run,
    do: str                   # connect, send, ask_until, wait, leave or close
    data: bytes = b""
    reply: bytes = b""        # for the send that ends a request: its reply
    once: object = None       # and not before once(client, everyone) is true
    after: float = None       # and not before this long after the step before
    until: object = None      # ask_until: sends again until until(client, everyone)

    def earliest(self, me):
        if self.after is None:
            return self.at
        return max(self.at, me.last_step + self.after)

    def due(self, now, me, everyone):
        if now < self.earliest(me):
            return False
        return self.once is None or self.once(me, everyone)

    def next_time(self, now, me):
        """When to look again, if nothing arrives before."""
        return self.earliest(me) if now < self.earliest(me) else LIMIT


def script(features):
    """Each client's steps, for a stage with these features."""
    ask, reply = probe(features)
    post, posted = POST if "post" in features else (ask, reply)
    half = len(ask) // 2
    return {
        "A": [Step(0.0, "connect"),
              Step(0.1, "send", ask, reply),
              Step(0.6, "send", ask, reply),
              Step(1.1, "send", ask[:half]),
              Step(1.4, "send", ask[half:], reply),
              *leave(1.7, once=None if "serial" in features else others_answered)],
        "B": [Step(0.3, "connect"),
              Step(0.4, "send", ask, reply),
              Step(0.9, "send", ask, reply),
              *([Step(0.9, "ask_until", ask, reply, once=answered_or_cut_off,
                      after=LINGER, until=post_answered)] if holds_lock(features) else []),
              Step(1.0, "wait", once=answered_or_cut_off),
              *leave(after=LINGER)],
        "C": [Step(0.6, "connect"),
              Step(0.7, "send", post, posted),
              *leave(0.7)],
    }


@dataclasses.dataclass
class Event:
    """Something a client did or saw. A send or reply names its request
    (1, 2, ...; 0 for the first half of one)."""
    t: float
    client: str
    kind: str   # connect send leave close | recv reply eof | error
    request: int = 0
    data: bytes = b""
    note: str = ""


class Client:
    def __init__(self, name, steps, now, events):
        self.name = name
        self.steps = steps
        self.now = now          # seconds since the scenario began
        self.events = events    # where record() writes its Events
        self.sock = None
        self.port = None        # its own port: how the trace names it
        self.expected = []      # the reply each request it sent should get
        self.received = bytearray()
        self.replies = 0
        self.cut_off = False    # the server closed or reset the connection
        self.last_step = 0.0    # when it made its last step

    def record(self, kind, request=0, data=b"", note="", at=None):
        """Writes the event down, at the time given or now; returns its time."""
        at = self.now() if at is None else at
        self.events.append(Event(at, self.name, kind, request, data, note))
        return at

    def connect(self, server_port, selector):
        self.record("connect")
        self.sock = socket.create_connection(("127.0.0.1", server_port), timeout=TIMEOUT)
        self.port = self.sock.getsockname()[1]
        selector.register(self.sock, selectors.EVENT_READ, self)

    def send(self, step):
        request = len(self.expected) + 1 if step.reply else 0
        if step.reply:
            self.expected.append(step.reply)
        self.record("send", request, step.data)
        try:
            self.sock.sendall(step.data)
        except OSError as error:  # the server has closed: EPIPE or a reset
            self.record("error", note=f"send: {error.strerror}")

    def receive(self, selector):
        """Reads what has come; each reply ends with a newline, so the
        k-th newline completes the reply to request k."""
        try:
            data = self.sock.recv(1 << 16)
        except OSError as error:  # a reset
            data, note = b"", f"recv: {error.strerror}"
        else:
            note = ""
        if not data:
            self.record("eof", note=note)
            self.cut_off = True
            selector.unregister(self.sock)
            return
        got = self.record("recv", data=data)
        self.received += data
        lines = self.received.split(b"\n")[:-1]
        while len(lines) > self.replies:
            line = lines[self.replies] + b"\n"
            wanted = self.expected[self.replies:self.replies + 1]
            self.replies += 1
            self.record("reply", self.replies, line,
                        "" if [line] == wanted else f"expected {wanted}", at=got)

    def leave(self):
        """Closes its side: the server reads the end of the stream. If the
        server has closed the connection already, there is nothing to say."""
        if self.cut_off:
            self.record("leave", note="the server had closed the connection")
            return
        self.record("leave")
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as error:  # reset by the server meanwhile
            self.record("error", note=f"shutdown: {error.strerror}")

    def close(self, selector):
        if not self.cut_off:
            selector.unregister(self.sock)
        self.record("close")
        self.sock.close()

    def make(self, step, server_port, selector, everyone):
        self.last_step = self.now()
        if step.do == "connect":
            self.connect(server_port, selector)
        elif step.do == "send":
            self.send(step)
        elif step.do == "ask_until" and not step.until(self, everyone):
            self.send(step)
            self.steps.insert(0, step)
        elif step.do == "leave":
            self.leave()
        elif step.do == "close":
            self.close(selector)


def play(server_port, features):
    """Plays the scenario against a server; returns (the monotonic time it
    began, the events, {each client's port: its name})."""
    events = []
    start = time.monotonic()

    def now():
        return time.monotonic() - start

    everyone = {name: Client(name, steps, now, events)
                for name, steps in script(features).items()}
    with selectors.DefaultSelector() as selector:
        while any(c.steps for c in everyone.values()) and now() < LIMIT:
            for client in everyone.values():
                while client.steps and client.steps[0].due(now(), client, everyone):
                    client.make(client.steps.pop(0), server_port, selector, everyone)
            waiting = [c.steps[0].next_time(now(), c) for c in everyone.values() if c.steps]
            if waiting:
                for key, _ in selector.select(max(0.0, min(waiting) - now())):
                    key.data.receive(selector)
        for client in everyone.values():
            if client.steps and client.sock and client.sock.fileno() != -1:
                client.record("close", note="the scenario's time is up")
                client.sock.close()
    ports = {c.port: c.name for c in everyone.values() if c.port}
    return start, events, ports
