"""Proves the tests have teeth: each mutant in tests/mutants/ is a classic
bug planted in one stage, and the stage's socket tests must fail on it.

    run.py --build DIR MUTANT.patch...

For each mutant: copies its stage to DIR/mutants/NAME/, applies the patch,
builds it as its header says (gcc, asan, tsan, or valgrind: the gcc build
run under $VALGRIND), runs the test files its header names until the first
failure, and prints one line: the mutant and the test that caught it.
Exits 1 unless every mutant was caught. The compilers and flags of each
build come from the environment (CC_gcc, FLAGS_gcc, ...), as the Makefile
defines them.

A mutant's header, before its diff:

    Mutant:    what the bug is, in a few words
    Stage:     v0.6-post
    Build:     tsan
    Tests:     tests/test_todo.py
    Caught by: test_the_name_of_the_test_that_catches_it

    Why it is a bug, and how the test sees it.

A header may also name a Base: a patch applied to the stage first, when
the bug is planted in another design than the stage's (exercise 7.6's are
in an edge-triggered epoll loop, tests/exercises/builds/).
A copy handed to students (make handout) has no "Caught by:" lines: the
name of the test would be the answer to an exercise that asks for one.
There the line printed names the file that caught the mutant, not the
test.

The exercises' graders (tests/exercises/) build, run pytest and read
headers with the same functions.
"""

import argparse
import contextlib
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# Every header has these, and "Caught by" too but in a handout.
FIELDS = ("Mutant", "Stage", "Build", "Tests")
BUILDS = ("gcc", "asan", "tsan", "valgrind")
TEST_TIMEOUT = 600  # seconds: a mutant that hangs the tests is not caught


def read_fields(patch):
    """The "Key: value" lines before the first empty line of a patch; a
    line that starts with a space goes on with the one before."""
    header, key = {}, None
    for line in patch.read_text().splitlines():
        if not line.strip():
            break
        if line[0].isspace() and key:
            header[key] += " " + line.strip()
        else:
            key, _, value = line.partition(":")
            key = key.strip()
            header[key] = value.strip()
    return header


def read_header(patch):
    """A mutant's header, every field of it there."""
    header = read_fields(patch)
    missing = [f for f in FIELDS if not header.get(f)]
    if missing:
        raise SystemExit(f"{patch}: its header lacks {', '.join(missing)}")
    if header["Build"] not in BUILDS:
        raise SystemExit(f"{patch}: Build is one of {', '.join(BUILDS)}")
    return header


def kill_session(proc):
    with contextlib.suppress(ProcessLookupError):  # it has ended meanwhile
        os.killpg(proc.pid, signal.SIGKILL)


def run(command, out, timeout=None, **kwargs):
    """Runs command, writing what it prints (standard error too) to the
    text file out as it comes, but for pytest's line that names its JUnit
    report. Returns the exit status, or None if it outlived timeout
    (seconds). It runs in a session of its own, killed whole on a timeout
    or if this program stops: the servers its tests started go with it."""
    expired = threading.Event()

    def expire():
        expired.set()
        kill_session(proc)

    with subprocess.Popen(command, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", start_new_session=True,
                          **kwargs) as proc:
        timer = threading.Timer(timeout, expire) if timeout else None
        if timer:
            timer.start()
        try:
            for line in proc.stdout:
                if "generated xml file" not in line:
                    out.write(line)
                    out.flush()
            proc.wait()
        finally:
            if timer:
                timer.cancel()
            if proc.poll() is None:
                kill_session(proc)
    return None if expired.is_set() else proc.returncode


def pytest_command(*args):
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--tb=short", "-rfE", *args]


def logged(command, log, **kwargs):
    """run(), its command line and output appended to the file log."""
    with open(log, "a") as out:
        out.write(f"$ {shlex.join(map(str, command))}\n")
        return run(command, out, **kwargs)


def build(patch, header, work, log, source=None):
    """The mutant's binary, built in work/ from a copy of source (default:
    the stage's folder), its Base applied first if it has one; None (and
    why) if it fails. patch may be a list of patches, applied in order;
    with None, the stage as it is (or with its Base), built the same way."""
    stage = header["Stage"]
    shutil.copytree(source or ROOT / stage, work / "src" / stage,
                    ignore=shutil.ignore_patterns("server", "*.o"))
    # git apply as a plain patch tool: the ceiling keeps it from taking the
    # build folder for part of this repository.
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(work))
    base = [ROOT / header["Base"]] if header.get("Base") else []
    patches = patch if isinstance(patch, list) else [patch] if patch else []
    for p in base + patches:
        if logged(["git", "apply", "-p1", p.resolve()], log, cwd=work / "src",
                  env=env) != 0:
            return None, f"{p.name} does not apply"
    kind = "gcc" if header["Build"] == "valgrind" else header["Build"]
    (work / "bin" / stage).mkdir(parents=True)
    if logged(["make", "-s", "-C", work / "src" / stage,
               f"OUT={work / 'bin' / stage}", f"CC={os.environ[f'CC_{kind}']}",
               f"EXTRA_CFLAGS={os.environ[f'FLAGS_{kind}']}"], log) != 0:
        return None, "it does not build"
    return work / "bin", None


def first_failure(log):
    """The first test pytest reports as failed (or in error), or None."""
    for line in log.read_text().splitlines():
        match = re.match(r"(?:FAILED|ERROR) (.+?)(?: - .*)?$", line)
        if match:
            return match[1]
    return None


def try_mutant(patch, build_root):
    """Returns (caught, what to print)."""
    header = read_header(patch)
    work = (build_root / "mutants" / patch.stem).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = work / "log"
    bin_dir, problem = build(patch, header, work, log)
    if problem:
        return False, f"{problem}: see {log}"
    command = pytest_command("-x", *header["Tests"].split(), "--bin-dir",
                             bin_dir, "--stage", header["Stage"])
    if header["Build"] == "valgrind":
        command += ["--wrapper", os.environ["VALGRIND"]]
    status = logged(command, log, cwd=ROOT, timeout=TEST_TIMEOUT)
    if status is None:
        return False, f"the tests hung for {TEST_TIMEOUT} s: see {log}"
    if status == 0:
        return False, f"NOT CAUGHT by {header['Tests']}: a test is missing"
    test = first_failure(log)
    if status != 1 or test is None:
        return False, f"the tests did not run (status {status}): see {log}"
    said = header.get("Caught by")
    if said is None:  # a handout: name the file, not the test
        return True, test.split("::")[0]
    return True, test + ("" if said in test else f" (its header says {said})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, type=pathlib.Path,
                        help="the build folder: mutants go in BUILD/mutants/")
    parser.add_argument("patches", nargs="+", type=pathlib.Path)
    args = parser.parse_args()

    missed = skipped = 0
    for patch in args.patches:
        header = read_header(patch)
        absent = [t for t in header["Tests"].split() if not (ROOT / t).is_file()]
        if absent:
            # A variant caught only by an exercise's reference test, in a
            # copy handed to students, which has no solutions.
            skipped += 1
            print(f"skipped {patch.stem:32} {header['Build']:8} "
                  f"{' '.join(absent)} is not here", flush=True)
            continue
        began = time.monotonic()
        caught, what = try_mutant(patch, args.build)
        missed += not caught
        print(f"{'caught' if caught else 'MISSED':7} {patch.stem:32} "
              f"{header['Build']:8} {what} ({time.monotonic() - began:.0f} s)",
              flush=True)
    tried = len(args.patches) - skipped
    print(f"mutants: {tried - missed} of {tried} caught"
          + (f", {skipped} skipped" if skipped else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
