"""Grades the exercises that ask for a test instead of a change to a server.

The student writes pytest tests, by default in mine/N.M/test_N_M.py, that
drive a server's real binary through the harness. A test that catches a
bug passes on every correct server, however it is written, and fails on
every server with the bug, however the bug is written (as Examplar's
"wheats and chaffs" grade tests). So the grade runs the student's file

  - on the stage as shipped: RUNS times on the gcc build (a test that fails
    on a correct server is wrong; one that fails now and then is flaky),
    and SANITIZER_RUNS times on each sanitizer build another build uses;
  - CORRECT_RUNS times on each correct build written differently from the
    stage (a test of how the stage is written, not of what it does, fails
    on one of them);
  - BUG_RUNS times on each buggy build.

The builds of each exercise are rows of builds.txt, and of
solutions/builds/builds.txt when it is there (builds a copy handed to
students does not hold): each a patch of the stage, with a header. Every
test must pass in every run on every correct build, and on each buggy
build some test that does so must fail, in every run. Each run has a time
limit (builds.txt's time row); a run that outlives it fails the grade.

No build's sources are where the tests can reach them: each is built in a
folder of its own, its binary copied alone to a new folder with a random
name, and the build folders removed before the first run. The runs go in
random order, so that a test cannot tell the builds apart by when it runs.

exercises.py calls grade() for `make grade EX=N.M [FILE=path]`; `make
prove-test-exercises`, a step of make test, calls prove(): every
reference test (solutions/test_N_M.py) must pass the grade, and an empty
file, a test that only checks that the server answers, and each bad test
of solutions/bad/ must fail it, each as its docstring says. The compilers
and flags of each kind of build come from the environment (CC_gcc,
FLAGS_gcc, ...), as the Makefile defines them.
"""

import concurrent.futures
import contextlib
import dataclasses
import io
import pathlib
import random
import re
import resource
import secrets
import shutil
import tempfile
import textwrap
import time

from engine import (HERE, ROOT, SOLUTIONS, junit_cases, mutant_runner,
                    shipped_stage)

TABLES = [HERE / "builds.txt", SOLUTIONS / "builds" / "builds.txt"]
KINDS = ("gcc", "asan", "tsan")
RUNS = 5            # runs on the gcc build of the stage as shipped
SANITIZER_RUNS = 2  # runs on each other build of it that another build uses
CORRECT_RUNS = 2    # runs on each correct build written differently
BUG_RUNS = 2        # runs on each buggy build: a test must catch it each time
JOBS = 4            # pytest runs at once: most of their time is spent waiting
WAIT = 30           # seconds: the harness's bound on each wait (TIMEOUT)
MAX_BUSY = 5        # a busy machine raises the time limit up to this many times
PROVE_RUNS = 8      # pytest runs at once in the proof: many wait out a bound


@dataclasses.dataclass
class Build:
    """A server the student's tests run on, and how often."""
    name: str                 # its patch's name, or "STAGE as shipped"
    what: str                 # in words, for the report
    kind: str                 # gcc, asan or tsan
    patches: list             # [] for the stage as shipped
    correct: bool
    runs: int
    hidden: bool = False      # from solutions/: not in a handout
    bin_dir: pathlib.Path = None  # where STAGE/server is, once built

    def describe(self):
        hidden = ", a build the students' copy does not hold" if self.hidden else ""
        return f"{self.what} ({self.kind} build{hidden})"


@dataclasses.dataclass
class Plan:
    """An exercise's builds, and the time a run of the tests may take."""
    builds: list
    limit: float = 60.0       # seconds a run may take, on a machine at rest
    good: float = 10.0        # seconds the reference takes, at most
    busy: float = 1.0         # how many times slower the machine runs now

    @property
    def stop_after(self):
        return self.limit * self.busy

    def said(self):
        if self.busy == 1.0:
            return f"{self.limit:.0f} s"
        return (f"{self.stop_after:.0f} s ({self.limit:.0f} s, times "
                f"{self.busy:.1f}: the machine is busy)")


@dataclasses.dataclass
class Run:
    """One pytest run of the student's file on one build."""
    status: int               # pytest's exit status; None if it ran too long
    seconds: float
    passed: set               # the tests that passed
    failed: list              # (test, its message) for each failure or error
    output: str


