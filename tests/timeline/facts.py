"""What a run shows, computed from what was recorded: the facts the tests
assert, and the one-line caption the picture carries.

Every fact here compares times that causality orders, never two times a
fast or slow machine could swap: a client's send or leave is written down
before the call, a byte received after it, so "B's first byte came after A
left" holds only if the server really waited for A to leave. On the
server's side, a call's start comes after it was made and its returned_by
after it returned (strace_log.py); its end, from -T, is for drawing.

Each stage's caption tells its own idea (its features in tests/stages.txt
say which), in numbers taken from the run.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import STAGES  # noqa: E402

NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four"}


def events(run, client, kind):
    return [e for e in run.events if e.client == client and e.kind == kind]


def first(run, client, kind):
    """When the client first did or saw this, or None."""
    found = events(run, client, kind)
    return found[0].t if found else None


def requests(run, client):
    """The client's sends that ended a request."""
    return [e for e in events(run, client, "send") if e.request]


def clients(run):
    return list(dict.fromkeys(e.client for e in run.events))


def left(run, client):
    """When the client began to leave, or None."""
    return first(run, client, "leave")


def cut_off(run, client):
    """When the server closed the connection before the client left, or
    None if it did not."""
    closed, gone = first(run, client, "eof"), left(run, client)
    return closed if closed is not None and (gone is None or closed < gone) else None


def answered_while_connected(run, client, other):
    """The client had a reply before the other one left."""
    reply, gone = first(run, client, "reply"), left(run, other)
    return reply is not None and gone is not None and reply < gone


def nothing_until_left(run, client, other):
    """No byte reached the client before the other one left."""
    got, gone = first(run, client, "recv"), left(run, other)
    return gone is not None and (got is None or got > gone)


def io_lanes(run):
    """The lanes that read or wrote any client's socket."""
    return [lane for lane in run.lanes if lane.clients()]


def spans(run, what):
    return [s for lane in run.lanes for s in lane.spans if s.what == what]


def accepted(run, client):
    """When accept() returned the client's connection, or None."""
    ends = [s.end for s in spans(run, "accept") if s.client == client]
    return ends[0] if ends else None


def lane_of(run, client):
    """The lane that read and wrote the client's socket, or None."""
    found = [lane for lane in run.lanes if client in lane.clients()]
    return found[0] if found else None


def lock_handoffs(run):
    """(waiter lane, its futex wait, waker lane, the wake that ended it):
    each time a thread slept waiting for a lock until another let it go.
    The wake began after the wait did and before the wait had returned."""
    found = []
    for lane in run.lanes:
        for wait in [s for s in lane.spans if s.what == "futex"]:
            wakes = [(other, wake) for other in run.lanes if other is not lane
                     for wake in other.spans if wake.what == "wake" and wake.key == wait.key
                     and wait.start <= wake.start <= wait.returned_by]
            if wakes:
                found.append((lane, wait, *max(wakes, key=lambda w: w[1].start)))
    return found


def recorder_stop(run):
    """When the recorder sent the server its SIGTERM, or None."""
    stops = [s.time for lane in run.lanes for s in lane.signals if s.by_recorder]
    return stops[0] if stops else None


def split_request(run, client="A"):
    """For the request the client sent in two halves: (the send of the
    first half, the send of the rest, how many reads of the client's socket
    returned bytes from the first half's send to the reply's write, how
    many replies the request got); None without such a request."""
    sends = events(run, client, "send")
    halves = [i for i, e in enumerate(sends) if not e.request and i + 1 < len(sends)]
    if not halves:
        return None
    half, rest = sends[halves[0]], sends[halves[0] + 1]
    replies = [e for e in events(run, client, "reply") if e.request == rest.request]
    lane = lane_of(run, client)
    reads = 0
    if lane is not None:
        writes = [s.start for s in lane.spans if s.what == "write" and s.client == client
                  and s.start > rest.t]
        until = writes[0] if writes else run.length
        reads = len([s for s in lane.spans if s.what == "read" and s.client == client
                     and half.t < s.returned_by and s.start < until
                     and " = 0: " not in s.text])
    return half, rest, reads, len(replies)


