"""Tests of the drawing (draw.py): the SVG is well-formed XML with a lane
for each client and each thread or process of the server, a bar for each
blocked call and a mark for each reply; the text view shows the same lanes.
check_picture() is also run on every stage's real run (check_stages.py).

    /usr/bin/python3 -m pytest -q tests/timeline/check_drawing.py
"""

from xml.etree import ElementTree

import draw
import facts
import server_lanes
from check_strace_log import PORTS, lanes_of, parse, recorded
from scenario import Event
from timeline import Run

SVG = "{http://www.w3.org/2000/svg}"

# What the clients of traces/v0.8-fork.trace did, on the trace's clock.
PLAYED = """
    0.000 A connect   0.100 A send 1   0.103 A reply 1   0.600 A send 2
    0.604 A reply 2   1.100 A send 0   1.400 A send 3    1.404 A reply 3
    1.700 A leave     1.702 A eof      1.702 A close
    0.300 B connect   0.400 B send 1   0.404 B reply 1   0.900 B send 2
    0.904 B reply 2   1.000 B leave    1.001 B eof       1.001 B close
    0.600 C connect   0.700 C send 1   0.700 C leave     0.704 C reply 1
    0.704 C eof       0.704 C close
"""


def played():
    words = PLAYED.split()
    events = []
    while words:
        t, client, kind, *words = words
        request = 0
        if kind in ("send", "reply"):
            request, *words = words
        events.append(Event(float(t), client, kind, int(request), b"x\n" if request else b""))
    for e in [e for e in events if e.kind == "reply"]:  # the bytes came with it
        events.append(Event(e.t, e.client, "recv", 0, e.data))
    return sorted(events, key=lambda e: e.t)


def fork_run():
    log = recorded("v0.8-fork")
    start = log.calls[0].start
    lanes = server_lanes.lanes(log, PORTS["v0.8-fork"], lambda wall: wall - start,
                               recorder=9772)  # the recorder's PID in that trace
    return Run("v0.8-fork", played(), lanes, "", "", [])


def client_run(text):
    """A run with no server side, of the events written as in PLAYED."""
    global PLAYED
    kept, PLAYED = PLAYED, text
    try:
        return Run("v0.2-loop", played(), [], "strace is not installed", "", [])
    finally:
        PLAYED = kept


def lanes_in(document, kind):
    return {g.get("id"): g for g in document.iter(f"{SVG}g")
            if g.get("class") == f"lane {kind}"}


def classed(group, tag, word):
    return [e for e in group.iter(f"{SVG}{tag}") if word in e.get("class", "").split()]


def words(element):
    return element.get("class", "").split()


def said(text):
    """The words a text element shows (its <title> aside)."""
    return (text.text or "") + "".join(child.tail or "" for child in text)


def text_extent(text):
    """The x the text covers, near enough (draw.CHAR a character)."""
    width = draw.CHAR * len(said(text))
    left = float(text.get("x"))
    anchor = text.get("text-anchor", "start")
    left -= width / 2 if anchor == "middle" else width if anchor == "end" else 0
    return left, left + width


def extent(element):
    """The x a mark covers: a rect, a circle or a text."""
    if element.tag == f"{SVG}rect":
        left = float(element.get("x"))
        return left, left + float(element.get("width"))
    if element.tag == f"{SVG}circle":
        middle, r = float(element.get("cx")), float(element.get("r"))
        return middle - r, middle + r
    return text_extent(element)


def overlapping(spans):
    """The pairs of (left, right) spans, in order, that overlap."""
    spans = sorted(spans)
    return [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]


def lane_y(group):
    return float(next(group.iter(f"{SVG}line")).get("y1"))


MARKS = ("send", "reply", "leave", "cut", "error")


def check_client_marks(group):
    """No mark on a client's lane hides another, nor a label a label."""
    marks = [e for e in group if set(words(e)) & set(MARKS)]
    assert not overlapping([extent(e) for e in marks])
    for row in ("send-label", "reply-label"):
        assert not overlapping([text_extent(e) for e in classed(group, "text", row)])


def check_signals(group, lanes):
    """Each signal's triangle and name are on its lane: nearer its line
    than any other lane's, the names apart and inside the picture."""
    y = lane_y(group)
    others = [lane_y(g) for g in lanes if g is not group]
    names = classed(group, "text", "signal") + classed(group, "text", "stop")
    assert len(names) == len(classed(group, "path", "signal") + classed(group, "path", "stop"))
    for name in names:
        at = float(name.get("y"))
        assert all(abs(at - y) < abs(at - other) for other in others)
        assert text_extent(name)[1] <= draw.WIDTH
    assert not overlapping([text_extent(e) for e in names])


