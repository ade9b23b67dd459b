"""Draws a run: an SVG swimlane chart, and the same run as text.

One lane per client (A, B, C), then one per thread or process of the
server; time runs left to right, on one scale for every lane.

On a client's lane: a thin line while it is connected, a pale bar from
each request to its reply (the client waiting), a tick for each send and a
dot for each reply, both numbered by request, a short tick where it
leaves, an x where the server closed the connection first. A mark that
would fall on the one before it (a reply and the close right after it,
two replies read at once) is set just right of it, in their order: no
mark hides another.

On a server lane: a bar for each system call that blocked (took BLOCKED or
longer: a thread waiting in read() for A is a long bar), a thin tick for
each quick one, a dashed line from each write() to the client that got
those bytes, a dotted line from each clone() or fork() to the lane it
started, a line from a futex() wake to the thread it woke, and a triangle
for each signal, on the lane of the thread or process it was delivered to.
The recorder's SIGTERM, which ends every run, is grey, with a line across
the lanes: it is the recorder stopping the server, not part of the stage.

The legend lists what the picture shows, and nothing else.
"""

from collections import Counter
from xml.sax.saxutils import escape

import facts

BLOCKED = 0.001  # seconds: a call that took this long waited for something

WIDTH, LEFT, RIGHT, TOP, LANE = 980, 190, 30, 104, 30
COLORS = {"accept": "#8da0cb", "read": "#66c2a5", "write": "#1b9e77",
          "select": "#e78ac3", "poll": "#e78ac3", "lock": "#fc8d62",
          "unlock": "#fdb462", "futex": "#fc8d62", "wake": "#d95f02",
          "reap": "#a6d854", "close": "#888888", "start": "#555555",
          "wait": "#fde0b6"}
STOP = "#999999"
STYLE = f"""
text {{ font: 11px sans-serif; fill: #222; }}
.caption {{ font: 13px sans-serif; }} .title {{ font: bold 15px sans-serif; }}
.small {{ font: 9px sans-serif; fill: #555; }} .inside {{ font: 9px sans-serif; fill: #fff; }}
.life {{ stroke: #bbb; stroke-width: 2; }} .grid {{ stroke: #eee; }}
.reply-line {{ stroke: {COLORS["write"]}; stroke-dasharray: 3 2; }}
.spawn {{ stroke: #555; stroke-dasharray: 1 2; }}
.wake-line {{ stroke: {COLORS["wake"]}; stroke-width: 1.5; }}
.held {{ fill: none; stroke: {COLORS["wake"]}; stroke-width: 1.5; stroke-dasharray: 3 2; }}
.signal {{ fill: #c00; }} .cut, .error {{ fill: #c00; font-weight: bold; }}
text.signal {{ font: 9px sans-serif; }}
.stop {{ fill: {STOP}; }} .stop-line {{ stroke: {STOP}; stroke-dasharray: 4 3; }}
text.stop {{ font: 9px sans-serif; fill: #777; }}
.send {{ fill: {COLORS["write"]}; }} .reply {{ fill: {COLORS["read"]}; }}
.leave {{ fill: {COLORS["close"]}; }}
""" + "\n".join(f".{what} {{ fill: {color}; }}" for what, color in COLORS.items())

# How far each client mark reaches either side of its time, in pixels.
HALF = {"send": 3, "reply": 4.5, "cut": 4, "error": 4, "leave": 1.5}
GAP = 1
CHAR = 5.5  # the width of a character of the 9 px labels, near enough


def element(tag, text="", title="", **attributes):
    """<tag a="1"...>text</tag>; class_ is written class, text_anchor
    text-anchor."""
    said = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
                    for k, v in attributes.items())
    inside = (f"<title>{escape(title)}</title>" if title else "") + escape(text)
    return f"<{tag} {said}>{inside}</{tag}>" if inside else f"<{tag} {said}/>"


def tick_step(length):
    """The time between two labelled ticks: at most a dozen of them."""
    for step in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0):
        if length / step <= 12:
            return step
    return 10.0


