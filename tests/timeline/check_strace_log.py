"""Unit tests of the strace parser (strace_log.py) and of what is read from
it (server_lanes.py), on traces recorded from the stages (traces/) and on a
few lines written here for the cases a run seldom shows.

    /usr/bin/python3 -m pytest -q tests/timeline/check_strace_log.py
"""

from pathlib import Path

import server_lanes
import strace_log

TRACES = Path(__file__).resolve().parent / "traces"
# The clients' ports in each recorded trace, as the scenario named them.
PORTS = {
    "v0.3-threads": {57784: "A", 57794: "B", 57798: "C"},
    "v0.7-select": {55612: "A", 55616: "B", 55622: "C"},
    "v0.8-fork": {38916: "A", 38918: "B", 38924: "C"},
}


def recorded(stage):
    return strace_log.read(TRACES / f"{stage}.trace")


def lanes_of(stage):
    log = recorded(stage)
    start = log.calls[0].start
    return server_lanes.lanes(log, PORTS[stage], lambda wall: wall - start)


def calls(log, tid, name):
    return [c for c in log.calls if c.tid == tid and c.name == name]


def parse(text):
    return strace_log.parse(line.strip() for line in text.strip().splitlines())


# ---------------------------------------------------------------- the parser


def test_a_whole_line_is_one_call_from_its_time_for_its_duration():
    log = parse('9952  100.500000 read(5, "GET/x\\n", 1025) = 6 <0.250000>')
    (call,) = log.calls
    assert (call.tid, call.name, call.returned()) == (9952, "read", 6)
    assert call.args == '5, "GET/x\\n", 1025'
    assert (call.start, call.end) == (100.5, 100.75)


def test_unfinished_and_resumed_halves_make_one_call():
    log = recorded("v0.8-fork")
    # 9953 read(5, <unfinished ...> at .674078, resumed 0.500413 s later.
    (read,) = [c for c in calls(log, 9953, "read") if c.start == 1795981714.674078]
    assert read.args == '5, "GET/task_01/status\\n", 1025'
    assert read.returned() == 19
    assert abs(read.end - read.start - 0.500413) < 1e-6


def test_a_call_split_in_the_middle_of_its_arguments_is_joined():
    log = recorded("v0.8-fork")
    fork = [c for c in calls(log, 9952, "clone") if c.returned() == 10048][0]
    assert "SIGCHLD, child_tidptr=" in fork.args


def test_lines_of_other_threads_between_two_halves_are_their_own():
    log = parse("""
        1 10.000000 read(4,  <unfinished ...>
        2 10.100000 write(5, "hi\\n", 3) = 3 <0.000010>
        1 10.200000 <... read resumed>"hi\\n", 1024) = 3 <0.200000>
    """)
    assert [(c.tid, c.name, c.returned()) for c in log.calls] == [(1, "read", 3), (2, "write", 3)]


def test_an_interrupted_call_returns_no_value():
    log = recorded("v0.8-fork")
    interrupted = [c for c in calls(log, 9952, "accept") if "ERESTARTSYS" in c.result]
    assert interrupted
    assert all(c.returned() is None for c in interrupted)


def test_signals_are_kept_apart_from_calls():
    log = recorded("v0.8-fork")
    assert [s.name for s in log.signals] == ["SIGCHLD"] * 3 + ["SIGTERM"]
    assert {s.tid for s in log.signals} == {9952}
    assert not [c for c in log.calls if c.name.startswith("SIG")]


def test_a_signal_says_who_sent_it():
    log = recorded("v0.8-fork")
    assert [s.sender for s in log.signals] == [10048, 10003, 9953, 9772]


def test_a_whole_line_call_had_returned_by_the_next_line():
    log = parse("""
        1 10.000000 accept(3, {sa_family=AF_INET, sin_port=htons(4000)}, [16]) = 4 <0.001000>
        1 10.500000 read(4, "x", 1024) = 1 <0.000010>
    """)
    accept, read = log.calls
    assert (accept.end, accept.returned_by) == (10.001, 10.5)
    assert (accept.entry_line, accept.exit_line, read.entry_line) == (0, 0, 1)
    assert read.returned_by == read.end  # the last line: nothing after it


def test_a_call_cut_in_two_had_returned_by_its_resumed_line():
    log = parse("""
        1 10.000000 accept(3,  <unfinished ...>
        2 10.100000 close(5) = 0 <0.000010>
        1 10.200000 <... accept resumed>{sa_family=AF_INET, sin_port=htons(4000)}, [16]) = 5 <0.050000>
    """)
    accept = calls(log, 1, "accept")[0]
    assert (accept.start, accept.end, accept.returned_by) == (10.0, 10.05, 10.2)
    assert (accept.entry_line, accept.exit_line) == (0, 2)