def check_legend(document):
    """The legend names what the picture shows, and only that."""
    legend = [g for g in document.iter(f"{SVG}g") if g.get("class") == "legend"]
    entries = {g.get("id")[len("legend-"):] for g in legend}
    inside = {id(e) for g in legend for e in g.iter()}
    shown = {w for e in document.iter() if id(e) not in inside for w in words(e)}
    if "½" in [said(t) for t in document.iter(f"{SVG}text") if "send-label" in words(t)]:
        shown.add("half")
    known = {what for what, _ in draw.CALLS + draw.MARKS}
    assert entries <= shown, f"legend entries the picture does not use: {entries - shown}"
    assert known & shown <= entries, f"shown, not in the legend: {(known & shown) - entries}"


def check_svg(text):
    """The checks any picture must pass, from its SVG alone: one that was
    just drawn or one a chapter shows. Returns the parsed document."""
    document = ElementTree.fromstring(text)
    assert document.tag == f"{SVG}svg"
    caption = [said(t) for t in document.iter(f"{SVG}text") if "caption" in words(t)]
    assert len(caption) == 1 and len(caption[0]) <= CAPTION_FITS
    for group in lanes_in(document, "client").values():
        check_client_marks(group)
    servers = list(lanes_in(document, "server").values())
    for group in servers:
        check_signals(group, servers)
    stops = [e for g in servers for e in classed(g, "path", "stop")]
    stop_said = [t for t in document.iter(f"{SVG}text") if "stop" in words(t)
                 and said(t).startswith("the recorder stops the server")]
    assert len(stop_said) == len(stops) <= 1
    check_legend(document)
    return document


CAPTION_FITS = 130  # characters of the 13 px caption across the picture


def check_picture(run):
    """Fails unless the run's SVG shows what its data implies."""
    document = check_svg(draw.svg(run))
    texts = [said(t) for t in document.iter(f"{SVG}text")]
    assert facts.what_happened(run) in texts
    clients = lanes_in(document, "client")
    assert list(clients) == [f"lane-{name}" for name in facts.clients(run)]
    for name, group in zip(facts.clients(run), clients.values()):
        assert len(classed(group, "circle", "reply")) == len(facts.events(run, name, "reply"))
        assert len(classed(group, "rect", "wait")) == len(facts.requests(run, name))
    servers = lanes_in(document, "server")
    assert list(servers) == [f"lane-{lane.tid}" for lane in run.lanes]
    for lane, group in zip(run.lanes, servers.values()):
        blocked = [s for s in lane.spans if s.took >= draw.BLOCKED]
        assert len(classed(group, "rect", "bar")) == len(blocked)
        assert len(classed(group, "rect", "tick")) == len(lane.spans) - len(blocked)
        named = [e for e in group.iter(f"{SVG}text") if {"signal", "stop"} & set(words(e))]
        assert [said(e) for e in named] == [
            s.name for s in sorted(lane.signals, key=lambda s: s.time)]
        assert len(classed(group, "path", "stop")) == len(
            [s for s in lane.signals if s.by_recorder])


def test_the_picture_of_a_recorded_run_has_its_lanes_bars_and_marks():
    check_picture(fork_run())


def test_a_long_wait_in_read_is_a_long_bar():
    run = fork_run()
    document = ElementTree.fromstring(draw.svg(run))
    child_a = lanes_in(document, "server")[f"lane-{run.lanes[1].tid}"]
    widths = [float(r.get("width")) for r in classed(child_a, "rect", "read")]
    assert max(widths) > 100  # A's child waits 0.5 s for A's next request


def test_without_strace_the_picture_shows_the_clients_and_says_why():
    run = Run("v0.8-fork", played(), [], "strace is not installed", "", [])
    document = ElementTree.fromstring(draw.svg(run))
    assert not lanes_in(document, "server")
    assert len(lanes_in(document, "client")) == 3
    texts = [said(t) for t in document.iter(f"{SVG}text")]
    assert "server: not shown, strace is not installed" in texts
    assert "strace is not installed" in facts.caption(run)
    assert draw.footnote(run).endswith("The server's side is not shown: strace is not installed.")
    check_picture(run)


def test_the_text_view_has_a_row_per_lane_under_the_caption():
    run = fork_run()
    lines = draw.text(run).splitlines()
    assert lines[0] == f"v0.8-fork: {facts.caption(run)}"
    labels = [f"client {name}" for name in "ABC"] + [lane.label for lane in run.lanes]
    rows = [line for line in lines if any(line.startswith(f"{label} ") for label in labels)]
    assert len(rows) == len(labels)


def test_the_text_view_marks_what_each_lane_did():
    rows = {line[:22].strip(): line[22:] for line in draw.text(fork_run()).splitlines()}
    assert rows["client A"].count("<") == 3          # three replies
    assert rows["process 10048: C"].count("C") >= 2  # read C, write C
    assert "+" in rows["server 9952"] and "a" in rows["server 9952"]