def ticks(length):
    """The times of the labelled ticks, from 0 to length."""
    step = tick_step(length)
    return [i * step for i in range(int(length / step) + 1)]


def span_title(span):
    return f"{span.text}: {span.start:.3f} to {span.end:.3f} s ({facts.seconds(span.took)})"


def client_events(run, name):
    return [e for e in run.events if e.client == name]


def client_life(run, name):
    """When the client connected, and when its connection ended."""
    mine = client_events(run, name)
    ends = [e.t for e in mine if e.kind in ("close", "eof")]
    return mine[0].t, (ends[0] if ends else run.length)


def waits(run, name):
    """(request, from, to): each request, from its send to its reply (or
    to the end of the connection, if no reply came)."""
    mine = client_events(run, name)
    replies = {e.request: e.t for e in mine if e.kind == "reply"}
    end = client_life(run, name)[1]
    return [(e.request, e.t, replies.get(e.request, end))
            for e in mine if e.kind == "send" and e.request]


def mark_kind(event, cut):
    """The mark a client's event gets on its lane, or None."""
    if event.kind in ("send", "reply", "error", "leave"):
        return event.kind
    if event.kind == "eof" and event.t == cut:
        return "cut"
    return None


def placed(run, name, x):
    """[(event, kind, drawn x)]: the client's marks, each at its time, or
    just right of the one before if it would fall on it."""
    cut = facts.cut_off(run, name)
    out, right = [], float("-inf")
    for e in client_events(run, name):
        kind = mark_kind(e, cut)
        if kind is not None:
            at = max(x(e.t), right + GAP + HALF[kind])
            right = at + HALF[kind]
            out.append((e, kind, round(at, 1)))
    return out


def drawn_at(marks, x):
    """A function giving where an event is drawn: its mark, if it has one;
    bytes received are drawn where the reply they completed is."""
    by_time = {}
    for e, kind, at in marks:
        if kind == "reply":
            by_time.setdefault(e.t, at)
    return lambda e: by_time.get(e.t, x(e.t))


# ---------------------------------------------------------------- SVG


def client_lane(run, name, y, x, marks):
    begin, end = client_life(run, name)
    out = [element("text", f"client {name}", x=10, y=y + 4),
           element("line", class_="life", x1=x(begin), y1=y, x2=x(end), y2=y)]
    sent = {e.request: at for e, kind, at in marks if kind == "send" and e.request}
    answered = {e.request: at for e, kind, at in marks if kind == "reply"}
    for request, since, until in waits(run, name):
        left = sent.get(request, x(since))
        right = answered.get(request, x(until))
        out.append(element("rect", class_="wait", x=left, y=y - 6,
                           width=max(right - left, 1), height=12,
                           title=f"waiting for reply {request}: {facts.seconds(until - since)}"))
    for e, kind, at in marks:
        said = f"{e.t:.3f} s: {e.kind} {e.request or ''} {e.data[:40]!r} {e.note}"
        if kind == "send":
            out.append(element("rect", class_="send", x=at - 1, y=y - 9,
                               width=2, height=18, title=said))
            out.append(element("text", str(e.request or "½"), class_="small send-label",
                               x=at, y=y - 11, text_anchor="middle"))
        elif kind == "reply":
            out.append(element("circle", class_="reply", cx=at, cy=y, r=4, title=said))
            out.append(element("text", str(e.request), class_="small reply-label",
                               x=at, y=y + 16, text_anchor="middle"))
        elif kind in ("cut", "error"):
            out.append(element("text", "x" if kind == "cut" else "!", class_=kind,
                               x=at, y=y + 4, text_anchor="middle", title=said))
        elif kind == "leave":
            out.append(element("rect", class_="leave", x=at - 1, y=y - 6,
                               width=2, height=12, title=said))
    return [f'<g class="lane client" id="lane-{name}">', *out, "</g>"]