def test_every_thread_and_process_end_is_read():
    log = recorded("v0.3-threads")
    assert {e.tid: e.how for e in log.exits} == {
        9781: "exited with 0", 9782: "exited with 0",
        9813: "exited with 0", 9848: "exited with 0"}


def test_a_call_resumed_before_the_log_began_starts_when_it_had_to():
    log = parse('7 20.000000 <... accept resumed>0x7ff, [128]) = ? ERESTARTSYS (To be restarted) <1.500000>')
    (call,) = log.calls
    assert (call.name, call.start, call.end) == ("accept", 18.5, 20.0)


def test_a_call_still_waiting_at_the_end_lasts_to_the_last_line():
    log = parse("""
        7 30.000000 accept(3,  <unfinished ...>
        8 31.000000 exit_group(0)   = ?
    """)
    accept = calls(log, 7, "accept")[0]
    assert (accept.result, accept.start, accept.end) == ("?", 30.0, 31.0)


def test_a_call_cut_short_by_its_process_end_has_no_value():
    log = parse("""
        7 40.000000 read(4,  <unfinished ...>
        7 40.500000 <... read resumed> <unfinished ...>) = ?
        7 40.600000 +++ killed by SIGTERM +++
    """)
    (read,) = log.calls
    assert (read.returned(), read.end) == (None, 40.5)
    assert log.exits[0].how == "killed by SIGTERM"


def test_data_that_looks_like_a_result_does_not_fool_it():
    log = parse('3 50.000000 write(4, ") = 5 <0.1>", 11) = 11 <0.000010>')
    (write,) = log.calls
    assert write.args == '4, ") = 5 <0.1>", 11'
    assert write.returned() == 11


def test_lines_it_does_not_understand_are_passed_over():
    log = parse("strace: Process 12 attached\n5 1.000000 close(4) = 0 <0.000001>")
    assert [(c.tid, c.name, c.args) for c in log.calls] == [(5, "close", "4")]
    assert not log.signals and not log.exits


# ---------------------------------------------------------------- the lanes


def test_a_thread_shares_the_descriptors_its_creator_accepted():
    lanes = lanes_of("v0.3-threads")
    assert [(lane.kind, lane.clients()) for lane in lanes] == [
        ("server", []), ("thread", ["A"]), ("thread", ["B"]), ("thread", ["C"])]


def test_each_forked_child_has_its_own_fd_5():
    lanes = lanes_of("v0.8-fork")
    assert [(lane.tid, lane.kind, lane.clients()) for lane in lanes] == [
        (9952, "server", []), (9953, "process", ["A"]),
        (10003, "process", ["B"]), (10048, "process", ["C"])]


def test_a_child_keeps_its_copy_after_the_parent_closes_it():
    # The parent closes fd 5 right after the fork; the child still reads C.
    parent, *_, child = lanes_of("v0.8-fork")
    assert [s.client for s in parent.spans if s.what == "close"] == ["A", "B", "C"]
    assert {s.client for s in child.spans if s.what == "read"} == {"C"}


def test_accept_names_the_client_it_returned():
    server = lanes_of("v0.7-select")[0]
    assert [s.client for s in server.spans if s.what == "accept" and s.client] == ["A", "B", "C"]


def test_select_says_which_sockets_woke_it():
    texts = [s.text for s in lanes_of("v0.7-select")[0].spans if s.what == "select"]
    assert "pselect6() woke for the listening socket" in texts
    assert "pselect6() woke for A" in texts


def test_only_lock_calls_of_fcntl_are_kept():
    # v0.7's fcntl calls set O_NONBLOCK; v0.8's lock the list.
    assert not [s for lane in lanes_of("v0.7-select") for s in lane.spans
                if s.what in ("lock", "unlock")]
    child = lanes_of("v0.8-fork")[1]
    assert [s.what for s in child.spans if "lock" in s.what][:2] == ["lock", "unlock"]


def test_calls_on_other_descriptors_are_left_out():
    lanes = lanes_of("v0.3-threads")
    texts = [s.text for lane in lanes for s in lane.spans]
    assert not [t for t in texts if "fd 1" in t or "fd 2" in t]  # stdout, stderr


def test_signals_and_ends_go_to_their_lane():
    parent, *children = lanes_of("v0.8-fork")
    assert [s.name for s in parent.signals] == ["SIGCHLD"] * 3 + ["SIGTERM"]
    assert not [s for child in children for s in child.signals]
    assert all(child.ended is not None for child in children)
    assert [s.what for s in parent.spans].count("reap") >= 3


