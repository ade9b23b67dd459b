"""The rows of the table: every server the bench measures, as tables a new
row is one line of, and how each is found or built.

A row is a floor (the least its design can cost), a stage, an exercise's
reference solution, a folder given with DIR=, or a reference (Redis,
Python's socketserver). Each belongs to a design and is compared with that
design's floor.
"""

import dataclasses
import fnmatch
import functools
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from harness import ROOT, STAGES
from .scenarios import ALL_SCENARIOS, REDIS, TODO, Protocol, stage_protocol

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"


@dataclasses.dataclass
class Design:
    title: str
    floor: str   # the row of its floor


# In the order of the tables and the chart.
DESIGNS = {
    "threads": Design("a thread per connection", "floor-threads"),
    "thread-pool": Design("a pool of threads", "floor-thread-pool"),
    "event-loop": Design("one event loop", "floor-epoll"),
    "processes": Design("a process per connection", "floor-fork"),
    "process-pool": Design("a pool of processes", "floor-fork-pool"),
}
# A stage's design, from its features in tests/stages.txt.
FEATURE_DESIGNS = {"threads": "threads", "select": "event-loop", "fork": "processes"}
KINDS = ["floor", "stage", "exercise", "dir", "reference"]

# The floors: (row, design, binary in --bin-dir, its environment, about).
# floor-blocking takes its design from FLOOR= and its lock from LOCK=.
FLOORS = [
    ("floor-threads", "threads", "floor-blocking", {"FLOOR": "threads"},
     "floor_blocking.c: a thread per connection"),
    ("floor-thread-pool", "thread-pool", "floor-blocking",
     {"FLOOR": "thread-pool"},
     "floor_blocking.c: WORKERS threads made at the start, each accepting "
     "in turn"),
    ("floor-epoll", "event-loop", "floor", {}, "floor.c: one epoll loop"),
    ("floor-fork", "processes", "floor-blocking", {"FLOOR": "processes"},
     "floor_blocking.c: a process per connection, nothing shared, no lock"),
    ("floor-fork-fcntl", "processes", "floor-blocking",
     {"FLOOR": "processes", "LOCK": "fcntl"},
     "floor-fork with the list in shared memory and an fcntl lock around "
     "each answer, as v0.8"),
    ("floor-fork-mutex", "processes", "floor-blocking",
     {"FLOOR": "processes", "LOCK": "mutex"},
     "floor-fork with the list in shared memory and a process-shared robust "
     "pthread mutex around each answer"),
    ("floor-fork-pool", "process-pool", "floor-blocking",
     {"FLOOR": "process-pool"},
     "floor_blocking.c: WORKERS processes forked at the start, each "
     "accepting in turn"),
]
# A floor answers GET only: with threads and no lock a POST would race.
FLOOR_SCENARIOS = "abdef"

# The exercises whose designs are rows, each built from its reference
# solution in tests/exercises/solutions/: (row, stage, exercise, design,
# about).
EXERCISES = [
    ("7.1-poll", "v0.7-select", "7.1", "event-loop",
     "exercise 7.1's solution: v0.7 with poll() in place of select()"),
    ("7.4-epoll", "v0.7-select", "7.4", "event-loop",
     "exercise 7.4's solution: v0.7 with epoll, level-triggered"),
    ("7.5-epoll-et", "v0.7-select", "7.5", "event-loop",
     "exercise 7.5's solution: v0.7 with epoll, edge-triggered"),
    ("8.1-pool", "v0.8-fork", "8.1", "process-pool",
     "exercise 8.1's solution: v0.8 with WORKERS processes forked at the start"),
]

# Python's socketserver as the articles write it: (row, design, script in
# this folder, about). Redis, the other reference, is started apart.
PYTHON_SERVERS = [
    ("python-threading", "threads", "threading_server.py",
     "socketserver.ThreadingTCPServer, as the articles write it"),
    ("python-forking", "processes", "forking_server.py",
     "socketserver.ForkingTCPServer, as the articles write it"),
]


@dataclasses.dataclass
class Row:
    """What the tables and the chart say of a server (results.json keeps
    it): its name, kind, design, a line for the legend, a note on its
    protocol, and why it was not measured, if it was not."""
    name: str
    kind: str
    design: str
    about: str
    note: str = ""
    missing: str = ""


@dataclasses.dataclass
class ServerSpec:
    """A row: a server, its design, and how to start it."""
    name: str            # what --only matches
    kind: str            # one of KINDS
    design: str          # a key of DESIGNS
    protocol: Protocol
    about: str           # one line for the legend
    command: list = None
    env: dict = dataclasses.field(default_factory=dict)
    scenarios: str = ALL_SCENARIOS
    missing: str = ""    # why it cannot run, if it cannot
    is_redis: bool = False
    build: object = None  # builds it, if it must be built first

    def row(self):
        return Row(self.name, self.kind, self.design, self.about,
                   self.protocol.note, self.missing)


def stage_design(stage):
    return next(d for f, d in FEATURE_DESIGNS.items() if f in STAGES[stage])


def floor_specs(bin_dir):
    return [ServerSpec(name, "floor", design, TODO, about,
                       [str(bin_dir / binary)], env, FLOOR_SCENARIOS)
            for name, design, binary, env, about in FLOORS]