def signal_labels(signals, x):
    """Where each signal's name goes: right of its triangle, after the name
    before it, and inside the picture."""
    starts, widths = [], [CHAR * len(s.name) for s in signals]
    for s, width in zip(signals, widths):
        start = x(s.time) + 5
        if starts:
            start = max(start, starts[-1] + widths[len(starts) - 1] + 4)
        starts.append(start)
    limit = WIDTH - 4
    for i in reversed(range(len(starts))):
        starts[i] = min(starts[i], limit - widths[i])
        limit = starts[i] - 4
    return [round(start, 1) for start in starts]


def server_lane(lane, y, x, length, holds):
    """holds: (from, to) when this lane held a lock another lane waited
    for: from that wait's start to the wake that ended it."""
    end = lane.ended if lane.ended is not None else length
    out = [element("text", lane.label, x=10, y=y + 4),
           element("line", class_="life", x1=x(max(lane.born, 0)), y1=y, x2=x(end), y2=y)]
    for since, until in holds:
        out.append(element("rect", class_="held", x=x(since), y=y - 5,
                           width=max(x(until) - x(since), 1), height=10,
                           title=f"holds a lock another thread waits for, "
                                 f"{since:.3f} to {until:.3f} s"))
    for span in lane.spans:
        left = x(max(span.start, 0))
        width = x(max(span.end, 0)) - left
        if span.took >= BLOCKED:
            out.append(element("rect", class_=f"bar {span.what}", x=left, y=y - 7,
                               width=max(width, 1), height=14, title=span_title(span)))
            label = f"{span.what} {span.client}".strip()
            if width > 7 * len(label):
                out.append(element("text", label, class_="inside", x=left + 3, y=y + 3))
        else:
            out.append(element("rect", class_=f"tick {span.what}", x=left - 0.75,
                               y=y - 9, width=1.5, height=18, title=span_title(span)))
    signals = sorted(lane.signals, key=lambda s: s.time)
    for s, start in zip(signals, signal_labels(signals, x)):
        kind = "stop" if s.by_recorder else "signal"
        said = (f"{s.name} at {s.time:.3f} s" +
                (": the recorder stops the server" if s.by_recorder else ""))
        at = x(s.time)
        out.append(element("path", class_=kind, d=f"M{at - 4},{y - 11} L{at + 4},{y - 11} "
                           f"L{at},{y - 4} Z", title=said))
        out.append(element("text", s.name, class_=kind, x=start, y=y - 11, title=said))
    return [f'<g class="lane server" id="lane-{lane.tid}">', *out, "</g>"]


def reply_lines(run, rows, x, marks):
    """A dashed line from each write to a client to where that client got
    the bytes (its first receive after the write began)."""
    out = []
    for lane in run.lanes:
        for span in lane.spans:
            if span.what != "write" or span.client not in rows:
                continue
            got = [e for e in client_events(run, span.client)
                   if e.kind == "recv" and e.t >= span.start]
            if got:
                where = drawn_at(marks[span.client], x)
                out.append(element("line", class_="reply-line", x1=x(span.end),
                                   y1=rows[lane.tid], x2=where(got[0]), y2=rows[span.client]))
    return out


def spawn_lines(run, rows, x):
    return [element("line", class_="spawn", x1=x(lane.born), y1=rows[lane.parent],
                    x2=x(lane.born), y2=rows[lane.tid])
            for lane in run.lanes if lane.parent in rows]


def wake_lines(run, rows, x):
    """A line from each futex() wake to the end of the wait it ended."""
    return [element("line", class_="wake-line", x1=x(wake.start), y1=rows[waker.tid],
                    x2=x(max(wait.end, wake.start)), y2=rows[waiter.tid],
                    title=f"thread {waker.tid} lets go of the lock at {wake.start:.3f} s: "
                          f"thread {waiter.tid} takes it")
            for waiter, wait, waker, wake in facts.lock_handoffs(run)]


