"""Draws a run: an SVG swimlane chart, and the same run as text.

One lane per client (A, B, C), then one per thread or process of the
server; time runs left to right, on one scale for every lane.

On a client's lane: a thin line while it is connected, a pale bar from
each request to its reply (the client waiting), a tick for each send and a
dot for each reply, both numbered by request, an x where the server closed
the connection.

On a server lane: a bar for each system call that blocked (took BLOCKED or
longer: a thread waiting in read() for A is a long bar), a thin tick for
each quick one, a dashed line from each write() to the client that got
those bytes, a dotted line from each clone() or fork() to the lane it
started, and the signals the lane received.
"""

from collections import Counter
from xml.sax.saxutils import escape

import facts

BLOCKED = 0.001  # seconds: a call that took this long waited for something

WIDTH, LEFT, RIGHT, TOP, LANE = 980, 190, 30, 92, 30
COLORS = {"accept": "#8da0cb", "read": "#66c2a5", "write": "#1b9e77",
          "select": "#e78ac3", "poll": "#e78ac3", "lock": "#fc8d62",
          "unlock": "#fdb462", "reap": "#a6d854", "close": "#888888",
          "start": "#555555", "wait": "#fde0b6"}
STYLE = f"""
text {{ font: 11px sans-serif; fill: #222; }}
.caption {{ font: 13px sans-serif; }} .title {{ font: bold 15px sans-serif; }}
.small {{ font: 9px sans-serif; fill: #555; }} .inside {{ font: 9px sans-serif; fill: #fff; }}
.life {{ stroke: #bbb; stroke-width: 2; }} .grid {{ stroke: #eee; }}
.reply-line {{ stroke: {COLORS["write"]}; stroke-dasharray: 3 2; }}
.spawn {{ stroke: #555; stroke-dasharray: 1 2; }}
.signal {{ fill: #c00; }} .cut {{ fill: #c00; font-weight: bold; }}
""" + "\n".join(f".{what} {{ fill: {color}; }}" for what, color in COLORS.items())


