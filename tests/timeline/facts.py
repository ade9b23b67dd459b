"""What a run shows, computed from what was recorded: the facts the tests
assert, and the one-line caption the picture carries.

Every fact here compares times that causality orders, never two times a
fast or slow machine could swap: a client's send or leave is written down
before the call, a byte received after it, so "B's first byte came after A
left" holds only if the server really waited for A to leave.
"""

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
        unanswered = len(requests(run, "A")) - len(events(run, "A", "reply"))
        return (f"The server answered A once and closed the connection: "
                f"A's {unanswered} other requests got no reply")
    if nothing_until_left(run, "B", "A"):
        waited = (first(run, "B", "recv") or run.length) - first(run, "B", "connect")
        accept = accepted(run, "B")
        where = " in the backlog" if accept and accept > left(run, "A") else ""
        return f"B waited {seconds(waited)}{where} while A was served"
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
    return f"{number} {kind} served {names}{together}; {took}, while A was still connected"


def all_alive_at_once(lanes, end):
    """True if there was a moment when every one of these lanes existed."""
    last_born = max(lane.born for lane in lanes)
    first_ended = min(end if lane.ended is None else lane.ended for lane in lanes)
    return last_born < first_ended
