"""See a stage run: plays the scenario (scenario.py) against the stage's
server under strace, then draws what the clients and the server did.

    python3 tests/timeline/timeline.py --bin-dir build/gcc v0.2-loop

writes v0.2-loop/timeline.svg, and prints the same run as text (kept in
build/timeline/v0.2-loop.txt, beside the raw trace, v0.2-loop.trace).

How the two sides are put on one clock. The clients write down
time.monotonic(), the clock that never jumps: a scenario's waits must not
stretch or shrink if the system clock is set meanwhile. strace -ttt can
only print the wall clock (time.time()). So the wall clock's lead on the
monotonic one is read just before the scenario and just after it, and each
strace time is moved by it; if the two readings differ, the system clock
was set during the run, and the text says by how much.

Without strace (or where the system forbids tracing) the picture shows the
clients alone and says why.
"""

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import draw
import scenario
import server_lanes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import ROOT, STAGES, TIMEOUT, Server, children, wait_until  # noqa: E402

TRACED_CALLS = ("listen,accept,accept4,read,write,select,pselect6,poll,clone,"
                "clone3,fork,vfork,fcntl,close,wait4,exit,exit_group")


@dataclasses.dataclass
class Run:
    stage: str
    events: list      # scenario.Event: what the clients did and saw
    lanes: list       # server_lanes.Lane: what the server did (none untraced)
    untraced: str     # why the server's side is missing ("" if it is not)
    clock_note: str   # "" unless the system clock was set during the run
    problems: list    # what went wrong with the server (a crash, a report)

    @property
    def length(self):
        ends = [e.t for e in self.events]
        ends += [s.end for lane in self.lanes for s in lane.spans]
        return max(ends, default=1.0)


class TracedServer(Server):
    """The stage's server under `strace -f`: self.proc is strace, and the
    server, self.pid, is its child. A stop goes to the server itself:
    strace -o FILE PROGRAM blocks SIGTERM (man strace, --interruptible),
    and ends when the server does."""

    def __init__(self, binary, features, trace):
        command = ["strace", "-f", "-ttt", "-T", "-o", str(trace),
                   "-e", f"trace={TRACED_CALLS}"]
        self.traced_pid = None
        super().__init__(binary, features, ["0"], wrapper=command)
        self.traced_pid = next(iter(children(self.proc.pid)))

    @property
    def pid(self):
        return self.traced_pid

    def stop(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        self.stopped = True
        os.kill(self.pid, sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"server did not exit within {timeout} s of {sig.name}")

    def kill(self):
        """Kills the server's children, the server, then strace, by PID."""
        if self.pid:
            for pid in [*children(self.pid), self.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        super().kill()


def wall_minus_monotonic():
    """How far time.time() is ahead of time.monotonic(), from the closest
    of a few readings."""
    readings = []
    for _ in range(5):
        before = time.monotonic()
        wall = time.time()
        after = time.monotonic()
        readings.append((after - before, wall - (before + after) / 2))
    return min(readings)[1]


def settle(pid):
    """Waits (a few seconds at most) until the server is back to one thread
    and no child process, so the trace shows every thread and child end."""
    def idle():
        return len(os.listdir(f"/proc/{pid}/task")) == 1 and not children(pid)
    try:
        wait_until(idle, "back to one thread and no child", timeout=5)
    except (AssertionError, FileNotFoundError):
        pass  # the picture then shows them still running at the end


def start_server(binary, features, trace):
    """The server, traced if strace can; and why not, if it cannot."""
    if shutil.which("strace") is None:
        return Server(binary, features, ["0"]), "strace is not installed"
    try:
        return TracedServer(binary, features, trace), ""
    except AssertionError as error:  # no listening line: strace failed
        said = str(error).split("stderr:\n", 1)[-1].strip().splitlines()
        why = said[0] if said else "strace failed"
        return Server(binary, features, ["0"]), f"strace could not trace it ({why})"


def record(stage, binary, trace):
    """Plays the scenario against the stage's binary; returns the Run."""
    features = STAGES[stage]
    server, untraced = start_server(binary, features, trace)
    try:
        offset = wall_minus_monotonic()
        start, events, ports = scenario.play(server.port, features)
        moved = wall_minus_monotonic() - offset
        settle(server.pid)
    finally:
        problems = server.finish()
    lanes = []
    if not untraced:
        lanes = server_lanes.read(trace, ports, lambda wall: wall - offset - start)
    clock_note = f"the system clock moved {moved * 1000:+.1f} ms during the run" \
        if abs(moved) > 0.001 else ""
    return Run(stage, events, lanes, untraced, clock_note, problems)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stages", nargs="+", metavar="STAGE")
    parser.add_argument("--bin-dir", default="build/gcc",
                        help="folder that holds STAGE/server")
    parser.add_argument("--out", default="build/timeline",
                        help="folder for the text views and the traces")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for stage in args.stages:
        run = record(stage, str(Path(args.bin_dir).resolve() / stage / "server"),
                     out / f"{stage}.trace")
        svg = ROOT / stage / "timeline.svg"
        svg.write_text(draw.svg(run))
        text = draw.text(run)
        (out / f"{stage}.txt").write_text(text)
        print(text)
        print(f"(drawn in {svg.relative_to(ROOT)}; this text in {out / stage}.txt)\n")
        for problem in run.problems:
            print(f"{stage}: {problem}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