def element(tag, text="", title="", **attributes):
    """<tag a="1"...>text</tag>; class_ is written class."""
    said = " ".join(f'{k.rstrip("_")}="{escape(str(v))}"'
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


# ---------------------------------------------------------------- SVG


def client_lane(run, name, y, x):
    begin, end = client_life(run, name)
    out = [element("text", f"client {name}", x=10, y=y + 4),
           element("line", class_="life", x1=x(begin), y1=y, x2=x(end), y2=y)]
    for request, sent, answered in waits(run, name):
        out.append(element("rect", class_="wait", x=x(sent), y=y - 6,
                           width=max(x(answered) - x(sent), 1), height=12,
                           title=f"waiting for reply {request}: {facts.seconds(answered - sent)}"))
    cut = facts.cut_off(run, name)
    for e in client_events(run, name):
        said = f"{e.t:.3f} s: {e.kind} {e.request or ''} {e.data[:40]!r} {e.note}"
        if e.kind == "send":
            out.append(element("rect", class_="send write", x=x(e.t) - 1, y=y - 9,
                               width=2, height=18, title=said))
            out.append(element("text", str(e.request or "½"), class_="small",
                               x=x(e.t) - 3, y=y - 11))
        elif e.kind == "reply":
            out.append(element("circle", class_="reply read", cx=x(e.t), cy=y, r=4, title=said))
            out.append(element("text", str(e.request), class_="small", x=x(e.t) - 2, y=y + 16))
        elif e.kind == "error" or e.t == cut:
            out.append(element("text", "!" if e.kind == "error" else "x", class_="cut",
                               x=x(e.t) - 3, y=y + 4, title=said))
        elif e.kind == "leave":
            out.append(element("rect", class_="leave close", x=x(e.t) - 1, y=y - 6,
                               width=2, height=12, title=said))
    return [f'<g class="lane client" id="lane-{name}">', *out, "</g>"]


def server_lane(lane, y, x, length):
    end = lane.ended if lane.ended is not None else length
    out = [element("text", lane.label, x=10, y=y + 4),
           element("line", class_="life", x1=x(max(lane.born, 0)), y1=y, x2=x(end), y2=y)]
    for span in lane.spans:
        left = x(max(span.start, 0))
        width = x(span.end) - left
        if span.took >= BLOCKED:
            out.append(element("rect", class_=f"bar {span.what}", x=left, y=y - 7,
                               width=max(width, 1), height=14, title=span_title(span)))
            label = f"{span.what} {span.client}".strip()
            if width > 7 * len(label):
                out.append(element("text", label, class_="inside", x=left + 3, y=y + 3))
        else:
            out.append(element("rect", class_=f"tick {span.what}", x=left - 0.75,
                               y=y - 9, width=1.5, height=18, title=span_title(span)))
    last = -100  # a label close to the one before goes below the lane
    for when, name in lane.signals:
        below = x(when) - last < 50
        out.append(element("text", name, class_="small signal", x=x(when) + 2,
                           y=y + 19 if below else y - 10, title=f"{name} at {when:.3f} s"))
        last = -100 if below else x(when)
    return [f'<g class="lane server" id="lane-{lane.tid}">', *out, "</g>"]


def reply_lines(run, rows, x):
    """A dashed line from each write to a client to where that client got
    the bytes (its first receive after the write began)."""
    out = []
    for lane in run.lanes:
        for span in lane.spans:
            if span.what != "write" or span.client not in rows:
                continue
            got = [e.t for e in client_events(run, span.client)
                   if e.kind == "recv" and e.t >= span.start]
            if got:
                out.append(element("line", class_="reply-line", x1=x(span.end),
                                   y1=rows[lane.tid], x2=x(got[0]), y2=rows[span.client]))
    return out


def spawn_lines(run, rows, x):
    return [element("line", class_="spawn", x1=x(lane.born), y1=rows[lane.parent],
                    x2=x(lane.born), y2=rows[lane.tid])
            for lane in run.lanes if lane.parent in rows]


def axis(length, x, top, bottom):
    out = []
    for t in ticks(length):
        out.append(element("line", class_="grid", x1=x(t), y1=top, x2=x(t), y2=bottom))
        out.append(element("text", f"{t:g} s", class_="small", x=x(t) - 6, y=top - 4))
    return out


LEGEND = [("wait", "client waits for a reply"), ("accept", "accept"),
          ("read", "read"), ("write", "write (tick)"), ("select", "select"),
          ("lock", "lock (fcntl)"), ("reap", "wait4"), ("close", "close")]


MARKS = [("send", "a send, numbered by request (½: half of one)"),
         ("reply", "a whole reply"), ("cut", "x: closed by the server first"),
         ("reply-line", "a reply on its way"), ("spawn", "a thread or process starts")]


def legend(y):
    """Two rows: the colours of the calls, then the marks."""
    out, left = [], LEFT
    for what, said in LEGEND:
        out.append(element("rect", class_=what, x=left, y=y - 9, width=12, height=10))
        out.append(element("text", said, class_="small", x=left + 16, y=y))
        left += 30 + 5 * len(said)
    left, y = LEFT, y + 16
    for what, said in MARKS:
        if what in ("reply-line", "spawn"):
            out.append(element("line", class_=what, x1=left, y1=y - 4, x2=left + 12, y2=y - 4))
        elif what == "reply":
            out.append(element("circle", class_="read", cx=left + 6, cy=y - 4, r=4))
        elif what == "send":
            out.append(element("rect", class_="write", x=left + 5, y=y - 9, width=2, height=10))
        out.append(element("text", said, class_="small", x=left + 16, y=y))
        left += 30 + 5 * len(said)
    return out


def plotted(run):
    """The time the drawing spans: the run, and a little room after it."""
    return max(run.length * 1.06, 0.5)


def svg(run):
    """The run as an SVG document."""
    length = plotted(run)
    plot = WIDTH - LEFT - RIGHT

    def x(t):
        return round(LEFT + t / length * plot, 1)

    names = facts.clients(run)
    rows = {name: TOP + 20 + i * LANE for i, name in enumerate(names)}
    gap = TOP + 20 + len(names) * LANE + 10
    rows.update({lane.tid: gap + 20 + i * LANE for i, lane in enumerate(run.lanes)})
    bottom = gap + 20 + max(len(run.lanes), 1) * LANE
    body = [element("text", run.stage, class_="title", x=10, y=22),
            element("text", facts.caption(run), class_="caption", x=10, y=44),
            element("text", footnote(run), class_="small", x=10, y=62),
            *axis(length, x, TOP, bottom - 10)]
    for name in names:
        body += client_lane(run, name, rows[name], x)
    body.append(element("text", "server (from strace -f)" if run.lanes else
                        f"server: not shown, {run.untraced}", class_="small", x=10, y=gap + 4))
    for lane in run.lanes:
        body += server_lane(lane, rows[lane.tid], x, length)
    body += spawn_lines(run, rows, x) + reply_lines(run, rows, x) + legend(bottom + 10)
    height = bottom + 40
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        f"<style>{STYLE}</style>",
        element("rect", fill="#fff", x=0, y=0, width=WIDTH, height=height),
        *body, "</svg>", ""])


def footnote(run):
    said = "Seconds since A connected, on the clients' monotonic clock"
    if run.lanes:
        said += "; strace's times moved onto it"
    return said + (f" ({run.clock_note})" if run.clock_note else "") + "."


# ---------------------------------------------------------------- text

COLUMNS = 72
TEXT_LEGEND = """\
clients: c connects  > sends  < gets a reply  . waits for one  - connected
         | leaves (closes its side)  x the server closed it first  ! a call failed
server:  a waits in accept  r in read  s in select  l for the lock  w in wait4
         A B C reads from or writes to that client  + starts a thread or process
         | closes a client's socket  ! a signal  - runs (no traced call)"""
WAIT_GLYPHS = {"accept": "a", "read": "r", "select": "s", "poll": "s",
               "lock": "l", "reap": "w"}


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
    for when, _ in lane.signals:
        row.mark(col(when), "!")
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
