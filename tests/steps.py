"""Runs the steps of make test: every one, whatever fails, and then one
summary of them all.

    steps.py --make MAKE --jobs N --logs DIR BUILDS STEP...

First `MAKE -k -jN BUILDS`: the builds that several steps run on, made
once, so that two steps never build the same file at the same time. Then
every STEP, as `MAKE STEP`, N at a time in the order given (the slowest
first), each one's output kept in DIR/STEP.log and shown whole when it
ends. Last, one line a step: passed or FAILED, and how long it took.
Exits 1 if any failed.
"""

import argparse
import concurrent.futures
import pathlib
import shlex
import subprocess
import sys
import threading
import time

shown = threading.Lock()  # one step's output at a time


def duration(seconds):
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02} s" if minutes else f"{seconds} s"


def run_step(make, name, args, logs):
    """Runs `make ARGS...` into logs/NAME.log, then shows that log whole;
    returns (passed, seconds)."""
    log = logs / f"{name}.log"
    began = time.monotonic()
    with open(log, "wb") as out:
        status = subprocess.run([*make, "--no-print-directory", *args],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - began
    with shown:
        sys.stdout.flush()
        sys.stdout.buffer.write(log.read_bytes())
        print(f"== {name}: {'passed' if status == 0 else 'FAILED'} "
              f"({duration(seconds)})", flush=True)
    return status == 0, seconds


def summary(results, seconds, logs):
    print("\n== make test, every step:")
    for name, (passed, took) in results.items():
        print(f"   {name:24} {'passed' if passed else 'FAILED':7} {duration(took):>12}")
    failed = [name for name, (passed, _) in results.items() if not passed]
    if failed:
        print(f"make test: {len(failed)} of {len(results)} steps failed "
              f"({', '.join(failed)}), in {duration(seconds)}; each step's "
              f"output is above, and in {logs}/STEP.log")
    else:
        print(f"make test: every step passed, in {duration(seconds)}")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make", required=True, help="the make to run")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--logs", type=pathlib.Path, required=True)
    parser.add_argument("builds", help="the target that builds what the steps share")
    parser.add_argument("steps", nargs="+")
    args = parser.parse_args()

    make = shlex.split(args.make)
    args.logs.mkdir(parents=True, exist_ok=True)
    python = f"PYTHON={sys.executable}"
    began = time.monotonic()
    builds = ["-k", f"-j{args.jobs}", "--output-sync=target", args.builds]
    results = {args.builds: run_step(make, args.builds, builds, args.logs)}
    pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
    futures = {step: pool.submit(run_step, make, step, [step, python], args.logs)
               for step in args.steps}
    try:
        results.update((step, future.result()) for step, future in futures.items())
    except KeyboardInterrupt:  # the running steps had it too: start no more
        pool.shutdown(cancel_futures=True)
        return 130
    pool.shutdown()
    return summary(results, time.monotonic() - began, args.logs)


if __name__ == "__main__":
    sys.exit(main())
