"""Grades the exercises that ask for a test instead of a change to a server.

The student writes pytest tests, by default in mine/N.M/test_N_M.py
(make start EX=N.M makes it), that drive the stage's real binary through the harness. A
test that catches a bug passes on the stage as shipped, every time, and
fails on the stage with the bug in it, however the bug is written. So the
grade runs the student's file

  - on the stage as shipped: RUNS times on the gcc build (a test that fails
    on a correct server is wrong; one that fails now and then is flaky),
    and SANITIZER_RUNS times on each sanitizer build a buggy build uses;
  - BUG_RUNS times on each buggy build of the exercise's bug (BUGS): a
    mutant of tests/mutants/ and a variant of tests/mutants/variants/, the
    same bug written differently, each applied to a copy of the stage and
    built as its header says (gcc, asan or tsan).

Every test must pass on the stage as shipped, every time, and on each
buggy build some test must fail, every time (a test that fails on the
stage as shipped does not count). exercises.py calls grade() for `make
grade EX=N.M [FILE=path]`; `make prove-test-exercises`, a step of make
test, calls prove(): every reference test (solutions/test_N_M.py) must
pass the grade, and an empty file and a test that only checks that the
server answers must fail it.
The compilers and flags of each kind of build come from the environment
(CC_gcc, FLAGS_gcc, ...), as the Makefile defines them.
"""

import concurrent.futures
import dataclasses
import io
import pathlib
import shutil
import tempfile
import textwrap
import time

from engine import (MUTANTS, ROOT, SOLUTIONS, junit_cases, mutant_runner,
                    shipped_stage)

# The buggy builds a test of each exercise must fail on, in tests/mutants/.
BUGS = {
    "2.3": ["no-sigpipe-guard", "variants/sigpipe-stops-the-server"],
    "4.3": ["one-reply-per-read", "variants/the-end-of-a-read-ends-a-request"],
    "6.3": ["no-lock-around-the-list", "variants/lock-only-around-posts"],
    "7.3": ["write-without-its-loop",
            "variants/partial-write-sends-its-start-again"],
    "8.3": ["wait-reaper", "variants/reap-only-when-a-client-comes"],
}
RUNS = 5            # runs on the gcc build of the stage as shipped
SANITIZER_RUNS = 2  # runs on each other build of it that a buggy build needs
BUG_RUNS = 2        # runs on each buggy build: a test must catch it each time
RUN_TIMEOUT = 180   # seconds: a test that outlives it has hung
JOBS = 4            # pytest runs at once: most of their time is spent waiting


@dataclasses.dataclass
class Target:
    """A build the student's tests run on, and how often."""
    what: str                 # in words, for the report
    kind: str                 # gcc, asan or tsan
    patch: pathlib.Path       # None: the stage as shipped
    runs: int
    bin_dir: pathlib.Path = None

    @property
    def buggy(self):
        return self.patch is not None


@dataclasses.dataclass
class Run:
    """One pytest run of the student's file on one target."""
    status: int               # pytest's exit status; None if it hung
    seconds: float
    passed: set               # the tests that passed
    failed: list              # (test, its message) for each failure or error
    output: str


def default_file(exercise):
    return ROOT / "mine" / exercise.id / f"test_{exercise.id.replace('.', '_')}.py"


def targets(exercise):
    """The builds an exercise's tests run on: the stage as shipped, then
    each buggy build."""
    bugs = []
    for name in BUGS[exercise.id]:
        patch = MUTANTS / f"{name}.patch"
        header = mutant_runner.read_header(patch)
        bugs.append(Target(f"{header['Mutant']} ({header['Build']} build)",
                           header["Build"], patch, BUG_RUNS))
    kinds = ["gcc"] + sorted({b.kind for b in bugs} - {"gcc"})
    shipped = [Target(f"{exercise.stage} as shipped ({kind} build)", kind,
                      None, RUNS if kind == "gcc" else SANITIZER_RUNS)
               for kind in kinds]
    return shipped + bugs


