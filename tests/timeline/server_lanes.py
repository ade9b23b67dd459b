"""The server's side of a run: which thread or process made which system
call, for which client, from when to when.

strace names a socket by its descriptor, a small number the server reuses:
fd 5 may be A's socket now and C's a second later, and in v0.8 every child
holds its client on fd 5. So lanes() follows the descriptor tables as the
server changes them: accept() puts a client in the table of the process
that called it (strace prints the client's port, and each client knows its
own), close() takes it out, a thread (clone with CLONE_FILES) shares its
creator's table, and a process (fork) starts with a copy of it.

The calls are taken in the order strace wrote them, never by their times
(see strace_log.py): a call that waits (accept, select, wait4) where the
log shows its return, any other where it shows it made. That order is the
one the server made them in, however busy the machine was.

A port number is reused: an accept() that returned a connection from A's
port before A began to connect was another connection's, not A's; and a
client is accepted once.
"""

import dataclasses
import re

import strace_log

STARTS = {"clone", "clone3", "fork", "vfork"}
WAITS = {"accept": "accept", "accept4": "accept", "select": "select",
         "pselect6": "select", "poll": "poll", "wait4": "reap"}
FUTEX_WAKES = {"FUTEX_WAKE", "FUTEX_WAKE_PRIVATE"}
ON_CLIENTS = {"read", "write", "close"}
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
READY = re.compile(r"(?:in|out) \[([\d ]+)\]")


@dataclasses.dataclass
class Span:
    """One system call on a lane, in seconds since the scenario began."""
    what: str      # accept read write close select poll lock unlock
                   # futex wake start reap
    start: float
    end: float
    client: str    # the client whose socket it used ("" if none)
    text: str      # what it did, in a few words, for the reader
    returned_by: float = None  # it had surely returned by then
    key: str = ""  # futex and wake: the address of the lock's word

    @property
    def took(self):
        return self.end - self.start


@dataclasses.dataclass
class Received:
    """A signal, on the lane of the thread or process it was delivered to."""
    time: float
    name: str
    by_recorder: bool = False  # sent by the recorder, to stop the server


@dataclasses.dataclass
class Lane:
    """A thread or a process of the server."""
    tid: int
    kind: str      # "server" (the first), "thread", or "process"
    parent: int    # the tid that started it (0 for the server itself)
    born: float
    ended: float = None
    spans: list = dataclasses.field(default_factory=list)
    signals: list = dataclasses.field(default_factory=list)  # Received

    def clients(self):
        """The clients whose sockets this lane read or wrote, in order."""
        found = [s.client for s in self.spans
                 if s.what in ("read", "write") and s.client]
        return list(dict.fromkeys(found))

    @property
    def label(self):
        served = "".join(self.clients())
        return f"{self.kind} {self.tid}" + (f": {served}" if served else "")


def when(call):
    """Where a call counts, in the log's order: a call that waits (accept,
    select, wait4) where it returns, with the descriptor or the news it
    waited for; any other where it is made."""
    return call.exit_line if call.name in WAITS else call.entry_line


def started_child(call, files, found, at):
    """A clone or fork: the new thread shares the descriptor table, the new
    process gets a copy of it."""
    child = call.returned()
    if child is None or child <= 0:
        return None
    kind = "thread" if "CLONE_THREAD" in call.args else "process"
    files[child] = files[call.tid] if "CLONE_FILES" in call.args else dict(files[call.tid])
    found[child] = Lane(child, kind, call.tid, at(call.end))
    return "start", "", f"{kind} {child} started"


def on_socket(call, table):
    """A read, write or close on a client's socket, or None."""
    fd = call.args.split(",", 1)[0]
    client = table.get(int(fd)) if fd.isdigit() else None
    if client is None:
        return None
    if call.name == "close":
        del table[int(fd)]
        return call.name, client, f"close(fd {fd}: {client})"
    result = call.returned()
    if call.name == "read" and result == 0:
        said = f"0: {client} has closed its side"
    elif result is None or result < 0:
        said = call.result.split(" (")[0]
    else:
        said = f"{result} bytes"
    return call.name, client, f"{call.name}(fd {fd}: {client}) = {said}"


