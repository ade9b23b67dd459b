"""make bench: what each server design costs, each against its own floor.

Stevens' UNIX Network Programming (chapter 30) compares server designs by
running the same client against each. This does the same for the todo
stages (v0.4 to v0.8), for the designs of four exercises built from their
reference solutions (7.1: poll(); 7.4 and 7.5: epoll, level- and
edge-triggered; 8.1: a pool of pre-forked processes),
for a stage folder elsewhere (--dir), and for references: Redis, and
Python's socketserver ThreadingTCPServer and ForkingTCPServer written the
way the articles write them.

Every design has a floor: a minimal C server of that design that answers
and does nothing else (floor.c: one epoll loop; floor_blocking.c: a thread
or a process per connection, a pool of either, and the fork design's lock
choices). Each row shows its CPU per request as a ratio to its design's
floor, measured in the same run: what its own code costs above what its
design costs.

Each server is started afresh for each cell, loadgen (loadgen.c) drives
it, and the server's whole process tree is measured from /proc over the
measured window. Every cell is measured --runs times, one run of every cell
after another, and shown as the median and the min-max of its runs.

    /usr/bin/python3 tests/bench/bench.py --bin-dir build/bench [--runs 3]
        [--seconds 0.5] [--only 'PATTERN ...'] [--scenarios abcdef]
        [--dir PATH [--dir-stage STAGE] [--dir-design DESIGN]]
        [--out FOLDER] [--strict]

Linux only (/proc, loadgen's epoll). Standard library only.
"""

import argparse
import contextlib
import dataclasses
import datetime
import fnmatch
import functools
import html
import os
import pathlib
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import LIST_REPLY, ROOT, STAGES, proc_stat, read_first_line  # noqa: E402

PYTHON = "/usr/bin/python3"
MIB = 1 << 20
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
REPLY_SECONDS = 20     # the longest a reply, or opening 1000 connections, may take
SATURATED = 0.9        # generator busy this much of a core: it limits the rate
# A cell during which other programs kept this much of a CPU busy is measured
# again, once, RETRIES times at most in the whole bench (--retries): the
# least disturbed measure counts.
DISTURBED = 0.25
RETRIES = 15
QUIET_WAIT = 2         # seconds it waits for the machine to be quiet

# ---------------------------------------------------------------- protocols


@dataclasses.dataclass
class Protocol:
    """The request each scenario sends, and the reply it must get."""
    get: bytes
    get_reply: bytes
    post: bytes         # "%k" becomes a key from 0 to 99, in turn
    post_reply: bytes
    note: str = ""


GET = b"GET/task_01/status\n"
# POSTs go to 100 keys of their own: the list stays far from its 1024 tasks,
# and task_01, which every GET reads, never changes.
POST = b"POST/bench_%k=done/status\n"
TODO = Protocol(GET, b"see someone\r\n", POST, b"submit success\r\n")
PROTOCOLS = {
    "list": Protocol(GET, LIST_REPLY, POST, LIST_REPLY,
                     "v0.4 answers every request with the whole list"),
    "get": Protocol(GET, b"see someone\r\n", POST, b"data no found\r\n",
                    "v0.5 has no POST: (c)'s POSTs get `data no found`"),
    "post": TODO,
}
REDIS = Protocol(b"GET task_01\r\n", b"$11\r\nsee someone\r\n",
                 b"SET bench_%k done\r\n", b"+OK\r\n")


def stage_protocol(stage):
    features = STAGES[stage]
    return PROTOCOLS[next(f for f in ("list", "post", "get") if f in features)]


def escaped(data):
    """bytes as loadgen's command line writes them."""
    return (data.decode().replace("\\", "\\\\").replace("\r", "\\r")
            .replace("\n", "\\n"))

# ---------------------------------------------------------------- scenarios


@dataclasses.dataclass
class Scenario:
    key: str
    title: str
    connections: int
    posts: int = 0              # percent of requests that are POSTs
    connect_each: bool = False  # a new connection per request
    idle: int = 0               # more connections, silent while measured

    def loadgen_args(self, protocol):
        args = ["-c", str(self.connections), "-i", str(self.idle),
                "-q", escaped(protocol.get), "-a", escaped(protocol.get_reply)]
        if self.posts:
            args += ["-p", str(self.posts), "-Q", escaped(protocol.post),
                     "-A", escaped(protocol.post_reply)]
        if self.connect_each:
            args.append("-n")
        return args


SCENARIOS = [
    Scenario("a", "1 connection, GET: latency", 1),
    Scenario("b", "50 connections, GET", 50),
    Scenario("c", "50 connections, 90% GET 10% POST", 50, posts=10),
    Scenario("d", "1000 connections held open, GET", 1000),
    Scenario("e", "20 clients, a connection per request", 20,
             connect_each=True),
    # Where select() stops scaling. It scans every descriptor on every
    # call, so idle connections cost it; not epoll.
    Scenario("f", "50 connections busy, 950 open and idle, GET", 50, idle=950),
]
ALL_SCENARIOS = "".join(s.key for s in SCENARIOS)

# ---------------------------------------------------------------- designs


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
# The exercises whose designs are rows: (row, stage, exercise, design, about).
EXERCISE_ROWS = [
    ("7.1-poll", "v0.7-select", "7.1", "event-loop",
     "exercise 7.1's solution: v0.7 with poll() in place of select()"),
    ("7.4-epoll", "v0.7-select", "7.4", "event-loop",
     "exercise 7.4's solution: v0.7 with epoll, level-triggered"),
    ("7.5-epoll-et", "v0.7-select", "7.5", "event-loop",
     "exercise 7.5's solution: v0.7 with epoll, edge-triggered"),
    ("8.1-pool", "v0.8-fork", "8.1", "process-pool",
     "exercise 8.1's solution: v0.8 with WORKERS processes forked at the start"),
]
# A floor answers GET only: with threads and no lock a POST would race.
FLOOR_SCENARIOS = "abdef"


def stage_design(stage):
    return next(d for f, d in FEATURE_DESIGNS.items() if f in STAGES[stage])

# ---------------------------------------------------------------- processes