def stop_line(run, x, top, bottom):
    """The recorder's stop: a grey line across the lanes, said above them."""
    stop = facts.recorder_stop(run)
    if stop is None:
        return []
    said = "the recorder stops the server (SIGTERM)"
    return [element("line", class_="stop-line", x1=x(stop), y1=top - 12, x2=x(stop), y2=bottom),
            element("text", said, class_="stop", x=x(stop) - 3, y=top - 16,
                    text_anchor="end")]


def axis(length, x, top, bottom):
    out = []
    for t in ticks(length):
        out.append(element("line", class_="grid", x1=x(t), y1=top, x2=x(t), y2=bottom))
        out.append(element("text", f"{t:g} s", class_="small", x=x(t) - 6, y=top - 4))
    return out


# What a legend entry says, for each kind of call or mark a picture may
# show, in the legend's order.
CALLS = [("wait", "client waits for a reply"), ("accept", "accept"), ("read", "read"),
         ("write", "write"), ("select", "select"), ("poll", "poll"),
         ("lock", "lock (fcntl)"), ("unlock", "unlock (fcntl)"),
         ("futex", "waits for a lock (futex)"), ("held", "holds the lock while another waits"),
         ("wake", "lets the lock go, wakes the waiter (futex)"),
         ("reap", "wait4"), ("close", "close"), ("start", "clone or fork")]
MARKS = [("send", "a send, numbered by request"), ("half", "half a request"),
         ("reply", "a whole reply"), ("leave", "leaves (shutdown)"),
         ("cut", "closed by the server first"), ("error", "a call failed"),
         ("reply-line", "a reply on its way"), ("spawn", "a thread or process starts"),
         ("wake-line", "the waiter takes the lock"), ("signal", "a signal received"),
         ("stop", "the recorder's stop")]


def shown(run, marks):
    """The kinds of calls and marks the picture of this run has."""
    used = {span.what for lane in run.lanes for span in lane.spans}
    for name, placed_marks in marks.items():
        used |= {kind for _, kind, _ in placed_marks}
        used |= {"half" for e, kind, _ in placed_marks if kind == "send" and not e.request}
        used |= {"wait" for _ in waits(run, name)}
    if any(s.what == "write" and s.client for lane in run.lanes for s in lane.spans):
        used.add("reply-line")
    if any(lane.parent for lane in run.lanes):
        used.add("spawn")
    if facts.lock_handoffs(run):
        used |= {"wake-line", "held"}
    signals = [s for lane in run.lanes for s in lane.signals]
    if any(not s.by_recorder for s in signals):
        used.add("signal")
    if any(s.by_recorder for s in signals):
        used.add("stop")
    return used


def legend_item(what, said, left, y):
    """One entry: a sample of the mark, then what it means."""
    if what in COLORS:
        sample = element("rect", class_=what, x=left, y=y - 9, width=12, height=10)
    elif what == "held":
        sample = element("rect", class_=what, x=left, y=y - 8, width=12, height=8)
    elif what in ("reply-line", "spawn", "wake-line"):
        sample = element("line", class_=what, x1=left, y1=y - 4, x2=left + 12, y2=y - 4)
    elif what == "reply":
        sample = element("circle", class_=what, cx=left + 6, cy=y - 4, r=4)
    elif what in ("send", "leave"):
        sample = element("rect", class_=what, x=left + 5, y=y - 9, width=2, height=10)
    elif what in ("signal", "stop"):
        sample = element("path", class_=what,
                         d=f"M{left + 2},{y - 9} L{left + 10},{y - 9} L{left + 6},{y - 2} Z")
    else:  # cut, error, half: a sample of the text they are
        sample = element("text", {"cut": "x", "error": "!", "half": "½"}[what],
                         class_=what if what != "half" else "small", x=left + 6, y=y,
                         text_anchor="middle")
    return [f'<g class="legend" id="legend-{what}">', sample,
            element("text", said, class_="small", x=left + 16, y=y), "</g>"]


def legend(used, y):
    """The entries for what the picture shows, calls first, as many to a
    row as fit; returns the elements and the height they take."""
    out, left, top = [], LEFT, y
    for what, said in CALLS + MARKS:
        if what not in used:
            continue
        width = 24 + CHAR * len(said)
        if left + width > WIDTH - RIGHT and left > LEFT:
            left, y = LEFT, y + 16
        out += legend_item(what, said, left, y)
        left += width + 10
    return out, y - top + 16