class Clients:
    """Which client an accepted connection is: by its port, if it came
    back after that client began to connect, and only once."""

    def __init__(self, ports, connected, at):
        self.ports = ports          # port -> client name
        self.connected = connected  # name -> when it began to connect
        self.at = at
        self.accepted = set()

    def of(self, call):
        port = PORT.search(call.args)
        name = self.ports.get(int(port[1]), "") if port else ""
        began = self.connected.get(name)
        if not name or name in self.accepted or (
                began is not None and self.at(call.returned_by) < began):
            return ""
        self.accepted.add(name)
        return name


def waited(call, table, clients, listeners):
    """accept, select, poll or wait4: a call made to wait for something."""
    what = WAITS[call.name]
    result = call.returned()
    if what == "accept" and result is not None and result >= 0:
        client = clients.of(call)
        if client:
            table[result] = client
        return what, client, f"accept() = fd {result}: {client or 'another client'}"
    if what in ("select", "poll"):
        ready = [table.get(int(fd)) or
                 ("the listening socket" if int(fd) in listeners else f"fd {fd}")
                 for group in READY.findall(call.result) for fd in group.split()]
        woke = ", ".join(ready) if ready else call.result
        return what, "", f"{call.name}() woke for {woke}"
    return what, "", f"{call.name}() = {call.result.split(' (')[0]}"


def lock(call):
    if "F_SETLK" not in call.args:
        return None  # fcntl for O_NONBLOCK and the like: not a lock
    if "F_UNLCK" in call.args:
        return "unlock", "", "fcntl(): unlock the list"
    return "lock", "", "fcntl(): lock the list (waits while another holds it)"


def futex(call):
    """A thread waiting for a lock another holds (FUTEX_WAIT), or letting
    go of one another waits for (FUTEX_WAKE); other futex calls are left
    out. An uncontended lock makes no system call at all."""
    address, op, *_ = [a.strip() for a in call.args.split(",")] + [""]
    if op.startswith("FUTEX_WAIT"):
        return "futex", "", f"futex({address}): waits for a lock another thread holds"
    woke = call.returned()
    if op in FUTEX_WAKES and woke:
        return "wake", "", f"futex({address}) = {woke}: lets go of a lock, wakes a waiter"
    return None  # a wake that woke no one, and the rarer operations


def lanes(log, ports, at, connected=None, recorder=None):
    """The lanes of the server, first the one strace started, then each
    thread or process in the order they started. ports maps each client's
    port to its name, connected each name to when it began to connect;
    at() turns strace's time into scenario seconds; a signal sent by the
    process recorder is the recorder's stop."""
    if not log.calls:
        return []
    first = min(log.calls, key=lambda call: call.entry_line).tid
    files = {first: {}}          # tid -> its descriptor table {fd: client}
    found = {first: Lane(first, "server", 0, at(log.calls[0].start))}
    listeners = {int(c.args.split(",")[0]) for c in log.calls if c.name == "listen"}
    clients = Clients(ports, connected or {}, at)
    for call in sorted(log.calls, key=when):
        table = files.setdefault(call.tid, {})
        lane = found.setdefault(call.tid, Lane(call.tid, "thread", 0, at(call.start)))
        if call.name in STARTS:
            kept = started_child(call, files, found, at)
        elif call.name in ON_CLIENTS:
            kept = on_socket(call, table)
        elif call.name in WAITS:
            kept = waited(call, table, clients, listeners)
        elif call.name == "fcntl":
            kept = lock(call)
        elif call.name == "futex":
            kept = futex(call)
        else:
            kept = None
        # What had returned before the scenario began was the start-up.
        if kept and at(call.returned_by) >= 0:
            what, client, text = kept
            key = call.args.split(",")[0] if what in ("futex", "wake") else ""
            lane.spans.append(Span(what, at(call.start), at(call.end), client, text,
                                   at(call.returned_by), key))
    for signal in log.signals:
        if signal.tid in found:
            found[signal.tid].signals.append(Received(
                at(signal.time), signal.name,
                recorder is not None and signal.sender == recorder))
    for end in log.exits:
        if end.tid in found:
            found[end.tid].ended = at(end.time)
    for lane in found.values():
        lane.spans.sort(key=lambda s: s.start)
    return sorted(found.values(), key=lambda lane: (lane.parent != 0, lane.born))


def read(path, ports, at, connected=None, recorder=None):
    return lanes(strace_log.read(path), ports, at, connected, recorder)