def build(exercise, source, target, work):
    """Builds the target from source, the stage as shipped, in work/ (a
    fresh folder); returns why it failed, or None."""
    work.mkdir(parents=True)
    header = {"Stage": exercise.stage, "Build": target.kind}
    bin_dir, problem = mutant_runner.build(target.patch, header, work,
                                           work / "log", source)
    target.bin_dir = bin_dir
    if problem:
        log = (work / "log").read_text(errors="replace")
        return f"{target.what}: {problem}:\n{indent(log[-3000:], 30)}"
    return None


def build_all(exercise, work, pool):
    """Every target of the exercise, built in work/ in parallel; raises
    RuntimeError if one does not build."""
    found = targets(exercise)
    source = shipped_stage(exercise.stage, work / "shipped")
    jobs = [pool.submit(build, exercise, source, t, work / str(i))
            for i, t in enumerate(found)]
    problems = [p for p in (job.result() for job in jobs) if p]
    if problems:
        raise RuntimeError("\n".join(problems))
    return found


# ---------------------------------------------------------------- runs


def run_pytest(test_file, stage, *extra):
    """(pytest's exit status, or None if it hung; its output)."""
    out = io.StringIO()
    status = mutant_runner.run(mutant_runner.pytest_command(
        str(test_file), "--stage", stage, *extra), out, RUN_TIMEOUT, cwd=ROOT)
    return status, out.getvalue()


def outcomes(report):
    """(the tests that passed, [(test, message)] for each failure or error)
    from a JUnit report."""
    cases = junit_cases(report)
    failed = [(name, message) for name, end, message in cases
              if end in ("failure", "error")]
    passed = {name for name, end, _ in cases if end == "passed"}
    return passed - {name for name, _ in failed}, failed


def run_once(exercise, test_file, target, report):
    began = time.monotonic()
    status, output = run_pytest(test_file, exercise.stage, "--bin-dir",
                                str(target.bin_dir), f"--junitxml={report}")
    passed, failed = outcomes(report)
    return Run(status, time.monotonic() - began, passed, failed, output)


def collect(exercise, test_file):
    """(number of tests in the file, pytest's output)."""
    status, output = run_pytest(test_file, exercise.stage, "--collect-only")
    if status != 0:
        return 0, output
    return sum(1 for line in output.splitlines() if "::" in line), output


# ---------------------------------------------------------------- verdicts


def indent(text, lines=6):
    kept = text.strip().splitlines()[:lines]
    return textwrap.indent("\n".join(kept), " " * 10)


def seconds(runs):
    times = sorted(r.seconds for r in runs)
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"{times[0]:.1f} to {times[-1]:.1f} s each"


def on_shipped(target, runs):
    """(ok, what to print) for the runs on the stage as shipped."""
    bad = [r for r in runs if r.status != 0]
    if not bad:
        return True, f"passes on {target.what}: {len(runs)} runs of " \
                     f"{len(runs)} ({seconds(runs)})"
    first = bad[0]
    why = "hung" if first.status is None else "failed"
    return False, (
        f"fails on {target.what} in {len(bad)} runs of {len(runs)} "
        f"({seconds(runs)}): a test that fails on a correct server is "
        f"wrong, and one that fails only sometimes is flaky. The first "
        f"run that {why}:\n{indent(first.output, 40)}")


def catchers(run, trusted):
    """The failures, in a run on a buggy build, of tests that pass on the
    stage as shipped: a test that fails on a correct server proves nothing
    when it fails on a buggy one."""
    if run.status != 1:
        return []  # pytest stopped on an error of its own, or hung
    return [(test, message) for test, message in run.failed if test in trusted]