def all_processes():
    """{pid: stat fields after the command name} for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(entry)
            if fields is not None:
                table[int(entry)] = fields
    return table


def tree(root):
    """root and its descendants: {pid: stat fields}."""
    table = all_processes()
    children = {}
    for pid, fields in table.items():
        children.setdefault(int(fields[1]), []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found[pid] = table[pid]
            todo += children.get(pid, [])
    return found


def process_cpu_seconds(pid):
    """CPU time of every thread the process has had, ended ones included, to
    the nanosecond, from its CPU-time clock: Linux's clock id for process
    pid, the one glibc's clock_getcpuclockid returns. /proc/PID/stat counts
    in ticks of 10 ms, and each of 1000 children serving a few requests has
    used less than one."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        return 0.0


def reaped_seconds(fields):
    """What the children a process has waited for had used: cutime + cstime,
    from its stat fields (in ticks: their sum is kept to the tick)."""
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS if fields else 0


def tree_cpu_seconds(root):
    """CPU time of the whole tree: each live or zombie process's own, from
    its clock, plus what it reaped. A child reaped in the middle of the
    count would be seen twice or not at all: count again until the root's
    reaped time did not move meanwhile."""
    for _ in range(10):
        reaped = reaped_seconds(proc_stat(root))
        total = sum(process_cpu_seconds(pid) + reaped_seconds(fields)
                    for pid, fields in tree(root).items())
        if reaped_seconds(proc_stat(root)) == reaped:
            break
    return total


def tree_faults(root):
    """(the tree's page faults, the root's own): minflt + majflt of each
    process and of the children it reaped."""
    procs = tree(root)

    def faults(f, own):
        return sum(int(f[i]) for i in ((7, 9) if own else (7, 8, 9, 10)))

    return (sum(faults(f, False) for f in procs.values()),
            faults(procs[root], True) if root in procs else 0)


def pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def tree_memory(root):
    """(RSS, PSS) of the whole tree, in bytes."""
    procs = tree(root)
    rss = sum(int(f[21]) * PAGE for f in procs.values())
    return rss, sum(pss_bytes(pid) for pid in procs)


def live_children(root):
    return [p for p, f in tree(root).items() if p != root and f[0] != "Z"]


def system_busy_seconds():
    """CPU time every CPU has spent busy, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()

# ---------------------------------------------------------------- servers


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

    def start(self, scenario):
        """Starts the server for scenario. WORKERS, the size of a pool, is
        every connection the scenario opens: a pool's worker serves one
        connection at a time. Servers that have no pool ignore it."""
        if self.is_redis:
            return start_redis(self)
        env = dict(os.environ, **self.env,
                   WORKERS=str(scenario.connections + scenario.idle))
        return Running(self, subprocess.Popen(
            [*self.command, "0"], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))


class Running:
    """A started server: its root process and the port it listens on."""

    def __init__(self, spec, proc, port=None):
        self.spec, self.proc, self.port = spec, proc, port
        if port is None:
            line = read_first_line(proc.stdout, 30).decode(errors="replace")
            if not line.startswith("listening on "):
                self.stop()
                raise RuntimeError(f"{spec.name}: no 'listening on' line, "
                                   f"got {line!r}")
            self.port = int(line.rsplit(":", 1)[1])

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        """SIGTERM to every process of the tree, by PID, children first;
        SIGKILL to what is left after 5 seconds."""
        procs = tree(self.pid)
        for pid in sorted(procs, key=lambda p: p == self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for pid in procs:
            if not wait_until(lambda: (proc_stat(pid) or ["Z"])[0] == "Z", 5):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.proc.stdout:
            self.proc.stdout.close()


@functools.cache
def redis_binary():
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    return binary if os.access(binary, os.X_OK) else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_call(port, command):
    """Sends one command (RESP) and returns the first reply line."""
    parts = command.split(b" ", 2)
    message = b"*%d\r\n" % len(parts) + b"".join(
        b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(message)
        return s.recv(100)


def start_redis(spec):
    """Redis on a free port, in memory only, with the three tasks stored."""
    port = free_port()
    proc = subprocess.Popen(
        [*spec.command, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", "", "--loglevel", "warning"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    server = Running(spec, proc, port)

    def answers():
        try:
            return redis_call(port, b"PING") == b"+PONG\r\n"
        except OSError:
            return False

    if not wait_until(answers, 10):
        server.stop()
        raise RuntimeError("redis-server did not answer PING within 10 s")
    for task, value in ((b"task_01", b"see someone"), (b"task_02", b"read book"),
                        (b"task_03", b"play basketball")):
        redis_call(port, b"SET " + task + b" " + value)
    return server


def floor_specs(bin_dir):
    blocking = [str(bin_dir / "floor-blocking")]

    def floor(name, design, about, command=blocking, **env):
        return ServerSpec(name, "floor", design, TODO, about, command, env,
                          FLOOR_SCENARIOS)

    return [
        floor("floor-threads", "threads",
              "floor_blocking.c: a thread per connection", FLOOR="threads"),
        floor("floor-thread-pool", "thread-pool",
              "floor_blocking.c: WORKERS threads made at the start, each "
              "accepting in turn", FLOOR="thread-pool"),
        floor("floor-epoll", "event-loop", "floor.c: one epoll loop",
              [str(bin_dir / "floor")]),
        floor("floor-fork", "processes", "floor_blocking.c: a process per "
              "connection, nothing shared, no lock", FLOOR="processes"),
        floor("floor-fork-fcntl", "processes", "floor-fork with the list in "
              "shared memory and an fcntl lock around each answer, as v0.8",
              FLOOR="processes", LOCK="fcntl"),
        floor("floor-fork-mutex", "processes", "floor-fork with the list in "
              "shared memory and a process-shared robust pthread mutex around "
              "each answer", FLOOR="processes", LOCK="mutex"),
        floor("floor-fork-pool", "process-pool", "floor_blocking.c: WORKERS "
              "processes forked at the start, each accepting in turn",
              FLOOR="process-pool"),
    ]


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
    if not solution.is_file():
        spec.missing = ("skipped: no tests/exercises/solutions/ (a copy handed "
                        "to students has none)")
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


def reference_specs():
    redis = ServerSpec("redis", "reference", "event-loop", REDIS,
                       "redis-server --save '' --appendonly no",
                       [redis_binary() or "redis-server"], is_redis=True,
                       missing="" if redis_binary() else "not installed")
    python = [ServerSpec(name, "reference", design, TODO, about,
                         [PYTHON, str(HERE / script)])
              for name, design, script, about in (
                  ("python-threading", "threads", "threading_server.py",
                   "socketserver.ThreadingTCPServer, as the articles write it"),
                  ("python-forking", "processes", "forking_server.py",
                   "socketserver.ForkingTCPServer, as the articles write it"))]
    return [redis] + python


def server_specs(args):
    specs = (floor_specs(args.bin_dir) + stage_specs(args.bin_dir) +
             [exercise_spec(args.bin_dir, *row) for row in EXERCISE_ROWS] +
             reference_specs())
    if args.dir:
        specs.append(dir_spec(args.bin_dir, args.dir, args.dir_stage,
                              args.dir_design))
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

# ---------------------------------------------------------------- one cell


@dataclasses.dataclass
class Cell:
    """What one scenario measured on one server, in one run."""
    rate: float = 0            # requests (or connections) per second
    p50: float = 0             # latency, µs
    p99: float = 0
    errors: dict = dataclasses.field(default_factory=dict)
    server_us: float = 0       # server CPU per request, µs
    root_us: float = 0         # of which its first process's own
    faults: float = 0          # page faults per request, the whole tree's
    root_faults: float = 0     # of which its first process's own
    rss: int = 0
    pss: int = 0
    generator_busy: float = 0  # share of a core the generator used
    other_load: float = 0      # CPUs busy with neither of them
    failure: str = ""          # why the cell could not be measured
    message: str = ""          # what loadgen said about a wrong reply

    @property
    def error_count(self):
        return sum(self.errors.values())


def pin_to(cpus):
    return lambda: os.sched_setaffinity(0, cpus)


def generator_cpus(pin):
    """loadgen runs on the last CPU, so that the scheduler never stacks it
    on the server's CPU: run to run, that halves or doubles the rates."""
    cpus = sorted(os.sched_getaffinity(0))
    return {cpus[-1]} if pin and len(cpus) > 1 else set(cpus)


