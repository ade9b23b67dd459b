"""Tests of the drawing (draw.py): the SVG is well-formed XML with a lane
for each client and each thread or process of the server, a bar for each
blocked call and a mark for each reply; the text view shows the same lanes.
check_picture() is also run on every stage's real run (check_stages.py).

    /usr/bin/python3 -m pytest -q tests/timeline/check_drawing.py
"""

from xml.etree import ElementTree

import draw
import facts
from check_strace_log import lanes_of
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
    return Run("v0.8-fork", played(), lanes_of("v0.8-fork"), "", "", [])


def lanes_in(document, kind):
    return {g.get("id"): g for g in document.iter(f"{SVG}g")
            if g.get("class") == f"lane {kind}"}


def classed(group, tag, word):
    return [e for e in group.iter(f"{SVG}{tag}") if word in e.get("class", "").split()]


def check_picture(run):
    """Fails unless the run's SVG shows what its data implies."""
    document = ElementTree.fromstring(draw.svg(run))
    assert document.tag == f"{SVG}svg"
    texts = [t.text for t in document.iter(f"{SVG}text")]
    assert facts.caption(run) in texts
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
    texts = [t.text for t in document.iter(f"{SVG}text")]
    assert "server: not shown, strace is not installed" in texts
    assert "strace is not installed" in facts.caption(run)
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