def on_buggy(target, runs, trusted):
    """(ok, what to print) for the runs on a buggy build; trusted: the
    tests that passed in every run on the stage as shipped."""
    took = f"({seconds(runs)})"
    missed = [r for r in runs if not catchers(r, trusted)]
    if not missed:
        said = "\n".join(f"{indent(test, 1)}: failed, saying\n"
                         f"{indent(message, 3)}"
                         for test, message in catchers(runs[0], trusted)[:3])
        return True, f"catches: {target.what}, {len(runs)} runs of " \
                     f"{len(runs)} {took}\n{said}"
    run = missed[0]
    if run.status is None:
        return False, (f"hangs on: {target.what}, for {RUN_TIMEOUT} s: bound "
                       f"every wait (the harness's clients do)")
    if run.status not in (0, 1):
        return False, (f"stops on: {target.what}, with pytest's exit status "
                       f"{run.status} (not a failing test) {took}:\n"
                       f"{indent(run.output, 20)}")
    if len(missed) < len(runs):
        return False, (f"catches: {target.what} in {len(runs) - len(missed)} "
                       f"runs of {len(runs)} only {took}: a test that catches "
                       f"a bug now and then lets it through the other times")
    if run.failed:
        return False, (f"misses: {target.what}: the only tests that failed on "
                       f"it fail on the stage as shipped too {took}")
    return False, f"misses: {target.what}: every test passed on it {took}"


def start(exercise, test_file, found, pool, reports, repeat=True):
    """Starts every run of the tests on every target, the buggy builds
    first (a run that waits for a reply the bug never sends takes longest);
    returns, for each target, its runs to come. JUnit reports go in
    reports/."""
    reports.mkdir(parents=True, exist_ok=True)
    started = {}
    for i in sorted(range(len(found)), key=lambda i: not found[i].buggy):
        runs = found[i].runs if repeat else 1
        started[i] = [pool.submit(run_once, exercise, test_file, found[i],
                                  reports / f"{test_file.stem}.{i}.{n}.xml")
                      for n in range(runs)]
    return [started[i] for i in range(len(found))]


def verdict(found, started):
    """(ok, a line of the report for each target) once the runs are over."""
    runs = [[job.result() for job in jobs] for jobs in started]
    shipped = [r for target, rs in zip(found, runs) if not target.buggy
               for r in rs]
    trusted = set.intersection(*(r.passed for r in shipped))
    lines, ok = [], True
    for target, rs in zip(found, runs):
        if target.buggy:
            passed, line = on_buggy(target, rs, trusted)
        else:
            passed, line = on_shipped(target, rs)
        ok = ok and passed
        lines.append(f"{'ok  ' if passed else 'FAIL'}  {line}")
    return ok, lines


# ---------------------------------------------------------------- grade


def grade(exercise, path=None):
    """make grade EX=N.M [FILE=path]: returns the exit status."""
    began = time.monotonic()
    test_file = pathlib.Path(path) if path else default_file(exercise)
    test_file = (ROOT / test_file).resolve()
    print(f"== exercise {exercise.id} ({exercise.stage}): write a test: "
          f"{exercise.title[:1].lower()}{exercise.title[1:]}")
    problem = where_problem(exercise, test_file)
    if problem:
        print(problem)
        return 2
    count, output = collect(exercise, test_file)
    if count == 0:
        print(output.rstrip())
        print(f"== {shown(test_file)} has no test pytest can run: a test is "
              f"a function named test_..., and the file must import.")
        return 1
    print(f"== {count} test(s) in {shown(test_file)}: building "
          f"{exercise.stage} as shipped and with the bug")
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool, \
            tempfile.TemporaryDirectory(prefix="testgrade-") as work:
        try:
            found = build_all(exercise, pathlib.Path(work), pool)
        except RuntimeError as error:
            print(f"{error}\n== a build failed, before any test ran. If you "
                  f"changed {exercise.stage}/ (for another exercise), put it "
                  f"back as shipped (make restore-{exercise.id.split('.')[0]} "
                  f"saves it first), then grade again.")
            return 2
        runs = sum(t.runs for t in found)
        print(f"== running your tests {runs} times on {len(found)} builds")
        ok, lines = verdict(found, start(exercise, test_file, found, pool,
                                         pathlib.Path(work) / "reports"))
    print("\n".join(lines))
    took = time.monotonic() - began
    if ok:
        print(f"== exercise {exercise.id}: passed ({took:.0f} s)")
        return 0
    print(f"== exercise {exercise.id}: not yet ({took:.0f} s). What the tests "
          f"must catch: tests/exercises/README.md, exercise {exercise.id}.")
    return 1


