"""Exercises of the kind "server": the student changes a stage's server.

`make start EX=N.M` makes mine/N.M/, a copy of the stage as it was handed
out, where the student works; the stage folder stays as it is. The grade
builds mine/N.M/ (or DIR=) with the stage's own Makefile, not the one in
the folder: what is graded is the student's C, built the same way for
everyone. It goes in steps, and stops at the first that fails:

    warnings  the folder is built by gcc with the stage's own flags and
              -Werror: a warning fails the grade
    asan      it is built by clang with AddressSanitizer and
              UndefinedBehaviorSanitizer (and -Werror), and the grader's
              socket tests run on that build: a sanitizer's report fails
              the check it came in
    tsan      for a threaded stage (feature `threads` in tests/stages.txt)
              it is built with ThreadSanitizer, and the tests run again

A quick look (QUICK=1) builds it plainly with gcc and runs the tests once:
that is not the grade.

Exercise N.M is graded by grade_N_M.py. Its reference solution is
solutions/N.M.patch, a patch against the stage folder. Its wrong solutions
are solutions/wrong/N.M-*.patch: each is a patch on top of the reference
solution that makes one mistake students make, and starts with a header:

    Mistake:   what is wrong, in a line
    Caught by: asan test_name

    Why it is wrong, and how the grader sees it.

"Caught by" names the step that must catch it and, for a step that runs
the tests, the check that fails first; alternatives are joined by " or ".
"""

import collections
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time

import tsan
from engine import (HERE, ROOT, SOLUTIONS, Proven, Result, as_handed_out,
                    junit_cases, mutant_runner, shown, write_as_handed_out)
from harness import STAGES

LABEL = ""
WRONG = SOLUTIONS / "wrong"
# What an exercise gives the student to copy into the folder, as its
# specification says: a proof copies it in before the patches, so that a
# solution holds only the student's own work.
GIVEN = {"5.2": [HERE / "md5" / "md5.c", HERE / "md5" / "md5.h"]}
MIN_WRONG = 2           # wrong solutions every exercise has
TEST_TIMEOUT = 600      # seconds: a grader that runs longer has hung

# A step of the grade: the Makefile's build whose CC_ and FLAGS_ it takes,
# whether -Werror is added, whether the grader's tests run on it, and what
# it is, in a few words and in more.
Step = collections.namedtuple("Step", "build werror graded name what")
STEPS = {
    "warnings": Step("gcc", True, False, "the -Werror build",
                     "gcc, every warning an error (-Werror)"),
    "asan": Step("asan", True, True, "the ASan+UBSan build",
                 "AddressSanitizer and UndefinedBehaviorSanitizer: memory "
                 "errors and undefined behaviour"),
    "tsan": Step("tsan", True, True, "the TSan build",
                 "ThreadSanitizer: data races"),
    "quick": Step("gcc", False, True, "the plain build", "plain gcc, no sanitizer"),
}

WARNINGS_COUNT = (
    "== Warnings fail the grade: make test builds every stage with -Werror, "
    "because a warning is often a bug the compiler saw first (an unused "
    "variable is a value you forgot to use). Fix each one above, then grade "
    "again.")
NOT_YET = (
    "== exercise {id}: not yet ({test} failed, on {step}). Each failure above says what was "
    "sent, what was expected and what came back; a sanitizer's report is a "
    "bug even when every reply was right: its first lines say what went "
    "wrong, and where. The exercise is specified in "
    "tests/exercises/README.md.")
QUICK_LOOK = (
    "== QUICK=1: that was a quick look, on a plain build: not the grade. "
    "The grade also fails on any warning, and runs the tests under the "
    "sanitizers: make grade EX={id}")