def measure_cell(spec, scenario, args):
    try:
        return measure(spec, scenario, args)
    except (RuntimeError, OSError) as e:
        return Cell(failure=str(e))


def measure(spec, scenario, args):
    """Starts the server, runs loadgen against it, stops the server."""
    cell = Cell()
    server = spec.start(scenario)
    try:
        gen = subprocess.Popen(
            [str(args.bin_dir / "loadgen"), "-s", "-d", str(args.seconds),
             "-t", str(REPLY_SECONDS),
             *scenario.loadgen_args(spec.protocol), str(server.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=pin_to(generator_cpus(args.pin)))
        try:
            measure_window(gen, server, scenario, args, cell)
        finally:
            if gen.poll() is None:
                gen.kill()
            gen.wait()
            cell.message = gen.stderr.read().decode(errors="replace").strip()
            for pipe in (gen.stdin, gen.stdout, gen.stderr):
                pipe.close()
    finally:
        server.stop()
    return cell


def loadgen_line(gen, timeout):
    """loadgen's next line on its standard output, without its newline."""
    line = read_first_line(gen.stdout, timeout)
    if not line.endswith(b"\n"):
        raise RuntimeError(f"loadgen ended, or wrote no whole line within "
                           f"{timeout} s: {line.decode(errors='replace')!r}")
    return line[:-1].decode()


def measure_window(gen, server, scenario, args, cell):
    """The loadgen -s exchange: ready, go, its report, done, close."""
    if loadgen_line(gen, REPLY_SECONDS + 15) != "ready":
        raise RuntimeError("loadgen did not say ready")
    cpu_before, busy_before = tree_cpu_seconds(server.pid), system_busy_seconds()
    root_before, faults_before = process_cpu_seconds(server.pid), tree_faults(server.pid)
    wall_before = time.monotonic()
    gen.stdin.write(b"go\n")
    gen.stdin.flush()
    report = {}
    while (line := loadgen_line(gen, args.seconds + REPLY_SECONDS + 15)) != "done":
        key, value = line.split()
        report[key] = float(value) if key != "mode" else value
    if scenario.connect_each:
        # Children serving the last connections may still be exiting.
        wait_until(lambda: not live_children(server.pid), 2)
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    root_cpu = process_cpu_seconds(server.pid) - root_before
    faults = [b - a for a, b in zip(faults_before, tree_faults(server.pid))]
    busy = system_busy_seconds() - busy_before
    wall = time.monotonic() - wall_before
    cell.rss, cell.pss = tree_memory(server.pid)
    gen.stdin.write(b"\n")
    gen.stdin.flush()

    requests = report["requests"]
    cell.rate = report["requests/s"]
    cell.p50, cell.p99 = report["p50_us"], report["p99_us"]
    cell.errors = {k[len("errors_"):]: int(v) for k, v in report.items()
                   if k.startswith("errors_") and v}
    if requests:
        cell.server_us, cell.root_us = cpu * 1e6 / requests, root_cpu * 1e6 / requests
        cell.faults, cell.root_faults = faults[0] / requests, faults[1] / requests
    cell.generator_busy = report["cpu_busy"]
    generator_cpu = cell.generator_busy * report["seconds"]
    cell.other_load = max(0.0, (busy - cpu - generator_cpu) / wall)

# ---------------------------------------------------------------- runs


@dataclasses.dataclass
class Spread:
    """A measure over the runs: its median, least and greatest."""
    median: float
    low: float
    high: float

    @property
    def width(self):
        return self.high - self.low

    def apart_from(self, other):
        """Whether the two ranges do not overlap: the runs tell them apart."""
        return self.high < other.low or other.high < self.low


def spread(cells, value):
    """The Spread of value over the cells that were measured; None if none
    was."""
    values = sorted(value(c) for c in cells or [] if not c.failure)
    if not values:
        return None
    return Spread(statistics.median(values), values[0], values[-1])


@dataclasses.dataclass
class Metric:
    """A figure of a scenario, as the summary shows it."""
    key: str             # the scenario
    title: str
    value: object        # Cell -> float
    is_rate: bool = False


def per_second(c):
    return c.rate / 1000


METRICS = {
    "b-cpu": Metric("b", "(b) CPU µs/req", lambda c: c.server_us),
    "e-cpu": Metric("e", "(e) CPU µs/conn", lambda c: c.server_us),
    "b-rate": Metric("b", "(b) kreq/s", per_second, is_rate=True),
    "e-rate": Metric("e", "(e) kconn/s", per_second, is_rate=True),
    "a-p50": Metric("a", "(a) p50 µs", lambda c: c.p50),
    "c-rate": Metric("c", "(c) kreq/s", per_second, is_rate=True),
    "d-rate": Metric("d", "(d) kreq/s", per_second, is_rate=True),
    "d-pss": Metric("d", "(d) PSS MiB", lambda c: c.pss / MIB),
    "f-cpu": Metric("f", "(f) CPU µs/req", lambda c: c.server_us),
}
RATIO_METRICS = ("b-cpu", "e-cpu")  # the summary's "× floor" columns


class Results:
    """Every run of every cell: {(row, scenario key): [Cell, ...]}."""

    def __init__(self, specs):
        self.specs = specs
        self.cells = {}

    def add(self, spec, scenario, cell):
        self.cells.setdefault((spec.name, scenario.key), []).append(cell)

    def spread(self, name, metric):
        return spread(self.cells.get((name, metric.key)), metric.value)

    def saturated(self, name, metric):
        """Whether metric is a rate and loadgen was its limit in most runs
        of the cell."""
        busy = spread(self.cells.get((name, metric.key)), lambda c: c.generator_busy)
        return metric.is_rate and busy is not None and busy.median >= SATURATED

    def errors(self, name, key=None):
        return sum(c.error_count for (n, k), cells in self.cells.items()
                   if n == name and key in (None, k) for c in cells)

    def failures(self):
        return [f"{n} ({k}): {errors_text(c)}" for (n, k), cells in self.cells.items()
                for c in cells if c.error_count or c.failure]

    def ratio(self, spec, metric):
        """The row's median over its design floor's, in this run; None if
        either is missing."""
        mine = self.spread(spec.name, metric)
        floor = self.spread(DESIGNS[spec.design].floor, metric)
        if mine is None or floor is None or floor.median == 0:
            return None
        return mine.median / floor.median

    def too_close(self, spec, metric):
        """The other rows of spec's design whose gap to it, in metric, is
        narrower than its own spread over the runs."""
        mine, close = self.spread(spec.name, metric), []
        for other in self.specs:
            theirs = self.spread(other.name, metric)
            if (other is not spec and other.design == spec.design and mine and
                    theirs and mine.width > abs(mine.median - theirs.median)):
                close.append(other.name)
        return close

# ---------------------------------------------------------------- tables


def number(x, digits=0):
    if x >= 100 or digits == 0:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def spread_text(s, digits=1):
    """'9.6 (9.2–10.5)', or '9.6' from one run."""
    text = number(s.median, digits)
    if s.width > 0:
        text += f" ({number(s.low, digits)}–{number(s.high, digits)})"
    return text


def errors_text(cell):
    if cell.failure and not cell.errors:
        return "failed"
    if not cell.errors:
        return "0"
    return " ".join(f"{n} {kind}" for kind, n in cell.errors.items())


def ratio_text(ratio):
    return "" if ratio is None else f"{ratio:.2f}"


def summary_columns(keys=tuple(METRICS)):
    columns = ["server"]
    for key in keys:
        columns.append(METRICS[key].title)
        if key in RATIO_METRICS:
            columns.append("× floor")
    return columns + ["errors"]


def summary_rows(results):
    """The main table: a heading row per design, then its rows, floor first."""
    rows, width = [], len(summary_columns())
    for design in DESIGNS:
        specs = [s for s in results.specs if s.design == design]
        if specs:
            rows.append([f"**{DESIGNS[design].title}**"] + [""] * (width - 1))
        for spec in specs:
            rows.append(summary_row(results, spec) if not spec.missing
                        else [spec.name, spec.missing] + [""] * (width - 2))
    return rows


def summary_row(results, spec, keys=tuple(METRICS)):
    name = spec.name + (" †" if spec.protocol.note else "")
    row = [name]
    for key in keys:
        metric = METRICS[key]
        s = results.spread(spec.name, metric)
        text = "—" if s is None else spread_text(s)
        if s and results.saturated(spec.name, metric):
            text += "\\*"
        if results.too_close(spec, metric):
            text += " ~"
        row.append(text)
        if key in RATIO_METRICS:
            row.append(ratio_text(results.ratio(spec, metric)))
    return row + [str(results.errors(spec.name))]


# The rows each chapter's "What it costs" quotes, and their columns: copy
# each table from results.md into its chapter after a new run.
QUOTED = {
    "docs/costs.md": ["floor-threads", "v0.6-post", "floor-thread-pool",
                  "floor-epoll", "v0.7-select", "floor-fork", "v0.8-fork",
                  "floor-fork-pool", "8.1-pool", "python-threading",
                  "python-forking", "redis"],
    "v0.4-todo/README.md": ["v0.4-todo", "floor-threads", "python-threading"],
    "v0.5-get/README.md": ["v0.5-get", "v0.4-todo", "floor-threads"],
    "v0.6-post/README.md": ["v0.6-post", "v0.5-get", "floor-threads"],
    "v0.7-select/README.md": ["v0.7-select", "7.1-poll", "7.4-epoll",
                              "7.5-epoll-et", "floor-epoll", "redis",
                              "v0.6-post"],
    "v0.8-fork/README.md": ["v0.8-fork", "floor-fork", "floor-fork-fcntl",
                            "floor-fork-mutex", "8.1-pool", "floor-fork-pool",
                            "v0.6-post", "python-forking"],
}
QUOTED_METRICS = ("b-cpu", "e-cpu", "b-rate", "e-rate", "d-pss", "f-cpu")


def quoted_tables(results):
    """The chapters' tables, in markdown, each under its file's name."""
    names = {s.name: s for s in results.specs if not s.missing}
    out = []
    for path, rows in QUOTED.items():
        specs = [names[n] for n in rows if n in names]
        if specs:
            table = [summary_row(results, s, QUOTED_METRICS)[:-1]
                     for s in specs]
            out.append(f"### {path}\n\n" + markdown_table(
                summary_columns(QUOTED_METRICS)[:-1], table))
    return "\n\n".join(out) or "None: this run measured none of their rows."


DETAIL_COLUMNS = ["server", "scenario", "runs", "req/s", "server CPU µs/req",
                  "first process's", "faults/req", "first process's",
                  "p50 µs", "p99 µs", "errors", "RSS MiB", "PSS MiB",
                  "loadgen busy", "other load"]


def detail_rows(results):
    rows = []
    for spec in results.specs:
        for sc in SCENARIOS:
            cells = results.cells.get((spec.name, sc.key))
            if not cells:
                continue
            measured = [c for c in cells if not c.failure]
            if not measured:
                rows.append([spec.name, sc.key, str(len(cells)),
                             "failed: " + cells[0].failure] +
                            [""] * (len(DETAIL_COLUMNS) - 4))
                continue

            def show(value, digits=1):
                return spread_text(spread(measured, value), digits)

            rows.append([spec.name, sc.key, str(len(measured)),
                         show(lambda c: c.rate, 0), show(lambda c: c.server_us),
                         show(lambda c: c.root_us), show(lambda c: c.faults),
                         show(lambda c: c.root_faults),
                         show(lambda c: c.p50), show(lambda c: c.p99),
                         str(results.errors(spec.name, sc.key)),
                         show(lambda c: c.rss / MIB), show(lambda c: c.pss / MIB),
                         show(lambda c: 100 * c.generator_busy, 0) + " %",
                         f"{max(c.other_load for c in measured):.0%} at most"])
    return rows


def markdown_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join(" --- " for _ in columns) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def text_table(columns, rows):
    """A markdown table's rows as plain text: bold and escapes dropped."""
    rows = [[c.replace("**", "").replace("\\*", "*") for c in r] for r in rows]
    widths = [max(len(r[i]) for r in [columns] + rows) for i in range(len(columns))]
    line = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join(line.format(*r).rstrip() for r in [columns] + rows)


def close_pairs(results):
    """The pairs of rows of one design that the runs cannot tell apart in
    CPU per request or per connection, as lines of text."""
    lines = []
    for key in RATIO_METRICS:
        metric = METRICS[key]
        seen = set()
        for spec in results.specs:
            for other in results.too_close(spec, metric):
                pair = frozenset((spec.name, other))
                if pair in seen:
                    continue
                seen.add(pair)
                sa, sb = results.spread(spec.name, metric), results.spread(other, metric)
                lines.append(f"- {metric.title}: {spec.name} {spread_text(sa)} "
                             f"and {other} {spread_text(sb)}")
    return "\n".join(lines) or "None: every gap between two rows of one design is wider than their spread."

# ---------------------------------------------------------------- UNP's conclusions


def process_control(results, name):
    """UNP's 'process control CPU time': what a design spends per connection
    above the event loop floor, which serves every connection with no
    process or thread made or woken: (e) CPU of name minus floor-epoll's."""
    metric = METRICS["e-cpu"]
    mine, base = results.spread(name, metric), results.spread("floor-epoll", metric)
    if mine is None or base is None:
        return None
    return Spread(mine.median - base.median, mine.low - base.high,
                  mine.high - base.low)


def pool_sentence(results, per_connection, pool, what):
    fork, pooled = process_control(results, per_connection), process_control(results, pool)
    if fork is None or pooled is None:
        return None
    factor = fork.median / pooled.median if pooled.median > 0 else float("inf")
    holds = ("it holds" if factor >= 10 and fork.apart_from(pooled) else
             "it does not hold" if factor < 10 else
             "the runs cannot tell them apart")
    factor_text = f"{factor:.0f}×" if factor != float("inf") else "no end of times"
    return (f"A pool cuts the process-control CPU per connection by an order "
            f"of magnitude, for {what}: {per_connection} spends "
            f"{spread_text(fork)} µs per connection above floor-epoll's, "
            f"{pool} {spread_text(pooled)} µs, {factor_text} less: **{holds}**.")


def cheaper_sentence(results, claim_text, a, b, metric_key):
    """The claim that a costs less than b: it holds if a's median is the
    lower and the runs tell them apart."""
    metric = METRICS[metric_key]
    sa, sb = results.spread(a, metric), results.spread(b, metric)
    if sa is None or sb is None or not sa.median:
        return None
    outcome = ("the runs cannot tell them apart" if not sa.apart_from(sb) else
               "it holds" if sa.median < sb.median else "it does not hold")
    return (f"{claim_text}: {metric.title}, {a} {spread_text(sa)} and {b} "
            f"{spread_text(sb)}, a gap of {abs(sb.median - sa.median):.1f} "
            f"µs ({sb.median / sa.median:.2f}×): **{outcome}**.")


def conclusions(results):
    """UNP chapter 30's conclusions, each checked against this run."""
    sentences = [
        pool_sentence(results, "floor-fork", "floor-fork-pool", "processes"),
        pool_sentence(results, "floor-threads", "floor-thread-pool", "threads"),
        pool_sentence(results, "v0.8-fork", "8.1-pool",
                      "the stage and exercise 8.1's solution"),
        cheaper_sentence(results, "Threads are cheaper than processes, per "
                         "connection", "floor-threads", "floor-fork", "e-cpu"),
        cheaper_sentence(results, "Threads are cheaper than processes, per "
                         "request on a connection kept open", "floor-threads",
                         "floor-fork", "b-cpu"),
        cheaper_sentence(results, "A process-shared mutex is cheaper than an "
                         "fcntl lock (not UNP's claim: its locks guard accept, "
                         "these guard the list)", "floor-fork-mutex",
                         "floor-fork-fcntl", "b-cpu"),
    ]
    return [s for s in sentences if s]

# ---------------------------------------------------------------- targets


@dataclasses.dataclass
class Target:
    text: str
    ratio: float = None   # None: could not be judged
    passed: bool = None
    why: str = ""         # the numbers, or why it could not be judged


def compare(text, results, a, b, metric, bound, at_most=False):
    """Target: a's median over b's is at least bound (or at most, for
    costs)."""
    sa, sb = results.spread(a, metric), results.spread(b, metric)
    for name, s in ((a, sa), (b, sb)):
        if s is None or not s.median:
            return Target(text, why=f"not judged: no measure of {name}")
    ratio = sa.median / sb.median
    passed = ratio <= bound if at_most else ratio >= bound
    why = f"{spread_text(sa)} vs {spread_text(sb)} {metric.title}"
    if results.saturated(a, metric) or results.saturated(b, metric):
        why += "; loadgen saturated: the rates are the generator's"
    return Target(text, ratio, passed, why)


def judge(results):
    """The targets set for the stages, each a ratio between two rows."""
    names = {s.name: s for s in results.specs}
    targets = []

    def target(text, a, b, metric_key, bound, at_most=False):
        if a not in names or b not in names:
            return  # a run of some rows only (--only)
        missing = next((n for n in (a, b) if names[n].missing), None)
        if missing:
            targets.append(Target(text, why=f"not judged: {missing} "
                                            f"{names[missing].missing}"))
        else:
            targets.append(compare(text, results, a, b, METRICS[metric_key],
                                   bound, at_most))

    target("v0.7-select (b) req/s ≥ Redis", "v0.7-select", "redis", "b-rate", 1.0)
    target("v0.7-select (b) CPU/req ≤ 1.3 × floor", "v0.7-select",
           "floor-epoll", "b-cpu", 1.3, at_most=True)
    target("v0.7-select (d) req/s ≥ 0.9 × Redis", "v0.7-select", "redis",
           "d-rate", 0.9)
    for s in (s for s in names if s in STAGES and "threads" in STAGES[s]):
        target(f"{s} (b) req/s ≥ 4 × Python threading", s, "python-threading",
               "b-rate", 4.0)
        target(f"{s} (b) CPU/req ≤ ¼ × Python threading", s, "python-threading",
               "b-cpu", 0.25, at_most=True)
    target("v0.8-fork (e) conn/s ≥ 5 × Python forking", "v0.8-fork",
           "python-forking", "e-rate", 5.0)
    target("v0.8-fork (b) req/s ≥ 2 × Python forking", "v0.8-fork",
           "python-forking", "b-rate", 2.0)

    bad = results.failures()
    targets.append(Target("zero errors in every cell", passed=not bad,
                          why="; ".join(bad) or "none"))
    pss = METRICS["d-pss"]
    for s in (s for s in names.values() if s.kind == "stage"):
        m = results.spread(s.name, pss)
        if m:
            targets.append(Target(f"{s.name} (d) total PSS ≤ 64 MiB",
                                  m.median / 64, m.median <= 64,
                                  f"PSS {spread_text(m)} MiB"))
    return targets


def target_verdict(t):
    return "n/a" if t.passed is None else "PASS" if t.passed else "MISS"


def target_rows(targets):
    return [[t.text, "" if t.ratio is None else f"{t.ratio:.2f}",
             target_verdict(t), t.why] for t in targets]

# ---------------------------------------------------------------- chart


COLOURS = {"floor": "#555555", "stage": "#2f6db5", "exercise": "#3a9a5b",
           "dir": "#d08a1f", "reference": "#a8a8a8"}
LEGEND = {"floor": "design floor", "stage": "stage", "exercise": "exercise",
          "dir": "DIR", "reference": "Redis, Python"}
PANELS = [("b-cpu", "(b) 50 connections: server CPU µs per request"),
          ("e-cpu", "(e) a connection per request: server CPU µs per connection"),
          ("b-rate", "(b) 50 connections: thousand requests/s"),
          ("e-rate", "(e) a connection per request: thousand connections/s"),
          ("f-cpu", "(f) 50 busy, 950 idle: server CPU µs per request"),
          ("d-pss", "(d) 1000 connections: memory, PSS MiB")]
# The chart's sizes, in pixels: a bar's height and the gap below it, a
# design's heading, the names' column, the longest bar, a panel's width.
BAR, GAP, HEAD, LABEL_W, BAR_W, PANEL_W = 13, 3, 16, 130, 240, 470


def svg_chart(results, subtitle):
    """Bars for the medians, a line across each for the min–max of the runs,
    the rows grouped by design with the floor first."""
    specs = [s for s in results.specs if not s.missing]
    designs = [d for d in DESIGNS if any(s.design == d for s in specs)]
    panel_h = 26 + len(specs) * (BAR + GAP) + len(designs) * HEAD + 12
    width, top = 2 * PANEL_W + 20, 52
    height = top + (len(PANELS) + 1) // 2 * panel_h + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">'
           'make bench: each design against its floor</text>',
           f'<text x="10" y="38" fill="#555">{html.escape(subtitle)}</text>']
    kinds = [k for k in KINDS if any(s.kind == k for s in specs)]
    x = width - 10 - 105 * len(kinds)
    for kind in kinds:
        out.append(f'<rect x="{x}" y="10" width="12" height="12" '
                   f'fill="{COLOURS[kind]}"/>')
        out.append(f'<text x="{x + 16}" y="20">{html.escape(LEGEND[kind])}</text>')
        x += 105
    for i, (key, title) in enumerate(PANELS):
        x0, y0 = 10 + (i % 2) * PANEL_W, top + (i // 2) * panel_h
        out += svg_panel(results, specs, designs, METRICS[key], title, x0, y0)
    out.append(f'<text x="10" y="{height - 10}" fill="#555">Bars: the median '
               f'of the runs; the black line: their least and greatest. '
               f'* loadgen busy over {SATURATED:.0%} of its core: the rate is '
               f'the generator\'s.</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_panel(results, specs, designs, metric, title, x0, y0):
    """One panel. Its scale fits the floors, stages and exercises: a
    reference far beyond them (Python forking's 1000 processes) is cut at
    the edge, its number followed by »."""
    spreads = {s.name: results.spread(s.name, metric) for s in specs}
    ours = [spreads[s.name].high for s in specs
            if spreads[s.name] and s.kind != "reference"]
    top = max(ours or [s.high for s in spreads.values() if s] or [0])
    scale = BAR_W / top if top > 0 else 0

    def at(value):
        return x0 + LABEL_W + min(value * scale, BAR_W + 20)

    out = [f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">'
           f'{html.escape(title)}</text>']
    y = y0 + 22
    for design in designs:
        out.append(f'<text x="{x0 + 4}" y="{y + 11}" fill="#777" '
                   f'font-style="italic">{html.escape(DESIGNS[design].title)}</text>')
        y += HEAD
        for spec in (s for s in specs if s.design == design):
            s = spreads[spec.name]
            out.append(f'<text x="{x0 + LABEL_W - 6}" y="{y + 10}" '
                       f'text-anchor="end">{html.escape(spec.name)}</text>')
            if s is None:
                out.append(f'<text x="{x0 + LABEL_W}" y="{y + 10}" '
                           f'fill="#999">not measured</text>')
                y += BAR + GAP
                continue
            label = number(s.median, 1)
            if results.saturated(spec.name, metric):
                label += " *"
            if s.high * scale > BAR_W + 20:
                label += " »"
            end = max(at(s.median), x0 + LABEL_W + 1)
            out += [f'<rect x="{x0 + LABEL_W}" y="{y}" width="{end - x0 - LABEL_W:.1f}" '
                    f'height="{BAR}" fill="{COLOURS[spec.kind]}"/>',
                    f'<line x1="{at(s.low):.1f}" x2="{at(s.high):.1f}" '
                    f'y1="{y + BAR / 2}" y2="{y + BAR / 2}" stroke="black"/>',
                    f'<text x="{max(end, at(s.high)) + 4:.1f}" y="{y + 10}">'
                    f'{html.escape(label)}</text>']
            y += BAR + GAP
    return out

# ---------------------------------------------------------------- report


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    system = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    system = line.split("=", 1)[1].strip().strip('"')
    except FileNotFoundError:
        pass
    return (f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
            f"{system}")


def redis_version():
    if not redis_binary():
        return "not installed"
    out = subprocess.run([redis_binary(), "--version"], capture_output=True,
                         text=True).stdout
    words = out.split()
    return words[2].removeprefix("v=") if len(words) > 2 else out.strip()


def times(n):
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def legend(specs):
    lines = [f"- **{s.name}**: {s.about}." for s in specs]
    lines += [f"- † {s.name}: {s.protocol.note}." for s in specs if s.protocol.note]
    return "\n".join(lines)


def markdown(results, targets, args, when):
    placement = ("loadgen on the last CPU and the servers on any" if args.pin
                 else "loadgen and the servers on any CPU")
    sentences = "\n".join(f"- {s}" for s in conclusions(results)) or "Not measured in this run."
    return f"""# make bench: what each server design costs

Machine: {machine()}.
Date: {when}. Each cell measured {times(args.runs)} for {args.seconds} s,
{placement}; before the run, other programs kept {args.background:.0%} of a
CPU busy. Python {platform.python_version()} (socketserver), Redis {redis_version()}.
This run took {args.took:.0f} s; run it again with `make bench`.

**Method.** A floor is the least a design can cost: a minimal C server of
that design (a thread or a process per connection, a pool of either, one
epoll loop) that reads requests and answers them with the stages' own
framing, parser and list, and does nothing else: no log line, no idle
timeout, no signal handler, no lock unless its name says so. A row's
"× floor" is its CPU per request (per connection in (e)) over its design
floor's, measured in the same run: what its own code adds to what its
design costs. CPU per request, the CPU time the server's whole process
tree used over the requests it answered, is the fair figure because the
load generator shares the machine: when loadgen is busy {SATURATED:.0%} of
its core (marked \\*), the rate is loadgen's limit, and two servers that
both reach it show the same rate however different their costs, while
their CPU per request still tells them apart. Every cell is measured
{times(args.runs)}, one run of every cell after the other, so a disturbance
hits one run of many rows rather than every run of one; a cell shows the
median and, in brackets, the least and greatest of its runs.

Scenarios: (a) 1 connection, GET, for latency; (b) 50 connections, GET;
(c) 50 connections, 90% GET and 10% POST; (d) 1000 connections held open,
GET; (e) 20 clients each connecting, asking once and closing (rates and
CPU there are per connection); (f) 50 connections busy while 950 more stay
open and idle, to show what idle clients cost each design. One request is
in flight per busy connection, and every reply is checked byte for byte.
The floors answer GET only, so they run no (c).

## Every design against its floor

{markdown_table(summary_columns(), summary_rows(results))}

Rates in thousands a second. \\* loadgen used over {SATURATED:.0%} of its
core: the rate is the generator's, and the server could go faster; compare
CPU per request there. ~ the cell's spread over the runs is wider than its
gap to another row of its design: this run cannot tell those two apart
(the pairs are listed below).

{legend(results.specs)}

## UNP chapter 30's conclusions, on this machine

UNP's summary: a pool of processes or of threads cuts the process-control
CPU time by a factor of 10 or more against a fork per client, and threads
are normally faster than processes. Its process-control time is what a
design spends above a server that makes no process; here, (e)'s CPU per
connection above floor-epoll's. A claim holds when the medians say so and
the runs' ranges do not overlap.

{sentences}

## Pairs this run cannot tell apart

{close_pairs(results)}

## What the chapters quote

Each stage's chapter, in "What it costs", and docs/costs.md show these rows of the table above: after a new run,
copy each table into its file, then check the numbers its text quotes.

{quoted_tables(results)}

## Targets

{markdown_table(["target", "ratio", "", "measured"], target_rows(targets))}

Memory is judged on PSS, the honest total: RSS summed over 1000 forked
children counts every shared page 1000 times.

## Every cell

Median (least–greatest) over the runs.

{markdown_table(DETAIL_COLUMNS, detail_rows(results))}

What loadgen said about wrong replies: {loadgen_messages(results)}

## How it is measured

- **req/s, latency, errors**: from loadgen (`tests/bench/loadgen.c`), one
  thread and one epoll loop. Before the window it opens every connection and
  has each answered once, so threads and processes exist when it starts.
  Errors: `connect`, `reset`, `closed` (before the whole reply), `mismatch`
  (not the expected bytes), `timeout` (no reply within {REPLY_SECONDS} s).
- **server CPU µs/req**: user + system time of the server's whole process
  tree over the window, over the requests answered: each live process's
  from its CPU-time clock (to the nanosecond, its ended threads included),
  and the children it reaped from its `cutime` and `cstime`. *first
  process's*: the part the server's first process used itself (in a
  forking server, the parent's share: its `fork` calls). **faults/req**:
  page faults per request (`minflt` + `majflt`), the whole tree's, then the
  first process's own. On loopback
  the sender of each segment also pays for delivering it, so a server's CPU
  includes delivering its replies into loadgen's sockets, and loadgen's
  includes delivering its requests.
- **RSS, PSS**: summed over the tree at the end of the window, the
  connections still open.
- **loadgen busy**: its share of one core; at {SATURATED:.0%} it is the
  bottleneck, marked \\*. loadgen runs on the last CPU (the servers on
  any): left free, the scheduler sometimes stacks it on the server's CPU,
  which halves a rate from one run to the next. The servers are not
  pinned: a threaded server's threads meet on several CPUs, as they do when
  deployed, and that is part of its cost.
- **other load**: CPUs busy with neither the server nor loadgen during the
  window, as a share of one CPU; above a few % another program disturbed
  the cell. A cell above {DISTURBED:.0%} is measured again once the machine
  is quiet (waiting {QUIET_WAIT} s at most; once, {args.retries} times at most in a bench)
  and the least disturbed measure is kept.
- **pools**: WORKERS, the size of a pool, is set to the number of
  connections the scenario opens (1, 50, 1000 or 20): a worker serves one
  connection at a time, so a smaller pool would leave kept-alive clients
  waiting in the backlog. Only (e) shows what a pool saves.
- In (e) loadgen closes each connection with a reset (`SO_LINGER` 0) once it
  has its reply: a normal close leaves a TIME_WAIT on the client side, and
  thousands a second use up the local ports in seconds. The servers see
  the reset as the client's end.
- Protocols: the stages, the floors and the Python servers get
  `GET/task_01/status` and `POST/bench_N=done/status` (N from 0 to 99);
  Redis gets `GET task_01` and `SET bench_N done`, task_01 stored first.
- The exercise rows are built from `tests/exercises/solutions/`, each
  applied with `patch -p1` to a temporary copy of its stage; a copy of the
  repository without solutions skips them.
"""


def show_progress(run, spec, scenario, cell):
    text = (f"{cell.rate:10,.0f} /s  p50 {cell.p50:8.1f} µs  server "
            f"{cell.server_us:7.1f} µs/req  errors {errors_text(cell)}")
    if cell.failure:
        text = "failed: " + cell.failure
    print(f"  {run} {spec.name:18} ({scenario.key}) {text}", flush=True)
    for line in cell.message.splitlines():
        print(f"      {line}")


def background_load(seconds=1.0):
    """How many CPUs other programs keep busy, measured while we wait."""
    before = system_busy_seconds()
    time.sleep(seconds)
    return (system_busy_seconds() - before) / seconds


def wait_for_quiet(timeout):
    """Waits, at most timeout seconds, until other programs leave the CPUs
    nearly idle for half a second."""
    deadline = time.monotonic() + timeout
    while background_load(0.5) > 0.1 and time.monotonic() < deadline:
        pass


def loadgen_messages(results):
    lines = [f"- {name} ({key}): {cell.message}".replace("\n", " ")
             for (name, key), cells in results.cells.items() for cell in cells
             if cell.message]
    return "\n".join(dict.fromkeys(lines)) or "None."


def allow_descriptors():
    """1000 connections need more than the usual 1024 descriptors, in
    loadgen and in the servers, which inherit this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", type=pathlib.Path, required=True,
                        help="folder with loadgen, floor, floor-blocking and "
                             "STAGE/server")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="length of each measured window")
    parser.add_argument("--runs", type=int, default=3,
                        help="how many times each cell is measured")
    parser.add_argument("--only", default="",
                        help="measure these rows only (names or patterns, "
                             "separated by spaces or commas), and their floors")
    parser.add_argument("--scenarios", default=ALL_SCENARIOS,
                        help="measure these scenarios only")
    parser.add_argument("--dir", help="a stage folder elsewhere: one more row")
    parser.add_argument("--dir-stage", help="the stage --dir copies, if its "
                        "server.c does not say")
    parser.add_argument("--dir-design", choices=list(DESIGNS),
                        help="the design of --dir, if not its stage's")
    parser.add_argument("--out", type=pathlib.Path,
                        help="where results.md and results.svg go (default: "
                             "tests/bench for a whole run, --bin-dir for a part)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="let loadgen run on any CPU")
    parser.add_argument("--retries", type=int, default=RETRIES,
                        help="how many disturbed cells may be measured again")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a cell failed or had an error")
    args = parser.parse_args()
    args.only = args.only.replace(",", " ").split()
    if args.runs < 1 or not set(args.scenarios) <= set(ALL_SCENARIOS):
        parser.error(f"--runs is 1 or more; --scenarios, letters from {ALL_SCENARIOS}")
    partial = args.only or args.dir or args.scenarios != ALL_SCENARIOS
    args.out = args.out or (args.bin_dir if partial else HERE)
    return args


def measure_all(specs, args):
    """Every cell, args.runs times: run after run, so that a disturbance
    hits one run of many cells, not every run of one."""
    results = Results(specs)
    cells = [(spec, sc) for spec in specs if not spec.missing for sc in SCENARIOS
             if sc.key in spec.scenarios and sc.key in args.scenarios]
    print(f"{len(cells)} cells, {args.runs} runs of {args.seconds} s each")
    retries = args.retries
    for run in range(1, args.runs + 1):
        for spec, scenario in cells:
            cell = measure_cell(spec, scenario, args)
            if cell.other_load > DISTURBED and retries > 0:
                retries -= 1
                print(f"  {run} {spec.name:18} ({scenario.key}) disturbed (other "
                      f"load {cell.other_load:.0%}): measured again")
                wait_for_quiet(QUIET_WAIT)
                again = measure_cell(spec, scenario, args)
                if not again.failure and again.other_load < cell.other_load:
                    cell = again
            results.add(spec, scenario, cell)
            show_progress(run, spec, scenario, cell)
    return results


def main():
    args = parse_args()
    allow_descriptors()
    specs = selected(server_specs(args), args.only)
    for spec in specs:
        if spec.build and not spec.missing:
            spec.build()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    args.background = background_load()
    if args.background > 0.1:
        print(f"warning: other programs keep {args.background:.0%} of a CPU busy: "
              f"they will disturb the numbers (see 'other load' per cell)")
    for spec in (s for s in specs if s.missing):
        print(f"  {spec.name:18} {spec.missing}")
    began = time.monotonic()
    results = measure_all(specs, args)
    targets = judge(results)
    args.took = time.monotonic() - began

    print()
    print(text_table(summary_columns(), summary_rows(results)))
    print("* loadgen saturated: the rate is the generator's; "
          "~ too close to another row of its design to tell apart\n")
    for sentence in conclusions(results):
        print(sentence.replace("**", ""))
    print()
    print(text_table(["target", "ratio", "", "measured"], target_rows(targets)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(markdown(results, targets, args, when))
    subtitle = f"{machine()}; {when}; each cell {times(args.runs)}, {args.seconds} s"
    (args.out / "results.svg").write_text(svg_chart(results, subtitle))
    print(f"\nwrote {args.out / 'results.md'} and {args.out / 'results.svg'} "
          f"in {args.took:.0f} s")
    if args.strict and results.failures():
        print("bench: some cells failed or had errors:\n  " +
              "\n  ".join(results.failures()))
        sys.exit(1)


if __name__ == "__main__":
    main()