def default_file(exercise):
    return ROOT / "mine" / exercise.id / f"test_{exercise.id.replace('.', '_')}.py"


# ---------------------------------------------------------------- builds


class TableError(Exception):
    """A row of a table of builds that cannot be used."""


def read_table(path, exercise, plan):
    """Adds the rows of one table that are the exercise's to plan."""
    hidden = SOLUTIONS in path.parents
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("|")]
        where = f"{shown(path)}:{number}"
        if len(cells) != 3 or cells[1] not in ("correct", "buggy", "time"):
            raise TableError(f"{where}: expected N.M | correct, buggy or "
                             f"time | ..., got {line!r}")
        if cells[0] != exercise.id:
            continue
        if cells[1] == "time":
            try:
                plan.limit, plan.good = map(float, cells[2].split())
            except ValueError:
                raise TableError(f"{where}: expected N.M | time | LIMIT GOOD "
                                 f"(seconds), got {line!r}") from None
            continue
        patches = [ROOT / p for p in cells[2].split()]
        plan.builds.append(build_of(exercise, patches, cells[1] == "correct",
                                    hidden, where))


def build_of(exercise, patches, correct, hidden, where):
    """The build a row names, from the header of its last patch."""
    for patch in patches:
        if not patch.is_file():
            raise TableError(f"{where}: there is no {shown(patch)}")
    header = mutant_runner.read_fields(patches[-1])
    what = header.get("Correct" if correct else "Mutant")
    if not what or header.get("Stage") != exercise.stage \
            or header.get("Build") not in KINDS:
        raise TableError(
            f"{where}: {shown(patches[-1])} needs a header with "
            f"{'Correct' if correct else 'Mutant'}:, Stage: {exercise.stage} "
            f"and Build: (one of {', '.join(KINDS)})")
    return Build(patches[-1].stem, what, header["Build"], patches, correct,
                 CORRECT_RUNS if correct else BUG_RUNS, hidden)