def start(exercise):
    """make start EX=N.M: mine/N.M/, a copy of the stage as handed out."""
    archive, source = as_handed_out(exercise.stage)
    if archive is None:
        print(f"make start: {exercise.stage} as it was handed out cannot be "
              f"found: {source}")
        return None
    with archive:
        folder = exercise.folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.parent / f".{exercise.id}.start"
        shutil.rmtree(staging, ignore_errors=True)
        write_as_handed_out(exercise.stage, archive, staging)
        (staging / exercise.stage).rename(folder)
        staging.rmdir()
    for given in GIVEN.get(exercise.id, []):
        shutil.copy(given, folder)
    names = " and ".join(g.name for g in GIVEN.get(exercise.id, []))
    return (f"{shown(folder)}/ is a copy of {exercise.stage}/ as handed out "
            f"(from {source}){', with ' + names + ', given' if names else ''}: "
            f"change it there, then grade it with make grade EX={exercise.id}. "
            f"{exercise.stage}/ stays as it is.")


def grader(exercise):
    return HERE / f"grade_{exercise.id.replace('.', '_')}.py"


def steps(exercise, quick):
    if quick:
        return ["quick"]
    threaded = "threads" in STAGES[exercise.stage]
    return ["warnings", "asan"] + (["tsan"] if threaded else [])


# ---------------------------------------------------------------- grade


def compiler(step):
    """The compiler and the EXTRA_CFLAGS of a step, from the environment
    (CC_gcc, FLAGS_gcc, ...: the Makefile's)."""
    build, werror = STEPS[step].build, STEPS[step].werror
    try:
        cc = os.environ[f"CC_{build}"]
        flags = os.environ[f"FLAGS_{build}"].split() if werror else []
    except KeyError as missing:
        raise SystemExit(f"{missing} is not in the environment: grade "
                         f"through make (make grade EX=N.M)") from None
    if werror and "-Werror" not in flags:
        flags.append("-Werror")
    return cc, " ".join(flags)


def build(folder, makefile, step, out):
    """Builds a copy of folder, with makefile in place of its own, into
    out/server; returns (whether it built, what the compiler said)."""
    cc, flags = compiler(step)
    source = out.parent / f"{out.name}-source"
    for place in (out, source):
        shutil.rmtree(place, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copytree(folder, source, symlinks=True,
                    ignore=shutil.ignore_patterns("server", "*.o", "__pycache__"))
    shutil.copyfile(makefile, source / "Makefile")
    made = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(source), f"OUT={out}",
         f"CC={cc}", f"EXTRA_CFLAGS={flags}"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True)
    said = (made.stdout + made.stderr).replace(str(source), shown(folder))
    return made.returncode == 0, said


def warnings_only(said):
    """Whether what the compiler said fails the build by warnings alone:
    every error it reports is a warning that -Werror made one."""
    errors = re.findall(r"error: .*", said)
    return bool(errors) and all("-Werror" in e for e in errors)


def read_report(report):
    """(tests, errors, the first check that failed or "") from pytest's
    JUnit XML report."""
    cases = junit_cases(report)
    first = next((name for name, end, _ in cases
                  if end in ("failure", "error")), "")
    return len(cases), [end for _, end, _ in cases].count("error"), first


def run_tests(exercise, bin_dir, report, run):
    """Runs the grader on bin_dir/STAGE/server; returns a Result."""
    command = mutant_runner.pytest_command(
        str(grader(exercise)), "--bin-dir", str(bin_dir), "--stage",
        exercise.stage, f"--junitxml={report}",
        *(["-x"] if run.stop_first else []))
    status = mutant_runner.run(command, run.out, TEST_TIMEOUT, cwd=ROOT)
    if status is None:
        return Result("failed", test=f"(hung for {TEST_TIMEOUT} s)")
    tests, errors, first = read_report(report)
    # test_x[v0.6-post] and test_x[v0.6-post-b'GET'] are test_x and test_x[b'GET']
    first = first.replace(f"[{exercise.stage}]", "").replace(f"[{exercise.stage}-", "[")
    if status == 0:
        return Result("passed", tests=tests)
    return Result("failed", test=first or f"(the grader did not run: pytest "
                  f"status {status})", errors=errors, tests=tests)


