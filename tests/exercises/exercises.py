"""make grade's engine: starts an exercise, grades one, grades them all
into one table, and proves the graders (a step of make test). Run from the
top folder:

    exercises.py list                  the exercises, one a line
    exercises.py start N.M             makes mine/N.M/, where exercise N.M
                                       is done (make start EX=N.M)
    exercises.py grade N.M [PATH]      grades one: mine/N.M/, or PATH (a
                                       copy of its stage folder, or for a
                                       "write a test" exercise the test
                                       file); --quick: a quick look only;
                                       --first: stop at the first failing
                                       check; --result FILE: the Result as
                                       JSON in FILE
    exercises.py all [--logs DIR] [--results FILE] [--jobs N] [--timeout S]
                     [--only N.M,...]  grades every exercise started in
                                       mine/ (or these), each in a process
                                       of its own killed whole after S
                                       seconds: one table with points; each
                                       grade's output in DIR/N.M.log, each
                                       row as a line of JSON in FILE
    exercises.py prove BUILD [--without-references] [N.M...]
                                       proves every grader (prove-graders),
                                       or these exercises' graders; without
                                       references, all but that the
                                       reference solutions pass
    exercises.py prove-tests [N.M...]  proves the "write a test" exercises,
                                       or these (testgrading.py;
                                       prove-test-exercises)

Every exercise has a kind; KINDS maps a kind to the module that grades it
and proves its grader. Such a module has:

    LABEL                       how the list marks the kind ("" for none)
    start(exercise)             makes exercise.folder, mine/N.M/; returns
                                what to tell the student
    grade(exercise, where, run) grades where (None: mine/N.M/); prints
                                what it does to run.out and returns an
                                engine.Result
    proofs(exercise, proof, references)
                                the jobs that prove its grader: functions
                                that each return a list of engine.Proven
                                (without references: all but that the
                                reference solution passes)

The compilers and flags (CC_gcc, FLAGS_asan, ...) come from the
environment, as the Makefile defines and exports them.
"""

import concurrent.futures
import contextlib
import dataclasses
import io
import itertools
import json
import pathlib
import re
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # harness.py
import engine  # noqa: E402
import server_change  # noqa: E402
import testgrading  # noqa: E402

ROOT = engine.ROOT
shown = engine.shown