def plotted(run):
    """The time the drawing spans: the run, and a little room after it."""
    return max(run.length * 1.06, 0.5)


HELD = ("This run is of the build in tests/timeline/hold_lock.c: a thread that has stored "
        "a POST keeps the lock until another thread sleeps waiting for it, then 0.1 s more.")


def svg(run):
    """The run as an SVG document."""
    length = plotted(run)
    plot = WIDTH - LEFT - RIGHT

    def x(t):
        return round(LEFT + t / length * plot, 1)

    names = facts.clients(run)
    marks = {name: placed(run, name, x) for name in names}
    rows = {name: TOP + 20 + i * LANE for i, name in enumerate(names)}
    gap = TOP + 20 + len(names) * LANE + 10
    rows.update({lane.tid: gap + 20 + i * LANE for i, lane in enumerate(run.lanes)})
    bottom = gap + 20 + max(len(run.lanes), 1) * LANE
    body = [element("text", run.stage, class_="title", x=10, y=22),
            element("text", facts.what_happened(run), class_="caption", x=10, y=44),
            element("text", footnote(run), class_="small", x=10, y=60)]
    if run.held:
        body.append(element("text", HELD, class_="small build-note", x=10, y=74))
    body += axis(length, x, TOP, bottom - 10)
    for name in names:
        body += client_lane(run, name, rows[name], x, marks[name])
    body.append(element("text", "server (from strace -f)" if run.lanes else
                        f"server: not shown, {run.untraced}", class_="small", x=10, y=gap + 4))
    handoffs = facts.lock_handoffs(run)
    for lane in run.lanes:
        holds = [(wait.start, wake.start) for _, wait, waker, wake in handoffs if waker is lane]
        body += server_lane(lane, rows[lane.tid], x, length, holds)
    body += spawn_lines(run, rows, x) + reply_lines(run, rows, x, marks) + wake_lines(run, rows, x)
    body += stop_line(run, x, TOP, bottom - 10)
    key, key_height = legend(shown(run, marks), bottom + 10)
    height = bottom + 20 + key_height
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        f"<style>{STYLE}</style>",
        element("rect", fill="#fff", x=0, y=0, width=WIDTH, height=height),
        *body, *key, "</svg>", ""])


def footnote(run):
    said = "Seconds since A connected, on the clients' monotonic clock"
    if run.lanes:
        said += "; strace's times moved onto it"
    said += (f" ({run.clock_note})" if run.clock_note else "") + "."
    return said + (f" The server's side is not shown: {run.untraced}." if run.untraced else "")


# ---------------------------------------------------------------- text

COLUMNS = 72
TEXT_LEGEND = """\
clients: c connects  > sends  < gets a reply  . waits for one  - connected
         | leaves (closes its side)  x the server closed it first  ! a call failed
server:  a waits in accept  r in read  s in select  l for a lock  w in wait4
         A B C reads from or writes to that client  + starts a thread or process
         | closes a client's socket  u lets go of a lock another waits for
         ! a signal  S the recorder stops the server  - runs (no traced call)"""
WAIT_GLYPHS = {"accept": "a", "read": "r", "select": "s", "poll": "s",
               "lock": "l", "futex": "l", "reap": "w"}


class Row:
    """One lane of the text view. Marks never hide one another: a mark
    whose column is taken goes to the next free one, past the last column
    if need be (many events within one column, as when v0.2 serves B and C
    in a few milliseconds)."""

    def __init__(self):
        self.cells = [" "] * COLUMNS
        self.marked = set()

    def fill(self, start, end, glyph):
        """Fills columns start to end; made before any mark."""
        for c in range(start, end + 1):
            self.cells[c] = glyph

    def mark(self, column, glyph):
        while column in self.marked:
            column += 1
        self.cells += [" "] * (column + 1 - len(self.cells))
        self.cells[column] = glyph
        self.marked.add(column)

    def __str__(self):
        return "".join(self.cells).rstrip()