def grade(exercise, where, run):
    folder = where or exercise.folder
    if where is None and not folder.is_dir():
        run.say(f"{shown(folder)}/ does not exist: make start EX={exercise.id} "
                f"makes it, a copy of {exercise.stage}/ as handed out, where you "
                f"do exercise {exercise.id}.")
        return Result("failed", "build", "(not started)")
    if not folder.is_dir() or not list(folder.glob("*.c")):
        run.say(f"{shown(folder)} holds no C file: DIR must be a copy of "
                f"{exercise.stage}, the folder you changed.")
        return Result("failed", "build")
    run.say(f"== exercise {exercise.id} ({exercise.stage}): {exercise.title}")
    # Two exercises of one stage, graded together, share its builds.
    bins = run.work / "bin" / (
        folder.name + "-" + hashlib.sha1(str(folder).encode()).hexdigest()[:8])
    tests = 0
    for step in steps(exercise, run.quick):
        run.say(f"== {shown(folder)}, built by {STEPS[step].what}")
        built, said = run.once((folder, step), lambda step=step: build(
            folder, ROOT / exercise.stage / "Makefile", step,
            bins / step / exercise.stage))
        print(said, end="", file=run.out, flush=True)
        if not built:
            warned = warnings_only(said)
            run.say(WARNINGS_COUNT if warned else
                    "== The build failed: fix the errors above, then grade again.")
            return Result("failed", "warnings" if warned else "build")
        if not STEPS[step].graded:
            continue
        if STEPS[step].build == "tsan":
            try:
                tsan.launcher()
            except tsan.CannotRun as problem:
                run.say(f"== {problem}")
                return Result("failed", step, "(ThreadSanitizer cannot run here)")
        run.say(f"== its tests: {grader(exercise).relative_to(ROOT)}")
        result = run_tests(exercise, bins / step,
                           bins / f"{exercise.id}-{step}.xml", run)
        if result.status != "passed":
            result.step = step
            run.say(NOT_YET.format(id=exercise.id, test=result.test,
                                   step=STEPS[step].name))
            return result
        tests = result.tests
    if run.quick:
        run.say(QUICK_LOOK.format(id=exercise.id))
    else:
        run.say(f"== exercise {exercise.id}: passed ({tests} checks; no "
                f"warning; no report from {', '.join(steps(exercise, False)[1:])})")
    return Result("passed", tests=tests)


# ---------------------------------------------------------------- proofs


def reference(exercise):
    return SOLUTIONS / f"{exercise.id}.patch"


def wrong_solutions(exercise):
    return sorted(WRONG.glob(f"{exercise.id}-*.patch"))


def catchers(header):
    """The (step, check) pairs "Caught by" allows; check "" for any."""
    pairs = []
    for alternative in header.get("Caught by", "").split(" or "):
        step, _, check = alternative.strip().partition(" ")
        pairs.append((step, check.strip()))
    return pairs


def caught_as_said(result, pairs):
    return any(result.step == step and
               (not check or result.test == check or
                result.test.startswith(check + "["))
               for step, check in pairs)


@contextlib.contextmanager
def job_place(exercise, name, proof):
    """A fresh folder for one proof job, and the log it writes to."""
    place = proof.build / exercise.id / name
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    with open(place / "log", "w") as log:
        yield place, log


def log_of(place, lines=120):
    kept = (place / "log").read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"     | {line}" for line in kept)


def solved_copy(exercise, place, patches):
    """A copy of the stage with the patches applied, in order; returns the
    copy's folder, or None if one does not apply (the log says why)."""
    source = place / exercise.stage
    shutil.copytree(ROOT / exercise.stage, source,
                    ignore=shutil.ignore_patterns("server", "*.o", "README.md"))
    for given in GIVEN.get(exercise.id, []):
        shutil.copy(given, source)
    for patch in patches:
        applied = subprocess.run(
            ["patch", "-p1", "-s", "--no-backup-if-mismatch", "-d", str(source),
             "-i", str(patch)], stdin=subprocess.DEVNULL, capture_output=True,
            text=True)
        if applied.returncode != 0:
            (place / "log").write_text(applied.stdout + applied.stderr)
            return None
    return source


