"""The grade of the exercises that ask for a test, from made-up runs and
tables: a test that fails on a correct build catches nothing, a run that
outlives the time limit fails the grade saying how long a good test takes,
the limit grows on a busy machine, a table's row names a patch with a
header, every exercise has the builds it needs, a bad test says what its
grade must say, and a handout's headers lose the names of the tests that
catch the mutants. No server runs here."""

import concurrent.futures
import pathlib
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS / "exercises"))
sys.path.insert(0, str(TESTS / "classroom"))
import answers  # noqa: E402
import engine  # noqa: E402
import testgrading  # noqa: E402
from testgrading import Build, Plan, Run  # noqa: E402

WRITE_A_TEST = [e for e in engine.exercises() if e.kind == "test"]
EXERCISE = next(e for e in WRITE_A_TEST if e.id == "2.3")


def builds():
    return [Build("v0.2-loop as shipped", "v0.2-loop as shipped", "gcc", [], True, 1),
            Build("another-way", "the guard made another way", "gcc",
                  [pathlib.Path("another-way.patch")], True, 1),
            Build("the-bug", "the bug", "gcc", [pathlib.Path("the-bug.patch")], False, 1)]


def judged(runs, plan=None):
    """The verdicts on builds(), given one Run for each."""
    plan = plan or Plan(builds())
    started = []
    for run in runs:
        future = concurrent.futures.Future()
        future.set_result(run)
        started.append([future])
    return {v.build.name: v for v in testgrading.verdicts(EXERCISE, plan, started)}


def run(passed=(), failed=(), stopped=False):
    """A run where these tests passed and these failed; stopped: one that
    outlived the time limit (pytest's status None)."""
    status = None if stopped else 1 if failed else 0
    return Run(status, 1.0, set(passed), [(t, "AssertionError") for t in failed], "")


def test_a_test_that_fails_on_a_correct_build_catches_no_bug():
    verdicts = judged([run(passed=["reads_sigign", "client_leaves"]),
                       run(passed=["client_leaves"], failed=["reads_sigign"]),
                       run(failed=["reads_sigign"], passed=["client_leaves"])])
    assert verdicts["another-way"].word == "fails on"
    assert "not how v0.2-loop does it" in verdicts["another-way"].text
    assert verdicts["the-bug"].word == "misses"


def test_a_test_that_passes_on_every_correct_build_catches_the_bug():
    verdicts = judged([run(passed=["client_leaves"]), run(passed=["client_leaves"]),
                       run(failed=["client_leaves"])])
    assert [v.ok for v in verdicts.values()] == [True, True, True]
    assert verdicts["the-bug"].word == "catches"


def test_a_run_stopped_at_the_limit_fails_saying_how_long_a_good_test_takes():
    plan = Plan(builds(), limit=60, good=12)
    verdicts = judged([run(passed=["t"]), run(stopped=True), run(failed=["t"])], plan)
    slow = verdicts["another-way"]
    assert (slow.ok, slow.word) == (False, "too slow on")
    assert "limit of 60 s" in slow.text and "about 12 s a run" in slow.text


def test_the_limit_grows_on_a_busy_machine():
    plan = Plan([], limit=60, busy=2.5)
    assert plan.stop_after == 150
    assert plan.said() == "150 s (60 s, times 2.5: the machine is busy)"
    assert Plan([], limit=60).said() == "60 s"


def write(path, text):
    path.write_text(text)
    return path


def test_a_row_names_a_patch_whose_header_says_what_it_is(tmp_path):
    patch = write(tmp_path / "another-way.patch",
                  "Correct:   the guard made another way\nStage:     v0.2-loop\n"
                  "Build:     gcc\n\nWhy.\n\n--- a/v0.2-loop/server.c\n")
    table = write(tmp_path / "builds.txt", f"# a comment\n2.3 | correct | {patch}\n"
                  f"2.3 | time | 30 3\n4.3 | buggy | {patch}\n")
    plan = Plan([])
    testgrading.read_table(table, EXERCISE, plan)
    assert [(b.name, b.what, b.correct) for b in plan.builds] == [
        ("another-way", "the guard made another way", True)]
    assert (plan.limit, plan.good) == (30, 3)


def test_a_row_whose_patch_is_not_what_it_says_is_refused(tmp_path):
    patch = write(tmp_path / "the-bug.patch",
                  "Mutant:    the bug\nStage:     v0.2-loop\nBuild:     gcc\n\n")
    table = write(tmp_path / "builds.txt", f"2.3 | correct | {patch}\n")
    with pytest.raises(testgrading.TableError, match=r"builds.txt:1: .* Correct:"):
        testgrading.read_table(table, EXERCISE, Plan([]))


@pytest.mark.parametrize("exercise", WRITE_A_TEST, ids=lambda e: e.id)
def test_every_exercise_has_two_correct_builds_and_three_buggy_ones(exercise):
    plan = testgrading.plan(exercise)
    visible = [b for b in plan.builds if b.patches and not b.hidden]
    assert sum(b.correct for b in visible) >= 2
    assert sum(not b.correct for b in visible) >= 3
    if engine.SOLUTIONS.is_dir():
        hidden = [b for b in plan.builds if b.hidden]
        assert {b.correct for b in hidden} == {True, False}


@pytest.mark.skipif(not (engine.SOLUTIONS / "bad").is_dir(),
                    reason="a copy handed to students has no tests/exercises/solutions/")
def test_each_bad_test_says_what_its_grade_must_say_of_builds_there_are():
    for bad in sorted((engine.SOLUTIONS / "bad").glob("test_*.py")):
        exercise = next(e for e in WRITE_A_TEST
                        if bad.name.startswith(f"test_{e.id.replace('.', '_')}_"))
        names = {b.name for b in testgrading.plan(exercise).builds}
        said = testgrading.expected(bad)
        assert said and {name for _, name in said} <= names, bad.name


def test_a_handout_loses_the_caught_by_line_and_what_goes_on_with_it(tmp_path):
    patch = write(tmp_path / "the-bug.patch",
                  "Mutant:    the bug\nStage:     v0.2-loop\nBuild:     gcc\n"
                  "Tests:     tests/test_robustness.py\nCaught by: test_one\n"
                  "    [v0.2-loop]\n\nWhy. Caught by: this stays\n\n--- a/v0.2-loop/server.c\n")
    answers.strip(tmp_path)
    assert patch.read_text() == (
        "Mutant:    the bug\nStage:     v0.2-loop\nBuild:     gcc\n"
        "Tests:     tests/test_robustness.py\n\nWhy. Caught by: this stays\n\n"
        "--- a/v0.2-loop/server.c\n")
