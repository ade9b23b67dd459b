"""The pictures the chapters show (STAGE/timeline.svg, drawn by the
maintainers' make timeline-pictures): each passes the checks every
drawing must (check_drawing.check_svg: no mark hiding another, signals on
their own lane, the recorder's stop said, a legend of what is shown), and
shows its stage's idea.

    /usr/bin/python3 -m pytest -q tests/timeline/check_pictures.py
"""

from xml.etree import ElementTree

import pytest

from check_drawing import SVG, check_svg, classed, lanes_in, said, words
from harness import ROOT, STAGES


def picture(stage):
    path = ROOT / stage / "timeline.svg"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: make timeline-pictures draws it")
    return path.read_text()


def caption(stage):
    document = ElementTree.fromstring(picture(stage))
    return [said(t) for t in document.iter(f"{SVG}text") if "caption" in words(t)][0]


def axis_end(document):
    """The last time the axis is labelled with, in seconds."""
    return max(float(said(t)[:-2]) for t in document.iter(f"{SVG}text")
               if said(t).endswith(" s") and t.get("class") == "small")


def mark_x(group, kind):
    """The x of each mark of this kind on a client's lane, in order."""
    found = classed(group, "circle", kind) + classed(group, "rect", kind)
    return sorted(float(e.get("cx") or e.get("x")) for e in found)


def test_the_picture_passes_the_checks_of_every_drawing(stage):
    check_svg(picture(stage))


def test_each_stage_has_a_caption_of_its_own(stage):
    others = [s for s in STAGES if s != stage and (ROOT / s / "timeline.svg").is_file()]
    assert caption(stage) not in [caption(s) for s in others]


@pytest.mark.stages("threads", "post")
def test_the_picture_shows_a_thread_waiting_for_the_lock(stage):
    document = ElementTree.fromstring(picture(stage))
    servers = lanes_in(document, "server").values()
    assert [g for g in servers if classed(g, "rect", "futex")]
    assert [g for g in servers if classed(g, "rect", "held")]
    assert [e for e in document.iter(f"{SVG}line") if "wake-line" in words(e)]


@pytest.mark.stages("serial")
def test_the_picture_shows_b_then_c_served_once_a_leaves_apart(stage):
    document = ElementTree.fromstring(picture(stage))
    lanes = lanes_in(document, "client")
    a_leaves = mark_x(lanes["lane-A"], "leave")[0]
    b_replies, b_leaves = mark_x(lanes["lane-B"], "reply"), mark_x(lanes["lane-B"], "leave")[0]
    (c_reply,) = mark_x(lanes["lane-C"], "reply")
    assert a_leaves < b_replies[0] and b_leaves < c_reply
    assert c_reply - b_replies[-1] >= 20  # pixels: B's and C's turns apart
    bars = [said(t) for g in lanes_in(document, "server").values()
            for t in classed(g, "text", "inside")]
    assert "read B" in bars


@pytest.mark.stages("serial")
def test_the_picture_has_the_time_scale_of_the_others(stage):
    ends = {s: axis_end(ElementTree.fromstring(picture(s)))
            for s in STAGES if (ROOT / s / "timeline.svg").is_file()}
    others = sorted(end for s, end in ends.items() if s != stage)
    assert ends[stage] <= others[len(others) // 2] + 0.5