def test_a_reply_and_the_close_right_after_it_do_not_hide_each_other():
    run = client_run("0.000 A connect  0.100 A send 1  0.1001 A reply 1  0.1002 A eof")
    (group,) = lanes_in(ElementTree.fromstring(draw.svg(run)), "client").values()
    (dot,), (cut,) = classed(group, "circle", "reply"), classed(group, "text", "cut")
    assert extent(dot)[1] <= extent(cut)[0]
    check_picture(run)


def test_two_replies_read_at_once_are_numbered_side_by_side():
    run = client_run("0.000 B connect  0.400 B send 1  0.900 B send 2  "
                     "1.700 B reply 1  1.700 B reply 2  1.900 B leave")
    (group,) = lanes_in(ElementTree.fromstring(draw.svg(run)), "client").values()
    labels = classed(group, "text", "reply-label")
    assert [said(t) for t in labels] == ["1", "2"]
    assert not overlapping([text_extent(t) for t in labels])
    check_picture(run)


def test_signals_are_drawn_on_the_lane_of_the_process_that_got_them():
    # v0.8's parent gets SIGCHLD then, 7 ms later, the recorder's SIGTERM:
    # both names on the parent's lane, side by side, none near a child's.
    run = fork_run()
    servers = lanes_in(ElementTree.fromstring(draw.svg(run)), "server")
    parent, *children = servers.values()
    named = [said(t) for t in parent.iter(f"{SVG}text") if {"signal", "stop"} & set(words(t))]
    assert named == ["SIGCHLD"] * 3 + ["SIGTERM"]
    assert not [t for child in children for t in classed(child, "path", "signal")]
    for group in servers.values():
        check_signals(group, list(servers.values()))


def test_the_recorders_stop_is_drawn_apart_and_said():
    document = ElementTree.fromstring(draw.svg(fork_run()))
    parent = next(iter(lanes_in(document, "server").values()))
    assert [said(t) for t in classed(parent, "text", "stop")] == ["SIGTERM"]
    assert not classed(parent, "text", "signal") or "SIGTERM" not in [
        said(t) for t in classed(parent, "text", "signal")]
    (line,) = [e for e in document.iter(f"{SVG}line") if "stop-line" in words(e)]
    assert [said(t) for t in document.iter(f"{SVG}text") if "stop" in words(t)
            and said(t).startswith("the recorder")] == ["the recorder stops the server (SIGTERM)"]


def legend_of(run):
    return {g.get("id") for g in ElementTree.fromstring(draw.svg(run)).iter(f"{SVG}g")
            if g.get("class") == "legend"}


def test_the_legend_has_a_lock_only_where_the_picture_has_one():
    assert {"legend-lock", "legend-unlock"} <= legend_of(fork_run())
    select = Run("v0.7-select", played(), lanes_of("v0.7-select"), "", "", [])
    assert not {"legend-lock", "legend-unlock", "legend-futex"} & legend_of(select)
    check_picture(select)


HANDOFF = """
    1 10.000000 listen(3, 4096) = 0 <0.000010>
    2 10.700000 read(5, "POST/x=y/z\\n", 1025) = 11 <0.000010>
    3 10.900000 read(4, "GET/x/z\\n", 1025) = 8 <0.000010>
    3 10.901000 futex(0x5600, FUTEX_WAIT_PRIVATE, 2, NULL <unfinished ...>
    2 11.000000 futex(0x5600, FUTEX_WAKE_PRIVATE, 1) = 1 <0.000010>
    3 11.000100 <... futex resumed>) = 0 <0.099000>
    2 11.000200 write(5, "submit success\\r\\n", 16) = 16 <0.000010>
    3 11.000300 write(4, "y\\r\\n", 3) = 3 <0.000010>
"""


def test_a_thread_waiting_for_a_lock_is_drawn_with_the_thread_that_holds_it():
    log = parse(HANDOFF)
    lanes = server_lanes.lanes(log, {}, lambda wall: wall - 10.0)
    run = Run("v0.6-post", played(), lanes, "", "", [], held=True)
    ((waiter, wait, holder, wake),) = facts.lock_handoffs(run)
    assert (waiter.tid, holder.tid, wait.what, wake.what) == (3, 2, "futex", "wake")
    document = ElementTree.fromstring(draw.svg(run))
    groups = lanes_in(document, "server")
    assert classed(groups["lane-3"], "rect", "futex")
    assert classed(groups["lane-2"], "rect", "held")
    assert [e for e in document.iter(f"{SVG}line") if "wake-line" in words(e)]
    assert {"legend-futex", "legend-wake", "legend-held"} <= legend_of(run)
    check_picture(run)