def seconds(t):
    return f"{t:.1f} s" if t >= 1 else f"{t * 1000:.0f} ms" if t >= 0.001 else "under 1 ms"


def listed(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def caption(run):
    """One line saying what the run shows, in the scenario's terms: A came
    first and talked slowly, B came while A was served."""
    said = what_happened(run)
    return f"{said} (clients' side only: {run.untraced})" if run.untraced else said


def what_happened(run):
    if cut_off(run, "A") is not None:
        asked = len(requests(run, "A"))
        unanswered = asked - len(events(run, "A", "reply"))
        return (f"The server read A once, answered and closed the connection: "
                f"{unanswered} of A's {asked} requests got no reply")
    if nothing_until_left(run, "B", "A"):
        return one_at_a_time(run)
    asked, answered = requests(run, "B")[0].t, first(run, "B", "reply")
    took = f"B's first reply took {seconds(answered - asked)}" if answered else "B got no reply"
    lanes = io_lanes(run)
    if not lanes:
        return f"{took}, while A was still connected"
    names = listed(clients(run))
    if len(lanes) == 1:
        return (f"One thread served {names} in turns, woken by "
                f"{len(spans(run, 'select'))} select() calls; {took}")
    kind = "processes" if all(lane.kind == "process" for lane in lanes) else "threads"
    number = NUMBERS.get(len(lanes), str(len(lanes)))
    together = " at once" if all_alive_at_once(lanes, run.length) else ""
    features = STAGES.get(run.stage, frozenset())
    if kind == "threads" and "post" in features:
        return who_waited_for_the_lock(run)
    if kind == "threads" and "get" in features:
        return f"{number} threads read the list{together}, {no_lock_waits(run)}; {took}"
    if kind == "threads" and "list" in features and split_request(run):
        return f"A thread for each client; {halves(run)}"
    return f"{number} {kind} served {names}{together}; {took}, while A was still connected"


def one_at_a_time(run):
    """v0.2: B waits for A, and C for B."""
    waited = (first(run, "B", "recv") or run.length) - first(run, "B", "connect")
    accept = accepted(run, "B")
    where = " in the backlog" if accept and accept > left(run, "A") else ""
    said = f"B waited {seconds(waited)}{where} until A left"
    if left(run, "B") is not None and nothing_until_left(run, "C", "B"):
        said += ", and C until B left"
    return said


def halves(run):
    """v0.4: the request sent in two halves."""
    half, rest, reads, replies = split_request(run)
    times = {1: "once", 2: "twice"}.get(reads, f"{reads} times")
    answered = "one reply" if replies == 1 else f"{replies} replies"
    return (f"A's request {rest.request} came in two halves {seconds(rest.t - half.t)} apart: "
            f"its thread read {times}, then wrote {answered}")


def no_lock_waits(run):
    """v0.5: the threads only read the list, with no lock."""
    waits = spans(run, "futex")
    if not waits:
        return "with no lock: no thread waited for another"
    return f"with no lock of their own; {len(waits)} futex() waits (the C library's locks)"


def who_waited_for_the_lock(run):
    """v0.6: the thread that waited for the lock, and for how long."""
    handoffs = lock_handoffs(run)
    if not handoffs:
        return "No thread waited for the list's lock in this run"
    waiter, wait, holder, _ = max(handoffs, key=lambda h: h[1].took)
    return (f"The thread for {listed(waiter.clients()) or waiter.tid} waited "
            f"{seconds(wait.took)} in futex() for the lock, held by the thread for "
            f"{listed(holder.clients()) or holder.tid} after its POST")


def all_alive_at_once(lanes, end):
    """True if there was a moment when every one of these lanes existed."""
    last_born = max(lane.born for lane in lanes)
    first_ended = min(end if lane.ended is None else lane.ended for lane in lanes)
    return last_born < first_ended
