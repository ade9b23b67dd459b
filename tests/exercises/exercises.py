"""Grades an exercise, or proves that every grader can fail and can pass.

    exercises.py grade N.M [DIR]   builds DIR (default: the exercise's stage
                                   folder) into a temporary folder and runs
                                   grade_N_M.py against it; for an exercise
                                   that asks for a test, DIR is the test file
                                   and testgrading.py grades it
    exercises.py prove BUILD       for every exercise: its grader must fail
                                   on the stage as shipped (tests fail, the
                                   build does not), and pass on a copy of
                                   the stage with solutions/N.M.patch applied,
                                   built with -Werror by gcc and clang, and
                                   run plain, under ASan+UBSan and, for the
                                   threaded stages, under TSan
    exercises.py prove-tests BUILD for every exercise that asks for a test:
                                   its reference test passes the grade, and
                                   an empty or trivial test fails it

Run by `make grade EX=N.M [DIR=path | FILE=path]`, and by `make
prove-graders` and `make prove-test-exercises` (steps of `make test`), from
the top folder.
"""

import concurrent.futures
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from harness import STAGES  # noqa: E402  (the stage table, tests/stages.txt)
import testgrading  # noqa: E402  (the exercises that ask for a test)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SANITIZE = ("-fsanitize=address,undefined -fno-sanitize-recover=all "
            "-fno-omit-frame-pointer")
# How a solution is built: (name, compiler, flags, whether its grader runs).
SOLUTION_BUILDS = [
    ("gcc", "gcc", "-Werror", True),
    ("clang", "clang", "-Werror", False),
    ("asan", "clang", "-Werror " + SANITIZE, True),
]
THREADS_BUILD = ("tsan", "clang", "-Werror -fsanitize=thread", True)
JOBS = 6  # graders run at once: most of their time is spent waiting


class Exercise:
    def __init__(self, line):
        self.id, self.stage, self.size, self.kind, self.title = [
            cell.strip() for cell in line.split("|", 4)]
        self.grader = HERE / f"grade_{self.id.replace('.', '_')}.py"
        self.solution = HERE / "solutions" / f"{self.id}.patch"


def exercises():
    lines = (HERE / "exercises.txt").read_text().splitlines()
    return [Exercise(line) for line in lines if line and not line.startswith("#")]


def build(source, out_dir, cc=None, flags=""):
    """Builds source/ into out_dir/server with the stage's own Makefile;
    returns the compiler's output, or raises CalledProcessError."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = ["make", "-s", "--no-print-directory", "-C", str(source),
               f"OUT={out_dir.resolve()}", f"EXTRA_CFLAGS={flags}"]
    if cc:
        command.append(f"CC={cc}")
    return subprocess.run(command, check=True, capture_output=True, text=True)


def pytest_command(exercise, bin_dir, *extra):
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--tb=short", str(exercise.grader), "--bin-dir", str(bin_dir),
            "--stage", exercise.stage, *extra]


# ---------------------------------------------------------------- grade


def grade(exercise, folder):
    """Builds the folder and runs the exercise's grader on it: the exit
    status is the grader's."""
    folder = pathlib.Path(folder)
    if not (folder / "Makefile").is_file():
        print(f"{folder} has no Makefile: DIR must be a copy of "
              f"{exercise.stage}, the folder you changed.")
        return 2
    print(f"== exercise {exercise.id} ({exercise.stage}): {exercise.title}")
    print(f"== building {folder}")
    with tempfile.TemporaryDirectory(prefix="grade-") as bin_dir:
        try:
            result = build(folder, pathlib.Path(bin_dir) / exercise.stage)
            print(result.stdout + result.stderr, end="")
        except subprocess.CalledProcessError as error:
            print(error.stdout + error.stderr, end="")
            print("== the build failed: fix the errors above, then grade again.")
            return 1
        print(f"== grading with {exercise.grader.relative_to(ROOT)}")
        status = subprocess.run(pytest_command(exercise, bin_dir)).returncode
    if status == 0:
        print(f"== exercise {exercise.id}: passed")
    else:
        print(f"== exercise {exercise.id}: not yet. Each failure above says "
              f"what was sent, what was expected and what came back; the "
              f"exercise is specified in tests/exercises/README.md.")
    return status


# ---------------------------------------------------------------- prove