def test_the_recorders_sigterm_is_told_from_the_others():
    log = recorded("v0.8-fork")
    start = log.calls[0].start
    parent = server_lanes.lanes(log, PORTS["v0.8-fork"], lambda wall: wall - start,
                                recorder=9772)[0]
    assert [(s.name, s.by_recorder) for s in parent.signals] == [
        ("SIGCHLD", False)] * 3 + [("SIGTERM", True)]


# A busy machine: strace's -T ran from when strace started its clock, which
# it does after writing the first half of the line. Held up there (here
# 0.4 s), time + -T falls before the return, even before the scenario
# began (at 100.0 here), though the call returned A, who connected after.
BUSY = """
    1 99.500000 listen(3, 4096) = 0 <0.000010>
    1 99.600000 accept(3, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 4 <0.001000>
    1 100.010000 clone3({flags=CLONE_VM|CLONE_FILES|CLONE_THREAD} => {parent_tid=[2]}, 88) = 2 <0.000010>
    2 100.100000 read(4, "x\\n", 1024) = 2 <0.090000>
"""


def test_an_accept_written_before_the_scenario_began_still_names_its_client():
    first, thread = server_lanes.lanes(parse(BUSY), {4000: "A"}, lambda wall: wall - 100.0,
                                       {"A": 0.0})
    assert [(s.what, s.client) for s in first.spans] == [("accept", "A"), ("start", "")]
    assert thread.clients() == ["A"]


def test_what_returned_before_the_scenario_began_is_left_out():
    first, _ = server_lanes.lanes(parse(BUSY), {4000: "A"}, lambda wall: wall - 100.0)
    assert "listen" not in [s.what for s in first.spans]


def test_an_accept_cut_in_two_takes_effect_where_the_log_shows_its_return():
    # -T puts the accept's return at 1.05, before thread 2's close of fd 5
    # at 1.1; but the accept could only return fd 5 once it was closed,
    # and the log shows its return after the close.
    log = parse("""
        1 0.400000 accept(3, {sa_family=AF_INET, sin_port=htons(3999), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 5 <0.000010>
        1 0.500000 clone3({flags=CLONE_VM|CLONE_FILES|CLONE_THREAD} => {parent_tid=[2]}, 88) = 2 <0.000010>
        1 1.000000 accept(3,  <unfinished ...>
        2 1.100000 close(5) = 0 <0.000010>
        1 1.200000 <... accept resumed>{sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 5 <0.050000>
        1 1.300000 read(5, "x\\n", 1024) = 2 <0.000010>
    """)
    first, thread = server_lanes.lanes(log, {3999: "B", 4000: "C"}, lambda wall: wall)
    assert [s.client for s in thread.spans if s.what == "close"] == ["B"]
    assert first.clients() == ["C"]


REUSED = """
    1 0.100000 accept(3, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 4 <0.000010>
    1 0.150000 read(4, "x\\n", 1024) = 2 <0.000010>
    1 0.160000 close(4) = 0 <0.000010>
    1 0.170000 accept(3, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 4 <0.150000>
    1 0.330000 read(4, "y\\n", 1024) = 2 <0.000010>
    1 0.340000 close(4) = 0 <0.000010>
    1 0.900000 accept(3, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 4 <0.000010>
    1 0.950000 read(4, "z\\n", 1024) = 2 <0.000010>
"""


def test_a_connection_from_the_clients_port_before_it_connected_is_not_the_client():
    # Another program's connection came from port 4000 before B, which
    # began to connect at 0.3, was given the same port.
    (lane,) = server_lanes.lanes(parse(REUSED), {4000: "B"}, lambda wall: wall, {"B": 0.3})
    accepts = [s for s in lane.spans if s.what == "accept"]
    assert [s.client for s in accepts] == ["", "B", ""]
    assert [s.text for s in lane.spans if s.what == "read" and s.client] == [
        "read(fd 4: B) = 2 bytes"]


def test_a_futex_wait_and_the_wake_that_ended_it_are_kept():
    log = parse("""
        2 1.000000 futex(0x5600, FUTEX_WAIT_PRIVATE, 2, NULL <unfinished ...>
        3 1.100000 futex(0x5600, FUTEX_WAKE_PRIVATE, 1) = 1 <0.000010>
        2 1.100100 <... futex resumed>) = 0 <0.100050>
        2 1.100200 futex(0x5600, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000010>
        3 1.100300 futex(0x5600, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x5604, 2) = 0 <0.000010>
    """)
    two, three = server_lanes.lanes(log, {}, lambda wall: wall)
    assert [(s.what, s.key) for s in two.spans] == [("futex", "0x5600")]
    assert [(s.what, s.key) for s in three.spans] == [("wake", "0x5600")]