def text(run):
    """The run as text: the lanes as rows of characters, then each client's
    events one a line, then what each server lane did."""
    length = plotted(run)
    step = length / COLUMNS

    def col(t):
        return min(COLUMNS - 1, max(0, int(t / step)))

    out = [f"{run.stage}: {facts.caption(run)}",
           f"one column = {facts.seconds(step)}. {footnote(run)}", "", axis_text(length, col)]
    for name in facts.clients(run):
        out.append(f"{'client ' + name:<22}{client_row(run, name, col)}")
    if not run.lanes:
        out.append(f"server: not shown, {run.untraced}")
    for lane in run.lanes:
        out.append(f"{lane.label:<22}{server_row(lane, col, length)}")
    out += ["", TEXT_LEGEND, ""]
    out += [event_line(e, run) for e in run.events if e.kind != "recv" or partial(e, run)]
    if run.lanes:
        out += [""] + [lane_summary(lane) for lane in run.lanes]
    return "\n".join(out) + "\n"


def axis_text(length, col):
    cells = [" "] * (COLUMNS + 6)
    for t in ticks(length):
        for j, ch in enumerate(f"|{t:g}s"):
            cells[col(t) + j] = ch
    return " " * 22 + "".join(cells).rstrip()


def client_row(run, name, col):
    row = Row()
    begin, end = client_life(run, name)
    row.fill(col(begin), col(end), "-")
    for _, sent, answered in waits(run, name):
        row.fill(col(sent), col(answered), ".")
    glyphs = {"connect": "c", "send": ">", "reply": "<", "error": "!", "leave": "|"}
    cut = facts.cut_off(run, name)
    for e in client_events(run, name):
        if e.kind in glyphs:
            row.mark(col(e.t), glyphs[e.kind])
        elif e.t == cut:
            row.mark(col(e.t), "x")
    return str(row)


def server_row(lane, col, length):
    row = Row()
    row.fill(col(max(lane.born, 0)), col(lane.ended if lane.ended is not None else length), "-")
    for span in lane.spans:
        if span.what in WAIT_GLYPHS and span.took >= BLOCKED:
            row.fill(col(max(span.start, 0)), col(span.end), WAIT_GLYPHS[span.what])
    for span in lane.spans:
        if span.what in ("read", "write") and span.client:
            row.mark(col(span.end), span.client)
        elif span.what == "start":
            row.mark(col(span.start), "+")
        elif span.what == "close":
            row.mark(col(span.start), "|")
        elif span.what == "wake":
            row.mark(col(span.start), "u")
    for signal in lane.signals:
        row.mark(col(signal.time), "S" if signal.by_recorder else "!")
    return str(row)


def partial(event, run):
    """True for bytes received that did not end a reply (half an echo)."""
    return not any(e.kind == "reply" and e.client == event.client and e.t == event.t
                   for e in run.events)


def event_line(e, run):
    said = {"connect": "connects",
            "send": f"sends request {e.request}" if e.request else "sends half a request",
            "leave": "leaves" if e.note else "leaves: closes its side (shutdown)",
            "close": "closes its socket",
            "recv": "receives part of a reply",
            "reply": f"gets the reply to request {e.request}",
            "eof": "sees the server close the connection",
            "error": "fails"}[e.kind]
    data = f": {e.data.decode(errors='replace')!r}" if e.data else ""
    note = f" ({e.note})" if e.note else ""
    return f"{e.t:7.3f} s  {e.client}  {said}{data}{note}"


def lane_summary(lane):
    counts = Counter(f"{span.what} {span.client}".strip() for span in lane.spans)
    blocked = sum(s.took for s in lane.spans if s.took >= BLOCKED)
    did = ", ".join(f"{what} x{n}" for what, n in counts.items()) or "no traced call"
    return f"{lane.label}: {did}; {facts.seconds(blocked)} waiting in blocked calls"
