"""Each stage's limitation, asserted from a real run of the scenario (see
scenario.py), once per stage: the facts the chapters' pictures show.

    make build/gcc/v0.2-loop/server
    /usr/bin/python3 -m pytest -q tests/timeline/check_stages.py \\
        --stage v0.2-loop --bin-dir build/gcc

The server's facts come from strace; where it cannot run, those tests are
skipped and say why. Every fact compares times that causality orders (see
facts.py), so a slow or busy machine changes the numbers, not the facts.
"""

import pytest

import facts
import timeline
from check_drawing import check_picture

RUNS = {}


@pytest.fixture
def run(stage, binary, tmp_path_factory):
    """The stage's run, recorded once for all the tests of this file."""
    if stage not in RUNS:
        trace = tmp_path_factory.mktemp(stage) / "trace"
        RUNS[stage] = timeline.record(stage, binary, trace)
    return RUNS[stage]


@pytest.fixture
def traced(run):
    if run.untraced:
        pytest.skip(f"the server's side was not recorded: {run.untraced}")
    return run


def test_the_server_ran_clean(run):
    assert not run.problems


def test_every_reply_is_the_one_expected(run):
    wrong = [e for e in run.events if e.kind == "reply" and e.note]
    assert not wrong


def test_every_client_was_accepted(traced):
    assert all(facts.accepted(traced, c) is not None for c in "ABC")


def test_the_picture_shows_the_run(run):
    check_picture(run)


@pytest.mark.stages("once")
def test_a_gets_one_reply_to_its_three_requests(run):
    assert len(facts.requests(run, "A")) == 3
    assert len(facts.events(run, "A", "reply")) == 1


@pytest.mark.stages("once")
def test_the_server_reads_each_client_once_then_closes_it(traced):
    (server,) = traced.lanes
    for client in "ABC":
        mine = [s.what for s in server.spans if s.client == client]
        assert mine.count("read") == 1 and mine[-1] == "close"


@pytest.mark.stages("serial")
def test_no_byte_reaches_b_before_a_leaves(run):
    assert facts.nothing_until_left(run, "B", "A")


@pytest.mark.stages("serial")
def test_b_is_accepted_only_after_a_leaves(traced):
    assert facts.accepted(traced, "B") > facts.left(traced, "A")


@pytest.mark.stages("!concurrent")
def test_one_thread_does_everything(traced):
    assert len(traced.lanes) == 1
    assert not facts.spans(traced, "start")


@pytest.mark.stages("concurrent")
def test_b_is_answered_while_a_is_connected(run):
    assert facts.answered_while_connected(run, "B", "A")


def one_each(run, kind):
    """True if each client was served by one lane, of this kind, its own."""
    served = sorted((lane.kind, lane.clients()) for lane in facts.io_lanes(run))
    return served == [(kind, ["A"]), (kind, ["B"]), (kind, ["C"])]


@pytest.mark.stages("threads")
def test_a_thread_of_its_own_serves_each_client(traced):
    assert one_each(traced, "thread")


@pytest.mark.stages("select")
def test_one_thread_makes_every_read_and_write(traced):
    (lane,) = traced.lanes
    assert lane.clients() == ["A", "B", "C"]
    assert facts.spans(traced, "select")


@pytest.mark.stages("fork")
def test_three_processes_serve_the_three_clients(traced):
    assert one_each(traced, "process")


@pytest.mark.stages("fork")
def test_the_parent_only_accepts_and_forks(traced):
    parent = traced.lanes[0]
    assert parent.kind == "server" and not parent.clients()
    assert [s.client for s in parent.spans if s.what == "accept" and s.client] == ["A", "B", "C"]
    started = [s.text for s in parent.spans if s.what == "start"]
    assert len(started) == 3 and all(t.startswith("process ") for t in started)


@pytest.mark.stages("fork")
def test_the_parent_reaps_every_child(traced):
    parent, *children = traced.lanes
    reaped = {s.text for s in parent.spans if s.what == "reap"}
    assert {f"wait4() = {child.tid}" for child in children} <= reaped
    assert "SIGCHLD" in [name for _, name in parent.signals]


@pytest.mark.stages("post")
def test_c_is_told_its_post_succeeded(run):
    (reply,) = facts.events(run, "C", "reply")
    assert reply.data == b"submit success\r\n"