def stage_specs(bin_dir):
    return [ServerSpec(s, "stage", stage_design(s), stage_protocol(s),
                       f"the stage ({DESIGNS[stage_design(s)].title})",
                       [str(bin_dir / s / "server")])
            for s in STAGES if "todo" in STAGES[s] and (ROOT / s).is_dir()]


def build_folder(spec, source, out_dir):
    """Builds source with its own Makefile into out_dir/server; on failure
    the row says why."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                           str(source), f"OUT={out_dir.resolve()}"],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True)
    if made.returncode == 0:
        spec.command = [str(out_dir / "server")]
    else:
        print(made.stdout + made.stderr, end="")
        spec.missing = f"its build failed (make -C {source})"


def exercise_spec(bin_dir, row, stage, exercise, design, about):
    """A row built from an exercise's reference solution, applied to a
    temporary copy of its stage."""
    spec = ServerSpec(row, "exercise", design, stage_protocol(stage), about)
    solution = HERE.parent / "exercises" / "solutions" / f"{exercise}.patch"
    if not solution.parent.is_dir():
        spec.missing = ("skipped: no tests/exercises/solutions/ (a copy handed "
                        "to students has none)")
    elif not solution.is_file():
        spec.missing = f"skipped: no {solution.relative_to(ROOT)}"
    elif not shutil.which("patch"):
        spec.missing = "skipped: patch is not installed"

    def build():
        print(f"building {row}: a copy of {stage} with "
              f"{solution.relative_to(ROOT)} applied")
        with tempfile.TemporaryDirectory(prefix="bench-") as work:
            source = pathlib.Path(work) / stage
            shutil.copytree(ROOT / stage, source, ignore=shutil.ignore_patterns(
                "server", "*.o", "README.md", "timeline.svg"))
            patched = subprocess.run(["patch", "-p1", "-s", "--forward", "-d",
                                      str(source), "-i", str(solution)],
                                     stdin=subprocess.DEVNULL)
            if patched.returncode == 0:
                build_folder(spec, source, bin_dir / row)
            else:
                spec.missing = f"{solution.name} does not apply to {stage}"

    spec.build = build
    return spec


def folder_stage(folder):
    """The stage a folder copies: the first word of its server.c, as in
    "/* v0.8-fork, with a pool: ...", or the folder's own name."""
    try:
        words = (folder / "server.c").read_text().split(None, 2)
    except OSError:
        words = []
    first = words[1].rstrip(":,") if len(words) > 1 and words[0] == "/*" else ""
    return next((s for s in (first, folder.name) if s in STAGES), None)


def dir_spec(bin_dir, folder, stage, design):
    """A row for a stage folder elsewhere (make bench DIR=path), built with
    its Makefile and compared with the floor of the stage it copies."""
    folder = (ROOT / folder).resolve()
    stage = stage or folder_stage(folder)
    name = "dir:" + folder.name
    if stage not in STAGES or "todo" not in STAGES[stage]:
        sys.exit(f"bench: which todo stage does {folder} copy? Its server.c "
                 f"does not say: add STAGE=v0.N-name")
    spec = ServerSpec(name, "dir", design or stage_design(stage),
                      stage_protocol(stage), f"{folder}, a copy of {stage}")
    if not (folder / "Makefile").is_file():
        sys.exit(f"bench: {folder} has no Makefile")

    def build():
        print(f"building {name} from {folder}")
        build_folder(spec, folder, bin_dir / name.replace(":", "-"))

    spec.build = build
    return spec


@functools.cache
def redis_binary():
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    return binary if os.access(binary, os.X_OK) else None


def reference_specs():
    redis = ServerSpec("redis", "reference", "event-loop", REDIS,
                       "redis-server --save '' --appendonly no",
                       [redis_binary() or "redis-server"], is_redis=True,
                       missing="" if redis_binary() else "not installed")
    python = [ServerSpec(name, "reference", design, TODO, about,
                         [PYTHON, str(HERE / script)])
              for name, design, script, about in PYTHON_SERVERS]
    return [redis] + python


def server_specs(bin_dir, folder=None, folder_stage_name=None,
                 folder_design=None):
    """Every row, in the order of the tables: by design, the floor first."""
    specs = (floor_specs(bin_dir) + stage_specs(bin_dir) +
             [exercise_spec(bin_dir, *row) for row in EXERCISES] +
             reference_specs())
    if folder:
        specs.append(dir_spec(bin_dir, folder, folder_stage_name, folder_design))
    return sorted(specs, key=lambda s: (list(DESIGNS).index(s.design),
                                        KINDS.index(s.kind)))


def selected(specs, patterns):
    """The rows whose name matches a pattern, and the floors of their
    designs; every row if there is no pattern."""
    if not patterns:
        return specs
    chosen = {s.name for s in specs
              if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)}
    if not chosen:
        sys.exit(f"bench: no row matches {' '.join(patterns)}; the rows: "
                 f"{' '.join(s.name for s in specs)}")
    chosen |= {DESIGNS[s.design].floor for s in specs if s.name in chosen}
    return [s for s in specs if s.name in chosen]