def prove_shipped(exercise, proof):
    """The grader fails on the stage as shipped, by a failing check: it
    can fail."""
    with job_place(exercise, "shipped", proof) as (place, log):
        result = grade(exercise, ROOT / exercise.stage,
                       proof.run(log, stop_first=True))
    ok = result.status == "failed" and result.step in STEPS and \
        STEPS[result.step].graded and not result.errors
    return [Proven(ok, f"fails on {exercise.stage} as shipped: {result.where()}"
                   if ok else f"does not fail by a check on {exercise.stage} "
                   f"as shipped ({result.status}: {result.where()}; "
                   f"{result.errors} errors)", "shipped", log_of(place))]


def prove_reference(exercise, proof):
    """The reference solution passes the whole grade."""
    began = time.monotonic()
    with job_place(exercise, "solution", proof) as (place, log):
        source = solved_copy(exercise, place, [reference(exercise)])
        if source is None:
            return [Proven(False, f"{reference(exercise).name} does not apply to "
                           f"{exercise.stage}", "solution", log_of(place))]
        result = grade(exercise, source, proof.run(log, stop_first=False))
    done = ", ".join(steps(exercise, False))
    if result.status == "passed":
        return [Proven(True, f"{reference(exercise).name} passes ({result.tests} "
                       f"checks; {done}; {time.monotonic() - began:.0f} s)",
                       "solution")]
    return [Proven(False, f"{reference(exercise).name} fails: {result.where()}",
                   "solution", log_of(place))]


def prove_wrong(exercise, patch, proof):
    """The wrong solution fails the grade, at the step and the check its
    header names: it is caught, and for the mistake it makes."""
    began = time.monotonic()
    header = mutant_runner.read_fields(patch)
    name = f"wrong/{patch.name}"
    if not header.get("Mistake") or not header.get("Caught by"):
        return [Proven(False, f"{name}: its header needs Mistake: and Caught by:",
                       "wrong")]
    with job_place(exercise, patch.stem, proof) as (place, log):
        source = solved_copy(exercise, place, [reference(exercise), patch])
        if source is None:
            return [Proven(False, f"{name} does not apply on top of "
                           f"{reference(exercise).name}", "wrong", log_of(place))]
        result = grade(exercise, source, proof.run(log, stop_first=True))
    took = f"{time.monotonic() - began:.0f} s"
    if result.status == "passed":
        return [Proven(False, f"{name} LET THROUGH: the grader passes it "
                       f"({header['Mistake']})", "wrong", log_of(place))]
    if not caught_as_said(result, catchers(header)):
        return [Proven(False, f"{name} caught by {result.where()}, but its "
                       f"header says {header['Caught by']}", "wrong",
                       log_of(place))]
    return [Proven(True, f"{name} caught by {result.where()} ({took})", "wrong")]


def proofs(exercise, proof, references=True):
    """Its grader fails on the stage as shipped, passes on the reference
    solution (unless references is false: make prove-handout grades it),
    and fails on each wrong solution, as its header says."""
    if not grader(exercise).is_file() or not reference(exercise).is_file():
        return [lambda: [Proven(False, "no grader or no reference solution",
                                "solution")]]
    # The longest first: the reference's whole grade.
    jobs = [lambda: prove_reference(exercise, proof)] if references else []
    jobs += [lambda: prove_shipped(exercise, proof)]
    wrong = wrong_solutions(exercise)
    jobs += [lambda w=w: prove_wrong(exercise, w, proof) for w in wrong]
    if len(wrong) < MIN_WRONG:
        jobs.append(lambda: [Proven(False, f"has {len(wrong)} wrong solutions "
                                    f"in {WRONG.relative_to(ROOT)}: at least "
                                    f"{MIN_WRONG}", "wrong")])
    return jobs
