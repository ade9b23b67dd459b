"""Each stage's limitation, asserted from a real run of the scenario (see
scenario.py), once per stage: the facts the chapters' pictures show.

    make build/gcc/v0.2-loop/server
    /usr/bin/python3 -m pytest -q tests/timeline/check_stages.py \\
        --stage v0.2-loop --bin-dir build/gcc

(v0.6 is recorded from build/held: make check-timelines builds it.) The
server's facts come from strace; where strace cannot trace at all, those
tests are skipped and say why. Every fact compares times that causality
orders (see facts.py), so a slow or busy machine changes the numbers, not
the facts.
"""

import pytest

import facts
import timeline
from check_drawing import check_picture
from harness import ROOT

RUNS = {}


@pytest.fixture
def bin_dir(request):
    return request.config.getoption("--bin-dir")


@pytest.fixture
def run(stage, bin_dir, tmp_path_factory):
    """The stage's run, recorded once for all the tests of this file."""
    if stage not in RUNS:
        trace = tmp_path_factory.mktemp(stage) / "trace"
        RUNS[stage] = timeline.record(stage, bin_dir, trace)
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


def test_the_last_signal_is_the_recorders_sigterm_to_the_server(traced):
    (stop,) = [s for lane in traced.lanes for s in lane.signals if s.by_recorder]
    assert stop in traced.lanes[0].signals and stop.name == "SIGTERM"
    assert stop.time > max(e.t for e in traced.events)


@pytest.mark.stages("threads", "post")  # one stage is enough: the held build's
def test_drawing_a_timeline_changes_nothing_in_the_stage_folders(stage, bin_dir, tmp_path):
    before = {path: path.read_bytes() for path in ROOT.glob("v0.*/*") if path.is_file()}
    assert timeline.main(["--bin-dir", bin_dir, "--out", str(tmp_path), stage]) == 0
    assert (tmp_path / f"{stage}.svg").is_file() and (tmp_path / f"{stage}.txt").is_file()
    after = {path: path.read_bytes() for path in ROOT.glob("v0.*/*") if path.is_file()}
    assert after == before


@pytest.mark.stages("once")
def test_what_a_sends_after_the_server_closed_gets_no_reply(run):
    # One read, one reply, a close: a busy server may read A's first two
    # requests at once and answer both, but nothing sent after the close.
    closed = facts.cut_off(run, "A")
    assert closed is not None and facts.events(run, "A", "reply")
    later = {e.request for e in facts.requests(run, "A") if e.t > closed}
    assert not [e for e in facts.events(run, "A", "reply") if e.request in later]


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


@pytest.mark.stages("serial")
def test_once_a_leaves_b_is_answered_and_c_waits_for_b_to_leave(run):
    assert len(facts.events(run, "B", "reply")) == 2
    assert facts.nothing_until_left(run, "C", "B")
    assert len(facts.events(run, "C", "reply")) == 1


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


@pytest.mark.stages("threads", "list")
def test_a_request_sent_in_two_halves_gets_one_reply_after_the_second(run):
    half, rest, _, replies = facts.split_request(run)
    assert replies == 1
    (reply,) = [e for e in facts.events(run, "A", "reply") if e.request == rest.request]
    assert reply.t > rest.t > half.t
    assert "two halves" in facts.caption(run)


@pytest.mark.stages("threads", "get", "!post")
def test_the_caption_says_the_threads_read_the_list_with_no_lock(run):
    assert "read the list" in facts.caption(run) and "with no lock" in facts.caption(run)


@pytest.mark.stages("threads", "post")
def test_a_thread_sleeps_in_futex_until_the_thread_that_stored_the_post_lets_go(traced):
    ((waiter, wait, holder, wake),) = [h for h in facts.lock_handoffs(traced)
                                       if h[2].clients() == ["C"]]
    assert "C" not in waiter.clients()
    assert wait.took >= 0.1  # the held build keeps the lock 0.1 s once it sleeps
    assert wait.start < wake.start <= wait.returned_by
    assert "futex() for the lock" in facts.caption(traced)


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
    assert "SIGCHLD" in [s.name for s in parent.signals]


@pytest.mark.stages("post")
def test_c_is_told_its_post_succeeded(run):
    (reply,) = facts.events(run, "C", "reply")
    assert reply.data == b"submit success\r\n"
