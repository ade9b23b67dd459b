"""See a stage run: plays the scenario (scenario.py) against the stage's
server under strace, then draws what the clients and the server did.

    python3 tests/timeline/timeline.py --bin-dir build/gcc v0.2-loop

writes build/timeline/v0.2-loop.svg, and prints the same run as text (kept
beside it in v0.2-loop.txt, with the raw trace, v0.2-loop.trace). Nothing
in the stage's folder changes: the picture its chapter shows is copied
there by the maintainers' `make timeline-pictures`.

A stage whose threads share a list under a lock (v0.6) is recorded from
the build of it in $(BUILD)/held, beside --bin-dir: see hold_lock.c.

When the recorder stops. After the scenario it waits until the server is
back to one thread and no child (so the trace shows each end), then
PAUSE more, so that the picture shows the server waiting again, and then
stops it with SIGTERM: the last signal in every picture is the recorder's,
not part of the stage's story.

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
from harness import START_TIMEOUT, STAGES, Server, children, wait_until  # noqa: E402

TRACED_CALLS = ("listen,accept,accept4,read,write,select,pselect6,poll,clone,"
                "clone3,fork,vfork,fcntl,futex,close,wait4,exit,exit_group")
PAUSE = 0.1  # seconds between the server's settling and the recorder's stop


@dataclasses.dataclass
class Run:
    stage: str
    events: list      # scenario.Event: what the clients did and saw
    lanes: list       # server_lanes.Lane: what the server did (none untraced)
    untraced: str     # why the server's side is missing ("" if it is not)
    clock_note: str   # "" unless the system clock was set during the run
    problems: list    # what went wrong with the server (a crash, a report)
    held: bool = False  # recorded from the lock-holding build (hold_lock.c)

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

    def stop(self, sig=signal.SIGTERM, timeout=START_TIMEOUT):
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
    """Waits until the server is back to one thread and no child process,
    so the trace shows every thread and child end; returns what is wrong
    if it is not, within a bound a busy machine meets."""
    def idle():
        return len(os.listdir(f"/proc/{pid}/task")) == 1 and not children(pid)
    try:
        wait_until(idle, "back to one thread and no child", timeout=START_TIMEOUT)
    except (AssertionError, FileNotFoundError) as error:
        return [f"after the scenario: {error}"]
    return []


def why_strace_cannot():
    """Why strace cannot trace a program here ("" if it can): not
    installed, or forbidden (ptrace refused in some containers)."""
    if shutil.which("strace") is None:
        return "strace is not installed"
    tried = subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True,
                           text=True, timeout=START_TIMEOUT)
    said = tried.stderr.strip().splitlines()
    return "" if tried.returncode == 0 else \
        f"strace could not trace it ({said[0] if said else 'strace failed'})"


def start_server(binary, features, trace):
    """The server, traced if strace can; and why not, if it cannot. A
    traced server that does not start is a failure, not a reason."""
    untraced = why_strace_cannot()
    if untraced:
        return Server(binary, features, ["0"]), untraced
    return TracedServer(binary, features, trace), ""


def holds_lock(stage):
    """True for a stage whose timeline is recorded from the lock-holding
    build (hold_lock.c)."""
    return scenario.holds_lock(STAGES[stage])


def server_binary(stage, bin_dir):
    """The binary a stage's timeline is recorded from: STAGE/server in
    bin_dir, or in the held build beside it."""
    folder = Path(bin_dir).resolve()
    if holds_lock(stage):
        folder = folder.parent / "held"
    return str(folder / stage / "server")


def record(stage, bin_dir, trace):
    """Plays the scenario against the stage's server (server_binary());
    returns the Run."""
    features = STAGES[stage]
    binary = server_binary(stage, bin_dir)
    if not Path(binary).is_file():
        raise FileNotFoundError(f"{binary} is not built")
    server, untraced = start_server(binary, features, trace)
    try:
        offset = wall_minus_monotonic()
        start, events, ports = scenario.play(server.port, features)
        moved = wall_minus_monotonic() - offset
        unsettled = settle(server.pid)
        time.sleep(PAUSE)
    finally:
        problems = server.finish()
    lanes = []
    if not untraced:
        connected = {e.client: e.t for e in events if e.kind == "connect"}
        lanes = server_lanes.read(trace, ports, lambda wall: wall - offset - start,
                                  connected, os.getpid())
    clock_note = f"the system clock moved {moved * 1000:+.1f} ms during the run" \
        if abs(moved) > 0.001 else ""
    return Run(stage, events, lanes, untraced, clock_note, unsettled + problems,
               holds_lock(stage))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stages", nargs="+", metavar="STAGE")
    parser.add_argument("--bin-dir", default="build/gcc",
                        help="folder that holds STAGE/server")
    parser.add_argument("--out", default="build/timeline",
                        help="folder for the pictures, the text views and the traces")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    for stage in args.stages:
        run = record(stage, args.bin_dir, out / f"{stage}.trace")
        svg = out / f"{stage}.svg"
        svg.write_text(draw.svg(run))
        text = draw.text(run)
        (out / f"{stage}.txt").write_text(text)
        print(text)
        print(f"(drawn in {svg}; this text in {out / stage}.txt)\n")
        for problem in run.problems:
            print(f"{stage}: {problem}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