def shown(path):
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def where_problem(exercise, test_file):
    """Why the student's file cannot be graded, or None."""
    if test_file.is_dir():
        return (f"{shown(test_file)} is a folder: exercise {exercise.id} asks "
                f"for a test file, FILE=path (default "
                f"{shown(default_file(exercise))})")
    if not test_file.is_file():
        make = "write your tests there" if test_file.parent.is_dir() else \
            f"make start EX={exercise.id} makes it"
        return (f"no file {shown(test_file)}: {make}, or say where your tests "
                f"are with FILE=path. tests/exercises/README.md says what "
                f"exercise {exercise.id} asks.")
    if not {ROOT / "tests", ROOT / "mine"} & set(test_file.parents):
        return (f"{shown(test_file)} is outside mine/ and tests/: put it in "
                f"mine/{exercise.id}/, where the harness's fixtures "
                f"(mine/conftest.py) reach it")
    return None


# ---------------------------------------------------------------- prove


def prove_one(exercise, work, builds, runs):
    """(ok, what to print): the reference passes the grade, an empty file
    and a trivial test fail it."""
    began = time.monotonic()
    reference = SOLUTIONS / f"test_{exercise.id.replace('.', '_')}.py"
    if not reference.is_file():
        return False, f"no reference test {shown(reference)}"
    try:
        found = build_all(exercise, work / "builds", builds)
    except RuntimeError as error:
        return False, str(error)
    trivial, empty = SOLUTIONS / "test_nothing.py", SOLUTIONS / "test_empty.py"
    reports = work / "reports"
    started = [start(exercise, reference, found, runs, reports),
               start(exercise, trivial, found, runs, reports, repeat=False)]
    ok, lines = verdict(found, started[0])
    took = time.monotonic() - began
    if not ok:
        return False, "its reference test fails the grade:\n" + "\n".join(lines)
    passed, lines = verdict(found, started[1])
    shipped_ok = all(line.startswith("ok") for line, target in zip(lines, found)
                     if not target.buggy)
    if passed or not shipped_ok:
        return False, ("a test that only checks that the server answers "
                       "should pass on the stage and miss the bug:\n"
                       + "\n".join(lines))
    if collect(exercise, empty)[0] != 0:
        return False, "an empty test file is not refused"
    caught = sum(t.buggy for t in found)
    return True, (f"the reference passes the grade ({took:.0f} s: "
                  f"{sum(t.runs for t in found)} runs, {caught} buggy builds "
                  f"caught); an empty file and a trivial test fail it "
                  f"({time.monotonic() - began:.0f} s in all)")


def prove(build_dir, exercises):
    """make prove-test-exercises: returns the exit status."""
    began = time.monotonic()
    if not SOLUTIONS.is_dir():
        print("prove-test-exercises: skipped, there is no "
              "tests/exercises/solutions/ (a copy handed to students has none)")
        return 0
    todo = [e for e in exercises if e.kind == "test"]
    work = pathlib.Path(build_dir).resolve()
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(JOBS) as builds, \
            concurrent.futures.ThreadPoolExecutor(JOBS) as runs, \
            concurrent.futures.ThreadPoolExecutor(len(todo)) as each:
        jobs = {}
        for e in todo:
            shutil.rmtree(work / e.id, ignore_errors=True)
            jobs[e] = each.submit(prove_one, e, work / e.id, builds, runs)
        for exercise, job in jobs.items():
            ok, what = job.result()
            print(f"{'ok  ' if ok else 'FAIL'} {exercise.id} "
                  f"{exercise.stage:14} {what}")
            failed += not ok
    took = time.monotonic() - began
    if failed:
        print(f"prove-test-exercises: {failed} of {len(todo)} failed "
              f"({took:.0f} s)")
        return 1
    print(f"prove-test-exercises: every reference test passes its grade, "
          f"and a test that catches nothing fails it ({len(todo)} exercises, "
          f"{took:.0f} s)")
    return 0