def busy_factor(stage):
    """How many times longer than its CPU time a short run of pytest (the
    collection of tests/test_echo.py) takes now, from 1 (a machine at rest,
    or nearly) to MAX_BUSY: the time limit grows by as much. It runs alone,
    before the builds, for the CPU time of the processes waited for to be
    its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    run_pytest(ROOT / "tests" / "test_echo.py", stage, "--collect-only")
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(min(MAX_BUSY, max(1.0, wall / max(cpu, 0.05))), 1)


def plan(exercise):
    """The builds an exercise's tests run on: the stage as shipped (gcc,
    and each other kind the other builds use), then those of the tables."""
    found = Plan([])
    for table in TABLES:
        if table.is_file():
            read_table(table, exercise, found)
    kinds = ["gcc"] + sorted({b.kind for b in found.builds} - {"gcc"})
    shipped = [Build(f"{exercise.stage} as shipped",
                     f"{exercise.stage} as shipped", kind, [], True,
                     RUNS if kind == "gcc" else SANITIZER_RUNS)
               for kind in kinds]
    found.builds = shipped + found.builds
    return found


def build(exercise, source, target, work, binaries):
    """Builds target from source (the stage as shipped) in work/, then
    copies its binary alone to a new folder under binaries/, with a random
    name; returns why it failed, or None."""
    work.mkdir(parents=True)
    header = {"Stage": exercise.stage, "Build": target.kind}
    bin_dir, problem = mutant_runner.build(target.patches, header, work,
                                           work / "log", source)
    if problem:
        log = (work / "log").read_text(errors="replace")
        return f"{target.name}: {problem}:\n{indent(log[-3000:], 30)}"
    target.bin_dir = binaries / secrets.token_hex(8)
    (target.bin_dir / exercise.stage).mkdir(parents=True)
    shutil.copy2(bin_dir / exercise.stage / "server",
                 target.bin_dir / exercise.stage / "server")
    return None


@contextlib.contextmanager
def built(exercise, found, pool):
    """Builds every build of the plan in parallel, and yields once only
    their binaries are left, each alone in a folder of its own; raises
    RuntimeError if one does not build. The binaries go when the block
    ends."""
    binaries = pathlib.Path(tempfile.mkdtemp())
    try:
        with tempfile.TemporaryDirectory(prefix="testgrade-") as work:
            work = pathlib.Path(work)
            source = shipped_stage(exercise.stage, work / "shipped")
            # Random names here too: the binary's debug information keeps
            # the folder it was built in.
            jobs = [pool.submit(build, exercise, source, b,
                                work / secrets.token_hex(8), binaries)
                    for b in found.builds]
            problems = [p for p in (job.result() for job in jobs) if p]
        if problems:
            raise RuntimeError("\n".join(problems))
        yield
    finally:
        shutil.rmtree(binaries, ignore_errors=True)


# ---------------------------------------------------------------- runs


def run_pytest(test_file, stage, *extra, timeout=None):
    """(pytest's exit status, or None if it outlived timeout; its output)."""
    out = io.StringIO()
    status = mutant_runner.run(mutant_runner.pytest_command(
        str(test_file), "--stage", stage, *extra), out, timeout, cwd=ROOT)
    return status, out.getvalue()


def outcomes(report):
    """(the tests that passed, [(test, message)] for each failure or error)
    from a JUnit report."""
    cases = junit_cases(report)
    failed = [(name, message) for name, end, message in cases
              if end in ("failure", "error")]
    passed = {name for name, end, _ in cases if end == "passed"}
    return passed - {name for name, _ in failed}, failed


def run_once(exercise, test_file, target, limit):
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as reports:
        report = pathlib.Path(reports) / "report.xml"
        status, output = run_pytest(test_file, exercise.stage, "--bin-dir",
                                    str(target.bin_dir), f"--junitxml={report}",
                                    timeout=limit)
        passed, failed = outcomes(report)
    return Run(status, time.monotonic() - began, passed, failed, output)


def collect(exercise, test_file):
    """(number of tests in the file, pytest's output)."""
    status, output = run_pytest(test_file, exercise.stage, "--collect-only")
    if status != 0:
        return 0, output
    return sum(1 for line in output.splitlines() if "::" in line), output


def start(exercise, test_file, found, pool, repeat=True):
    """Starts every run of the tests on every build, in random order;
    returns, for each build, its runs to come."""
    jobs = [(i, n) for i, b in enumerate(found.builds)
            for n in range(b.runs if repeat else 1)]
    random.SystemRandom().shuffle(jobs)
    started = [[] for _ in found.builds]
    for i, _ in jobs:
        started[i].append(pool.submit(run_once, exercise, test_file,
                                      found.builds[i], found.stop_after))
    return started


# ---------------------------------------------------------------- verdicts


@dataclasses.dataclass
class Verdict:
    """What the runs on one build say: ok, a word for what happened
    ("passes on", "fails on", "catches", "misses", "too slow on"), and a
    line of the report."""
    build: Build
    ok: bool
    word: str
    text: str


def indent(text, lines=6):
    kept = text.strip().splitlines()[:lines]
    return textwrap.indent("\n".join(kept), " " * 10)


def seconds(runs):
    times = sorted(r.seconds for r in runs)
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"{times[0]:.1f} to {times[-1]:.1f} s each"


def too_slow(target, runs, found):
    """The verdict on a build where a run outlived the limit, or None."""
    slow = [r for r in runs if r.status is None]
    if not slow:
        return None
    return Verdict(target, False, "too slow on", (
        f"too slow on {target.describe()}: {len(slow)} run(s) of {len(runs)} "
        f"took more than the limit of {found.said()} and were stopped. A "
        f"good test takes about {found.good:.0f} s a run, on its slowest "
        f"build, on a machine at rest: make the bad case happen rather than "
        f"wait for it, and bound every wait (the harness's are {WAIT} s)."))


def on_correct(target, runs, stage):
    """The verdict on a correct build: the stage as shipped, or one written
    differently."""
    bad = [r for r in runs if r.status != 0]
    if not bad:
        return Verdict(target, True, "passes on",
                       f"passes on {target.describe()}: {len(runs)} runs of "
                       f"{len(runs)} ({seconds(runs)})")
    if target.patches:
        why = (f"it is a correct server, written differently from {stage}: "
               f"a test must check what a server does, not how {stage} "
               f"does it")
    else:
        why = ("a test that fails on a correct server is wrong, and one "
               "that fails only sometimes is flaky")
    return Verdict(target, False, "fails on", (
        f"fails on {target.describe()} in {len(bad)} runs of {len(runs)} "
        f"({seconds(runs)}): {why}. The first run that failed:\n"
        f"{indent(bad[0].output, 40)}"))


def catchers(run, trusted):
    """The failures, in a run on a buggy build, of tests that pass on every
    correct build: a test that fails on a correct server proves nothing
    when it fails on a buggy one."""
    if run.status != 1:
        return []  # pytest stopped on an error of its own, or ran too long
    return [(test, message) for test, message in run.failed if test in trusted]


def on_buggy(target, runs, trusted):
    """The verdict on a buggy build; trusted: the tests that passed in every
    run on every correct build."""
    took = f"({seconds(runs)})"
    missed = [r for r in runs if not catchers(r, trusted)]
    if not missed:
        said = "\n".join(f"{indent(test, 1)}: failed, saying\n"
                         f"{indent(message, 3)}"
                         for test, message in catchers(runs[0], trusted)[:3])
        return Verdict(target, True, "catches",
                       f"catches: {target.describe()}, {len(runs)} runs of "
                       f"{len(runs)} {took}\n{said}")
    run = missed[0]
    if run.status not in (0, 1):
        return Verdict(target, False, "stops on", (
            f"stops on: {target.describe()}, with pytest's exit status "
            f"{run.status} (not a failing test) {took}:\n"
            f"{indent(run.output, 20)}"))
    if len(missed) < len(runs):
        return Verdict(target, False, "misses", (
            f"catches: {target.describe()} in {len(runs) - len(missed)} runs "
            f"of {len(runs)} only {took}: a test that catches a bug now and "
            f"then lets it through the other times"))
    if run.failed:
        return Verdict(target, False, "misses", (
            f"misses: {target.describe()}: the only tests that failed on it "
            f"fail on a correct build too {took}"))
    return Verdict(target, False, "misses",
                   f"misses: {target.describe()}: every test passed on it {took}")


def verdicts(exercise, found, started):
    """A Verdict for each build, once its runs are over."""
    runs = [[job.result() for job in jobs] for jobs in started]
    correct = [r for b, rs in zip(found.builds, runs) if b.correct for r in rs]
    trusted = set.intersection(*(r.passed for r in correct))
    found_verdicts = []
    for target, rs in zip(found.builds, runs):
        verdict = too_slow(target, rs, found)
        if verdict is None and target.correct:
            verdict = on_correct(target, rs, exercise.stage)
        elif verdict is None:
            verdict = on_buggy(target, rs, trusted)
        found_verdicts.append(verdict)
    return found_verdicts


def report(found_verdicts):
    """(ok, the report's lines): correct builds first, then buggy ones. Of
    the lines that say a run was too slow, the first says why in full."""
    ordered = sorted(found_verdicts, key=lambda v: not v.build.correct)
    lines, said_why = [], False
    for v in ordered:
        text = v.text
        if v.word == "too slow on":
            text = text if not said_why else text.split(" A good test")[0]
            said_why = True
        lines.append(f"{'ok  ' if v.ok else 'FAIL'}  {text}")
    return all(v.ok for v in found_verdicts), lines


def counted(found):
    correct = sum(b.correct and bool(b.patches) for b in found.builds)
    buggy = sum(not b.correct for b in found.builds)
    return (f"{correct} correct build(s) written differently and {buggy} "
            f"with the bug")


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
    try:
        found = plan(exercise)
    except TableError as error:
        print(f"== {error}")
        return 2
    found.busy = busy_factor(exercise.stage)
    print(f"== {count} test(s) in {shown(test_file)}: building "
          f"{exercise.stage} as shipped, {counted(found)}")
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        try:
            with built(exercise, found, pool):
                runs = sum(b.runs for b in found.builds)
                print(f"== running your tests {runs} times on "
                      f"{len(found.builds)} builds, in random order, each "
                      f"run stopped after {found.said()}")
                ok, lines = report(verdicts(
                    exercise, found, start(exercise, test_file, found, pool)))
        except RuntimeError as error:
            print(f"{error}\n== a build failed, before any test ran. If "
                  f"{exercise.stage}/ was changed, put it back as shipped "
                  f"(make restore-{exercise.id.split('.')[0]} saves it first) "
                  f"and grade again; if it was not, a build of the tables no "
                  f"longer applies to it: tell your teacher.")
            return 2
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


EXPECTED = re.compile(r"^\s*(passes on|fails on|catches|misses) (\S+)\s*$", re.M)


def expected(test_file):
    """[(word, build name)]: the lines of a bad test's docstring under
    "What its grade must say:"."""
    text = test_file.read_text()
    _, _, after = text.partition("What its grade must say:")
    return EXPECTED.findall(after.split('"""')[0])


def unmet(test_file, found_verdicts):
    """What a bad test's grade says that its docstring did not expect."""
    problems = []
    by_name = {v.build.name: v for v in found_verdicts}
    wanted = expected(test_file)
    if not wanted:
        problems.append("its docstring says nothing under \"What its grade "
                        "must say:\"")
    for word, name in wanted:
        verdict = by_name.get(name)
        if verdict is None:
            problems.append(f"{word} {name}: there is no build {name}")
        elif verdict.word != word:
            problems.append(f"{word} {name}: the grade says {verdict.text}")
    if all(v.ok for v in found_verdicts):
        problems.append("it passes the grade")
    return problems


def prove_one(exercise, builds, runs, busy):
    """(ok, what to print): the reference passes the grade; an empty file,
    a trivial test and each bad test fail it. Each file runs once per
    build."""
    began = time.monotonic()
    name = f"test_{exercise.id.replace('.', '_')}"
    reference = SOLUTIONS / f"{name}.py"
    if not reference.is_file():
        return False, f"no reference test {shown(reference)}"
    trivial, empty = SOLUTIONS / "test_nothing.py", SOLUTIONS / "test_empty.py"
    bad = sorted((SOLUTIONS / "bad").glob(f"{name}_*.py"))
    try:
        found = plan(exercise)
        found.busy = busy
        with built(exercise, found, builds):
            # Each file once per build: the grade's repeats catch a flaky
            # student's test, and would multiply the proof's time.
            started = [start(exercise, f, found, runs, repeat=False)
                       for f in [reference, trivial, *bad]]
            judged = [verdicts(exercise, found, s) for s in started]
    except (RuntimeError, TableError) as error:
        return False, str(error)
    ok, lines = report(judged[0])
    if not ok:
        return False, "its reference test fails the grade:\n" + "\n".join(lines)
    problems = []
    if report(judged[1])[0] or not any(v.word == "misses" for v in judged[1]):
        problems.append("a test that only checks that the server answers "
                        "should miss the bug:\n" + "\n".join(report(judged[1])[1]))
    for test_file, found_verdicts in zip(bad, judged[2:]):
        problems += [f"{shown(test_file)}: {p}"
                     for p in unmet(test_file, found_verdicts)]
    if collect(exercise, empty)[0] != 0:
        problems.append("an empty test file is not refused")
    if problems:
        return False, "\n".join(problems)
    correct = sum(b.correct for b in found.builds)
    return True, (f"the reference passes on {correct} correct builds and "
                  f"catches {len(found.builds) - correct} buggy ones; an empty "
                  f"file, a trivial test and {len(bad)} bad test(s) fail the "
                  f"grade as expected ({time.monotonic() - began:.0f} s)")


def prove(exercises):
    """make prove-test-exercises: returns the exit status. Every build goes
    to a temporary folder, removed before the runs."""
    began = time.monotonic()
    if not SOLUTIONS.is_dir():
        print("prove-test-exercises: skipped, there is no "
              "tests/exercises/solutions/ (a copy handed to students has none)")
        return 0
    todo = [e for e in exercises if e.kind == "test"]
    busy = busy_factor(todo[0].stage) if todo else 1.0
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(JOBS) as builds, \
            concurrent.futures.ThreadPoolExecutor(PROVE_RUNS) as runs, \
            concurrent.futures.ThreadPoolExecutor(len(todo)) as each:
        jobs = {e: each.submit(prove_one, e, builds, runs, busy) for e in todo}
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
    print(f"prove-test-exercises: every reference test passes its grade, on "
          f"every correct build and every buggy one; tests that catch nothing "
          f"or check the wrong thing fail it ({len(todo)} exercises, "
          f"{took:.0f} s)")
    return 0