class Tee(io.TextIOBase):
    """Writes to a stream and keeps a copy."""

    def __init__(self, stream):
        self.stream, self.kept = stream, io.StringIO()

    def write(self, text):
        self.kept.write(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


class WriteATest:
    """The kind "test": the student writes a test that catches a bug, in
    mine/N.M/test_N_M.py, and testgrading.py grades it. Its proof is make
    prove-test-exercises."""
    LABEL = "write a test"

    STARTER = '''"""Exercise {id}: {title}.

Say here, in a few lines, what your test does: what it sends, what a
correct server does then, and what the bug makes the server do instead.
What the exercise asks: tests/exercises/README.md, exercise {id}. Run it
with `make grade EX={id}`.
"""

import pytest  # noqa: F401

from harness import TIMEOUT, ask, ask_many, wait_until  # noqa: F401

# Your tests: functions named test_..., each taking the fixture `server`
# (or `start`); tests/exercises/README.md shows the harness at a glance.
'''

    @staticmethod
    def start(exercise):
        test_file = testgrading.default_file(exercise)
        test_file.parent.mkdir(parents=True)
        title = exercise.title[:1].lower() + exercise.title[1:]
        test_file.write_text(WriteATest.STARTER.format(id=exercise.id, title=title))
        return (f"{shown(test_file)}: write your tests there, then grade them "
                f"with make grade EX={exercise.id}")

    @staticmethod
    def grade(exercise, where, run):
        """testgrading prints to sys.stdout: in a grade of its own it is
        run.out. Its first line that says FAIL, or its last, is the first
        failure."""
        tee = Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            status = testgrading.grade(exercise, where)
        if status == 0:
            return engine.Result("passed")
        lines = tee.kept.getvalue().splitlines()
        failure = next((line[4:].strip() for line in lines if line.startswith("FAIL")),
                       lines[-1].lstrip("= ") if lines else "")
        failure = re.sub(r" \([\d.]+ (to [\d.]+ )?s( each)?\)$", "", failure)
        return engine.Result("failed", test=failure[:160])

    @staticmethod
    def proofs(exercise, proof, references=True):
        return []


KINDS = {"server": server_change, "test": WriteATest}
JOBS = 10               # grades at once: graders spend most of their time waiting
EXERCISE_TIMEOUT = 600  # seconds a grade of make grade ALL=1 may take


def module(exercise):
    return KINDS[exercise.kind]


def find(ident):
    exercise = {e.id: e for e in engine.exercises()}.get(ident)
    if exercise is None:
        print(f"there is no exercise {ident!r}: `make grade` lists them")
    return exercise


def grade(exercise, where, run):
    """Grades one exercise, timed; its kind's module does the work."""
    began = time.monotonic()
    result = module(exercise).grade(exercise, where, run)
    result.seconds = time.monotonic() - began
    return result


def list_exercises():
    for e in engine.exercises():
        label = module(e).LABEL
        title = f"{label}: {e.title[:1].lower()}{e.title[1:]}" if label else e.title
        started = f"; started in mine/{e.id}/" if e.folder.exists() else ""
        print(f"  {e.id:4} {e.stage:14} {title} ({e.size}, {e.points} points{started})")
    return 0


def start(exercise):
    """make start EX=N.M: makes mine/N.M/, never over one that exists."""
    if exercise.folder.exists() or exercise.folder.is_symlink():
        print(f"make start: {shown(exercise.folder)}/ exists already, and holds "
              f"your work on exercise {exercise.id}: nothing was changed. To begin "
              f"again from scratch, move it away first (mv {shown(exercise.folder)} "
              f"{shown(exercise.folder)}-old), then make start EX={exercise.id}.")
        return 1
    said = module(exercise).start(exercise)
    if said is None:
        return 2
    print(f"make start: {said}")
    return 0


def grade_one(exercise, where, quick, first=False, result_file=None):
    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        run = engine.Run(work=pathlib.Path(work), quick=quick, stop_first=first)
        result = grade(exercise, where, run)
    if result_file:
        pathlib.Path(result_file).write_text(json.dumps(dataclasses.asdict(result)))
    return 0 if result.status == "passed" else 1


# ------------------------------------------------------------- make grade ALL=1


@dataclasses.dataclass
class Row:
    """One exercise's line of the table, and of the results file."""
    exercise: str
    stage: str
    status: str          # "passed", "failed" or "not started"
    points: int
    max_points: int
    seconds: float = 0.0
    first_failure: str = ""
    log: str = ""


def row_of(exercise, result, log=None):
    return Row(exercise.id, exercise.stage, result.status,
               exercise.points if result.status == "passed" else 0,
               exercise.points, round(result.seconds, 1), result.where(),
               shown(log) if log else "")


def grade_apart(exercise, logs, timeout):
    """Grades the exercise in a process of its own, in a session of its
    own, its output in logs/N.M.log. After timeout seconds it is killed
    whole, and so is every process it started, even one that left its
    session (engine.MARKER). Returns its Row."""
    log = logs / f"{exercise.id}.log"
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grade-row-") as work, \
            open(log, "w") as out:
        said = pathlib.Path(work) / "result.json"
        command = [sys.executable, __file__, "grade", exercise.id, "--first",
                   "--result", str(said)]
        status, left = engine.run_whole(command, out, timeout, ROOT)
        took = time.monotonic() - began
        if status is None:
            out.write(f"\n== exercise {exercise.id}: stopped after {timeout:g} s, "
                      f"the time a grade may take; {left} processes it left "
                      f"were killed\n")
            result = engine.Result(
                "failed", test=f"(no grade within {timeout:g} s: stopped)")
        elif said.is_file():
            result = engine.Result(**json.loads(said.read_text()))
        else:
            result = engine.Result("failed", test=f"(the grade stopped: status "
                                   f"{status}; see its log)")
    result.seconds = took
    return row_of(exercise, result, log)


def grade_all(logs, results=None, jobs=JOBS, timeout=EXERCISE_TIMEOUT, only=None):
    """Grades every exercise started in mine/ (of only, if given), several
    at once, and prints one table with points: what a teacher looks at for
    one student."""
    logs = pathlib.Path(logs).resolve()
    logs.mkdir(parents=True, exist_ok=True)
    print(f"== every exercise started in {shown(engine.MINE)}/, graded "
          f"(each grade's whole output: {shown(logs)}/N.M.log)")
    out = open(results, "w") if results else None
    todo = [e for e in engine.exercises() if not only or e.id in only]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        jobs_of = {e.id: pool.submit(grade_apart, e, logs, timeout)
                   for e in todo if e.folder.exists()}
        print(f"{'exercise':9} {'stage':14} {'result':12} {'points':>7} "
              f"{'time':>5}  first failure")
        rows = []
        for exercise in todo:
            job = jobs_of.get(exercise.id)
            row = job.result() if job else \
                row_of(exercise, engine.Result("not started"))
            rows.append(row)
            if out:
                out.write(json.dumps(dataclasses.asdict(row)) + "\n")
                out.flush()
            took = "-" if job is None else f"{row.seconds:.0f} s"
            print(f"{row.exercise:9} {row.stage:14} {row.status:12} "
                  f"{row.points:>3}/{row.max_points:<3} {took:>5}  {row.first_failure}")
    if out:
        out.close()
    counts = {s: sum(r.status == s for r in rows)
              for s in ("passed", "failed", "not started")}
    points, out_of = sum(r.points for r in rows), sum(r.max_points for r in rows)
    print(f"{len(rows)} exercises: " + ", ".join(f"{n} {s}" for s, n in counts.items())
          + f"; {points} of {out_of} points.")
    print("An exercise is not started while mine/N.M/ does not exist (make "
          "start EX=N.M makes it). `make grade EX=N.M` shows one grade in full.")
    return 1 if counts["failed"] else 0


# ---------------------------------------------------------------- proofs


def prove_all(build_dir, only=(), references=True):
    """Proves every grader (or only those of these exercises); non-zero
    unless every proof holds. Without references, the reference solutions
    are left to make prove-handout, which grades them in a handout."""
    if not engine.SOLUTIONS.is_dir():
        print("prove-graders: skipped, there is no tests/exercises/solutions/ "
              "(a copy handed to students has none)")
        return 0
    print("== exercises: every grader fails on its stage as shipped, "
          + ("passes with its reference solution, " if references else "")
          + "and catches each wrong solution at the check its header names")
    if not references:
        print("   (that the reference solutions pass: make prove-handout grades "
              "them all, in a handout; make prove-graders EX=N.M, one here)")
    began = time.monotonic()
    proof = engine.Proof(pathlib.Path(build_dir).resolve() / "exercises")
    todo = [e for e in engine.exercises() if not only or e.id in only]
    planned = [[(e, job) for job in module(e).proofs(e, proof, references)]
               for e in todo]
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        # Each exercise's first job first (the longest, for a short wall
        # time), but the results in the order of the exercises.
        started = {id(job): pool.submit(job)
                   for row in itertools.zip_longest(*planned)
                   for _, job in filter(None, row)}
        jobs = [(e, started[id(job)]) for jobs in planned for e, job in jobs]
        failed, proven = 0, {}
        for exercise, job in jobs:
            for p in job.result():
                print(f"{'ok  ' if p.ok else 'FAIL'} {exercise.id:4} {p.what}")
                if p.ok:
                    proven[p.category] = proven.get(p.category, 0) + 1
                else:
                    failed += 1
                    print(p.log.rstrip() + "\n" if p.log else "", end="")
    took = time.monotonic() - began
    if failed:
        print(f"prove-graders: {failed} proofs failed ({took:.0f} s)")
        return 1
    solutions = (f"{proven.get('solution', 0)} reference solutions pass, "
                 if references else "")
    print(f"prove-graders: {proven.get('shipped', 0)} graders fail on their "
          f"stage as shipped, {solutions}{proven.get('wrong', 0)} wrong "
          f"solutions are caught ({took:.0f} s)")
    return 0


# ---------------------------------------------------------------- main


def option(args, name, default=None):
    """The value after --name in args (removed from args), or default."""
    if name not in args:
        return default
    at = args.index(name)
    if at + 1 >= len(args):
        raise SystemExit(f"{name} needs a value")
    value = args[at + 1]
    del args[at:at + 2]
    return value


def flag(args, name):
    if name in args:
        args.remove(name)
        return True
    return False


def main(args):
    sys.stdout.reconfigure(line_buffering=True)  # in order with the tools' output
    args = list(args)
    quick, first = flag(args, "--quick"), flag(args, "--first")
    result_file = option(args, "--result")
    if args == ["list"]:
        return list_exercises()
    if args[:1] == ["all"]:
        logs = option(args, "--logs", str(ROOT / "build" / "grade"))
        results = option(args, "--results")
        jobs = int(option(args, "--jobs", JOBS))
        timeout = float(option(args, "--timeout", EXERCISE_TIMEOUT))
        only = option(args, "--only")
        if args == ["all"]:
            return grade_all(logs, results, jobs, timeout,
                             only.split(",") if only else None)
    if len(args) >= 2 and args[0] == "prove":
        references = not flag(args, "--without-references")
        return prove_all(args[1], args[2:], references)
    if args[:1] == ["prove-tests"]:
        return testgrading.prove([e for e in engine.exercises()
                                  if len(args) == 1 or e.id in args[1:]])
    if len(args) == 2 and args[0] == "start":
        exercise = find(args[1])
        return 2 if exercise is None else start(exercise)
    if len(args) in (2, 3) and args[0] == "grade":
        exercise = find(args[1])
        if exercise is None:
            return 2
        where = pathlib.Path(args[2]).resolve() if len(args) == 3 else None
        return grade_one(exercise, where, quick, first, result_file)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
