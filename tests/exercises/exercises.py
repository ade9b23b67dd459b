"""make grade's engine: grades an exercise, grades them all into one table,
and proves the graders (a step of make test). Run from the top folder:

    exercises.py list                  the exercises, one a line
    exercises.py grade N.M [PATH]      grades one, against PATH (a copy of
                                       its stage folder, or for a "write a
                                       test" exercise the test file) or its
                                       own place; --quick: a quick look only
    exercises.py all                   grades every exercise against the
                                       folders as they are now: one table
    exercises.py prove BUILD [N.M...]  proves every grader (prove-graders),
                                       or these exercises' graders
    exercises.py prove-tests [N.M...]  proves the "write a test" exercises,
                                       or these (testgrading.py;
                                       prove-test-exercises)

Every exercise has a kind; KINDS maps a kind to the module that grades it
and proves its grader. Such a module has:

    LABEL                       how the list marks the kind ("" for none)
    work(exercise)              the paths a student changes: while they
                                are as shipped, the exercise is not started
    grade(exercise, where, run) grades where (None: the exercise's own
                                place); prints what it does to run.out and
                                returns an engine.Result
    proofs(exercise, proof)     the jobs that prove its grader: functions
                                that each return a list of engine.Proven

The compilers and flags (CC_gcc, FLAGS_asan, ...) come from the
environment, as the Makefile defines and exports them.
"""

import concurrent.futures
import itertools
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # harness.py
import engine  # noqa: E402
import server_change  # noqa: E402
import testgrading  # noqa: E402


class WriteATest:
    """The kind "test": the student writes a test that catches a bug, and
    testgrading.py grades it. Its proof is make prove-test-exercises."""
    LABEL = "write a test"

    @staticmethod
    def work(exercise):
        return [testgrading.default_file(exercise)]

    @staticmethod
    def grade(exercise, where, run):
        if run.out is sys.stdout:
            status = testgrading.grade(exercise, where)
        else:  # it prints to sys.stdout: a process of its own keeps that apart
            status = subprocess.run(
                [sys.executable, __file__, "grade", exercise.id,
                 *([str(where)] if where else [])],
                stdin=subprocess.DEVNULL, stdout=run.out,
                stderr=subprocess.STDOUT, cwd=engine.ROOT).returncode
        return engine.Result("passed" if status == 0 else "failed")

    @staticmethod
    def proofs(exercise, proof):
        return []


KINDS = {"server": server_change, "test": WriteATest}
JOBS = 10  # at once: graders spend most of their time waiting


def module(exercise):
    return KINDS[exercise.kind]


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
        print(f"  {e.id:4} {e.stage:14} {title} ({e.size})")
    return 0


def grade_one(exercise, where, quick):
    with tempfile.TemporaryDirectory(prefix="grade-") as work:
        run = engine.Run(work=pathlib.Path(work), quick=quick)
        result = grade(exercise, where, run)
    return 0 if result.status == "passed" else 1


def grade_quietly(exercise, run):
    """The grade of one exercise for the table, its output kept aside."""
    if engine.as_shipped(module(exercise).work(exercise)):
        return engine.Result("not started")
    with tempfile.TemporaryFile("w+") as log:
        run.out = log
        return grade(exercise, None, run)


def grade_all():
    """Grades every exercise that is started, several at once, and prints
    one table: what a teacher looks at for one student."""
    print(f"== every exercise, graded against the folders in {engine.ROOT} "
          f"as they are now")
    if engine.as_shipped([engine.HERE]) is None:
        print(f"   (neither git nor {engine.PRISTINE.relative_to(engine.ROOT)} "
              f"says what was handed out: every exercise is graded, and one "
              f"not started fails)")
    with tempfile.TemporaryDirectory(prefix="grade-all-") as work, \
            concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        once = engine.Once()  # two exercises of a stage share its builds
        jobs = [(e, pool.submit(grade_quietly, e, engine.Run(
                    work=pathlib.Path(work), stop_first=True, once=once)))
                for e in engine.exercises()]
        print(f"{'exercise':9} {'stage':14} {'result':12} {'time':>5}  first failure")
        counts = {}
        for exercise, job in jobs:
            result = job.result()
            counts[result.status] = counts.get(result.status, 0) + 1
            took = "-" if result.status == "not started" else f"{result.seconds:.0f} s"
            print(f"{exercise.id:9} {exercise.stage:14} {result.status:12} "
                  f"{took:>5}  {result.where()}")
    print(", ".join(f"{n} {status}" for status, n in counts.items()) + ".")
    print("An exercise is not started while its folder is as shipped. "
          "`make grade EX=N.M` shows one grade in full.")
    return 1 if "failed" in counts else 0


def prove_all(build_dir, only=()):
    """Proves every grader (or only those of these exercises); non-zero
    unless every proof holds."""
    if not engine.SOLUTIONS.is_dir():
        print("prove-graders: skipped, there is no tests/exercises/solutions/ "
              "(a copy handed to students has none)")
        return 0
    print("== exercises: every grader fails on its stage as shipped, passes with "
          "its reference solution, and catches each wrong solution at the "
          "check its header names")
    began = time.monotonic()
    proof = engine.Proof(pathlib.Path(build_dir).resolve() / "exercises")
    todo = [e for e in engine.exercises() if not only or e.id in only]
    planned = [[(e, job) for job in module(e).proofs(e, proof)] for e in todo]
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
    print(f"prove-graders: {proven.get('shipped', 0)} graders fail on their "
          f"stage as shipped, {proven.get('solution', 0)} reference solutions "
          f"pass, {proven.get('wrong', 0)} wrong solutions are caught "
          f"({took:.0f} s)")
    return 0


def main(args):
    sys.stdout.reconfigure(line_buffering=True)  # in order with the tools' output
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    if args == ["list"]:
        return list_exercises()
    if args == ["all"]:
        return grade_all()
    if len(args) >= 2 and args[0] == "prove":
        return prove_all(args[1], args[2:])
    if args[:1] == ["prove-tests"]:
        return testgrading.prove([e for e in engine.exercises()
                                  if len(args) == 1 or e.id in args[1:]])
    if len(args) in (2, 3) and args[0] == "grade":
        exercise = {e.id: e for e in engine.exercises()}.get(args[1])
        if exercise is None:
            print(f"there is no exercise {args[1]!r}: `make grade` lists them")
            return 2
        where = pathlib.Path(args[2]).resolve() if len(args) == 3 else None
        return grade_one(exercise, where, quick)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