def outcome(exercise, bin_dir, report):
    """Runs the grader; returns (counts from its JUnit report, its output)."""
    result = subprocess.run(
        pytest_command(exercise, bin_dir, f"--junitxml={report}"),
        capture_output=True, text=True, timeout=900)
    counts = {"status": result.returncode}
    try:
        suite = ElementTree.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] = int(suite.get(key, 0))
    except (OSError, ElementTree.ParseError):
        counts.update(tests=0, failures=0, errors=0, skipped=0)
    return counts, result.stdout + result.stderr


def copy_stage(stage, dest):
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / stage, dest,
                    ignore=shutil.ignore_patterns("server", "*.o", "README.md"))


def prove(exercise, build_dir):
    """Returns (ok, what it found, the output worth showing if not ok)."""
    began = time.monotonic()
    work = build_dir / exercise.id
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if not exercise.grader.is_file() or not exercise.solution.is_file():
        return False, "no grader or no solution", ""

    shipped, log = outcome(exercise, build_dir / "shipped", work / "shipped.xml")
    if shipped["status"] != 1 or shipped["failures"] == 0 or shipped["errors"]:
        return False, (f"its grader does not fail as it should on "
                       f"{exercise.stage} as shipped (exit status "
                       f"{shipped['status']}, {shipped['failures']} failed, "
                       f"{shipped['errors']} errors): a grader must fail by "
                       f"its tests, not by an error"), log

    source = work / "src"
    copy_stage(exercise.stage, source)
    applied = subprocess.run(["patch", "-p1", "-s", "-d", str(source),
                              "-i", str(exercise.solution)],
                             capture_output=True, text=True)
    if applied.returncode != 0:
        return False, "its solution does not apply to the stage", \
            applied.stdout + applied.stderr
    builds = SOLUTION_BUILDS
    if "threads" in STAGES[exercise.stage]:
        builds = builds + [THREADS_BUILD]
    for name, cc, flags, graded in builds:
        bin_dir = work / name
        try:
            build(source, bin_dir / exercise.stage, cc, flags)
        except subprocess.CalledProcessError as error:
            return False, f"its solution does not build ({cc} {flags})", \
                error.stdout + error.stderr
        if graded:
            solved, log = outcome(exercise, bin_dir, work / f"{name}.xml")
            if solved["status"] != 0:
                return False, f"its grader fails on the solution ({name} build)", log
    graded = ", ".join(name for name, _, _, run in builds if run)
    return True, (f"{shipped['failures']} of {shipped['tests']} tests fail "
                  f"as shipped; all pass with the solution ({graded}); "
                  f"{time.monotonic() - began:.0f} s"), ""


def prove_all(build_dir):
    build_dir = pathlib.Path(build_dir)
    began = time.monotonic()
    if not (HERE / "solutions").is_dir():
        print("prove-graders: skipped, there is no tests/exercises/solutions/ "
              "(a copy handed to students has none)")
        return 0
    todo = [e for e in exercises() if e.kind == "server"]
    for stage in sorted({e.stage for e in todo}):
        try:
            build(ROOT / stage, build_dir / "shipped" / stage, "gcc", "-Werror")
        except subprocess.CalledProcessError as error:
            print(error.stdout + error.stderr, end="")
            print(f"prove-graders: {stage} as shipped does not build")
            return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        jobs = {e: pool.submit(prove, e, build_dir) for e in todo}
        for exercise, job in jobs.items():
            ok, what, log = job.result()
            mark = "ok  " if ok else "FAIL"
            print(f"{mark} {exercise.id} {exercise.stage:14} {what}")
            if not ok:
                failed += 1
                print(log)
    took = time.monotonic() - began
    if failed:
        print(f"prove-graders: {failed} of {len(todo)} exercises failed ({took:.0f} s)")
        return 1
    print(f"prove-graders: every grader fails on its stage as shipped and "
          f"passes with its solution ({len(todo)} exercises, {took:.0f} s)")
    return 0


def main(args):
    sys.stdout.reconfigure(line_buffering=True)  # in order with the tools' output
    by_id = {e.id: e for e in exercises()}
    if len(args) >= 2 and args[0] == "prove":
        return prove_all(args[1])
    if len(args) >= 2 and args[0] == "prove-tests":
        return testgrading.prove(args[1], exercises())
    if len(args) in (2, 3) and args[0] == "grade":
        exercise = by_id.get(args[1])
        if exercise is None:
            print(f"there is no exercise {args[1]!r}: `make grade` lists them")
            return 2
        if exercise.kind == "test":
            return testgrading.grade(exercise, args[2] if len(args) == 3 else None)
        return grade(exercise, args[2] if len(args) == 3 else ROOT / exercise.stage)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
