"""make bench: what each server design costs, in one table.

Stevens' UNIX Network Programming (chapter 30) compares server designs by
running the same client against each. This does the same for the todo
stages (v0.4 to v0.8) and for references: a minimal C epoll server (the
floor), Redis, and Python's socketserver ThreadingTCPServer and
ForkingTCPServer written the way the articles write them.

Each server is started afresh for each scenario, loadgen (loadgen.c) drives
it, and the server's whole process tree is measured from /proc over the
measured window: CPU time (live processes, and the children it has reaped),
resident memory (RSS) and proportional memory (PSS, where a page shared by
1000 processes counts a thousandth in each).

    /usr/bin/python3 tests/bench/bench.py --bin-dir build/bench [--seconds 2]
        [--only NAME] [--out tests/bench]

Linux only (/proc, loadgen's epoll). Standard library only.
"""

import argparse
import dataclasses
import datetime
import functools
import html
import os
import pathlib
import platform
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
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
# again, twice at most and RETRIES times in all: the least disturbed counts.
DISTURBED = 0.25
RETRIES = 15

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
    # Not in the list: where select() stops scaling. It scans every
    # descriptor on every call, so idle connections cost it; not epoll.
    Scenario("f", "50 connections busy, 950 open and idle, GET", 50, idle=950),
]

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


def ticks(fields, first, last):
    return sum(int(fields[i]) for i in range(first, last + 1))


def runtime_seconds(pid):
    """CPU time of every thread of a process, to the nanosecond. /proc/PID/
    stat counts in ticks of 10 ms, and each of 1000 children serving a few
    requests has used less than one."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total / 1e9


def reaped_seconds(pid):
    """What the children pid has waited for had used: cutime + cstime."""
    fields = proc_stat(pid)
    return ticks(fields, 13, 14) / CLOCK_TICKS if fields else 0


def tree_cpu_seconds(root):
    """CPU time of the whole tree: the root's own (its exited threads
    included) and its reaped children's, from its stat fields; each live or
    zombie descendant's from its threads' schedstat, plus what it reaped. A
    child reaped in the middle of the count would be seen twice or not at
    all: count again until the root's reaped time did not move meanwhile."""
    for _ in range(10):
        reaped = reaped_seconds(root)
        procs = tree(root)
        total = ticks(procs[root], 11, 14) / CLOCK_TICKS if root in procs else 0
        total += sum(runtime_seconds(pid) + ticks(f, 13, 14) / CLOCK_TICKS
                     for pid, f in procs.items() if pid != root)
        if reaped_seconds(root) == reaped:
            break
    return total


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
    name: str
    kind: str            # "stage" or "reference"
    protocol: Protocol
    command: list = None
    missing: str = ""    # why it cannot run, if it cannot
    is_redis: bool = False

    def start(self):
        if self.is_redis:
            return start_redis(self)
        return Running(self, subprocess.Popen(
            [*self.command, "0"], stdin=subprocess.DEVNULL,
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
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for pid in procs:
            if not wait_until(lambda: (proc_stat(pid) or ["Z"])[0] == "Z", 5):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.stdout:
            self.proc.stdout.close()


@functools.cache
def redis_spec():
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    missing = "" if os.access(binary, os.X_OK) else "not installed"
    return ServerSpec("Redis", "reference", REDIS, [binary], missing, is_redis=True)


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


def server_specs(bin_dir):
    stages = [s for s in STAGES if "todo" in STAGES[s] and (ROOT / s).is_dir()]
    specs = [ServerSpec(s, "stage", stage_protocol(s), [str(bin_dir / s / "server")])
             for s in stages]
    specs.append(ServerSpec("C epoll (floor)", "reference", TODO,
                            [str(bin_dir / "floor")]))
    specs.append(redis_spec())
    for name, script in (("Python threading", "threading_server.py"),
                         ("Python forking", "forking_server.py")):
        specs.append(ServerSpec(name, "reference", TODO,
                                [PYTHON, str(HERE / script)]))
    return specs

# ---------------------------------------------------------------- one cell


@dataclasses.dataclass
class Cell:
    """What one scenario measured on one server."""
    rate: float = 0            # requests (or connections) per second
    p50: float = 0             # latency, µs
    p99: float = 0
    max: float = 0
    errors: dict = dataclasses.field(default_factory=dict)
    server_us: float = 0       # server CPU per request, µs
    rss: int = 0
    pss: int = 0
    generator_us: float = 0    # generator CPU per request, µs
    generator_busy: float = 0  # share of a core the generator used
    other_load: float = 0      # CPUs busy with neither of them
    failure: str = ""          # why the cell could not be measured
    message: str = ""          # what loadgen said about a wrong reply

    @property
    def error_count(self):
        return sum(self.errors.values())

    @property
    def saturated(self):
        return self.generator_busy >= SATURATED


class LineReader:
    """Lines from a pipe, each wait bounded."""

    def __init__(self, pipe):
        self.pipe, self.buffer = pipe, b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(pipe, selectors.EVENT_READ)

    def line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                raise TimeoutError(f"no line within {timeout} s")
            chunk = os.read(self.pipe.fileno(), 4096)
            if not chunk:
                raise EOFError("loadgen ended early")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def close(self):
        self.selector.close()


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
    except (RuntimeError, TimeoutError, EOFError, OSError) as e:
        return Cell(failure=str(e))


def measure(spec, scenario, args):
    """Starts the server, runs loadgen against it, stops the server."""
    cell = Cell()
    server = spec.start()
    try:
        gen = subprocess.Popen(
            [str(args.bin_dir / "loadgen"), "-s", "-d", str(args.seconds),
             "-t", str(REPLY_SECONDS),
             *scenario.loadgen_args(spec.protocol), str(server.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=pin_to(generator_cpus(args.pin)))
        try:
            run_generator(gen, server, scenario, args, cell)
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


def run_generator(gen, server, scenario, args, cell):
    """The loadgen -s exchange: ready, go, report, done, close."""
    out = LineReader(gen.stdout)
    try:
        measure_window(gen, out, server, scenario, args, cell)
    finally:
        out.close()


def measure_window(gen, out, server, scenario, args, cell):
    if out.line(REPLY_SECONDS + 15) != "ready":
        raise RuntimeError("loadgen did not say ready")
    cpu_before, busy_before = tree_cpu_seconds(server.pid), system_busy_seconds()
    wall_before = time.monotonic()
    gen.stdin.write(b"go\n")
    gen.stdin.flush()
    report = {}
    while (line := out.line(args.seconds + REPLY_SECONDS + 15)) != "done":
        key, value = line.split()
        report[key] = float(value) if key != "mode" else value
    if scenario.connect_each:
        # Children serving the last connections may still be exiting.
        wait_until(lambda: not live_children(server.pid), 2)
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    busy = system_busy_seconds() - busy_before
    wall = time.monotonic() - wall_before
    cell.rss, cell.pss = tree_memory(server.pid)
    gen.stdin.write(b"\n")
    gen.stdin.flush()

    requests = report["requests"]
    cell.rate = report["requests/s"]
    cell.p50, cell.p99, cell.max = report["p50_us"], report["p99_us"], report["max_us"]
    cell.errors = {k[len("errors_"):]: int(v) for k, v in report.items()
                   if k.startswith("errors_") and v}
    cell.server_us = cpu * 1e6 / requests if requests else 0
    cell.generator_us = report["cpu_us/request"]
    cell.generator_busy = report["cpu_busy"]
    generator_cpu = cell.generator_busy * report["seconds"]
    cell.other_load = max(0.0, (busy - cpu - generator_cpu) / wall)

# ---------------------------------------------------------------- tables


def number(x, digits=0):
    if x >= 100 or digits == 0:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def errors_text(cell):
    if cell.failure and not cell.errors:
        return "failed"
    if not cell.errors:
        return "0"
    return " ".join(f"{n} {kind}" for kind, n in cell.errors.items())


def generator_text(cell):
    text = f"{cell.generator_us:.1f} ({cell.generator_busy:.0%})"
    return text + " saturated" if cell.saturated else text


DETAIL_COLUMNS = ["server", "scenario", "req/s", "p50 µs", "p99 µs", "errors",
                  "server CPU µs/req", "RSS MiB", "PSS MiB",
                  "loadgen CPU µs/req (busy)", "other load"]


def detail_rows(specs, results):
    rows = []
    for spec in specs:
        for sc in SCENARIOS:
            cell = results.get((spec.name, sc.key))
            if spec.missing or cell is None:
                rows.append([spec.name, sc.key, spec.missing or "not run"] +
                            [""] * (len(DETAIL_COLUMNS) - 3))
                continue
            if cell.failure:
                rows.append([spec.name, sc.key, "failed: " + cell.failure] +
                            [""] * (len(DETAIL_COLUMNS) - 3))
                continue
            rows.append([spec.name, sc.key, number(cell.rate), number(cell.p50, 1),
                         number(cell.p99, 1), errors_text(cell),
                         number(cell.server_us, 1), number(cell.rss / MIB, 1),
                         number(cell.pss / MIB, 1), generator_text(cell),
                         f"{cell.other_load:.0%}"])
    return rows


SUMMARY_COLUMNS = ["server", "(a) p50 µs", "(b) req/s", "(b) CPU µs/req",
                   "(c) req/s", "(d) req/s", "(d) PSS MiB", "(d) RSS MiB",
                   "(e) conn/s", "(e) CPU µs/conn", "(f) req/s", "(f) CPU µs/req",
                   "errors"]


def summary_rows(specs, results):
    rows = []
    for spec in specs:
        cells = {sc.key: results.get((spec.name, sc.key)) for sc in SCENARIOS}
        if spec.missing:
            rows.append([spec.name, spec.missing] + [""] * (len(SUMMARY_COLUMNS) - 2))
            continue

        def show(key, value, digits=1):
            cell = cells[key]
            if cell is None or cell.failure:
                return "—"
            return number(value(cell), digits)

        def rate(key):
            text = show(key, lambda c: c.rate, 0)
            return text + "\\*" if cells[key] and cells[key].saturated else text

        errors = sum(c.error_count for c in cells.values() if c)
        name = spec.name + (" †" if spec.protocol.note else "")
        rows.append([name, show("a", lambda c: c.p50), rate("b"),
                     show("b", lambda c: c.server_us), rate("c"), rate("d"),
                     show("d", lambda c: c.pss / MIB), show("d", lambda c: c.rss / MIB),
                     rate("e"), show("e", lambda c: c.server_us), rate("f"),
                     show("f", lambda c: c.server_us), str(errors)])
    return rows


def markdown_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join(" --- " for _ in columns) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def text_table(columns, rows):
    rows = [[c.replace("\\*", "*") for c in r] for r in rows]
    widths = [max(len(r[i]) for r in [columns] + rows) for i in range(len(columns))]
    line = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join(line.format(*r).rstrip() for r in [columns] + rows)

# ---------------------------------------------------------------- targets


@dataclasses.dataclass
class Target:
    text: str
    ratio: float = None   # None: could not be judged
    passed: bool = None
    why: str = ""         # the numbers, or why it could not be judged


def compare(text, results, a, b, key, field, bound, at_most=False):
    """Target: a's field in scenario key, over b's, is at least bound (or
    at most, for costs)."""
    ca, cb = results.get((a, key)), results.get((b, key))
    for name, cell in ((a, ca), (b, cb)):
        if cell is None or cell.failure or not getattr(cell, field):
            return Target(text, why=f"not judged: no measure of {name}")
    ratio = getattr(ca, field) / getattr(cb, field)
    passed = ratio <= bound if at_most else ratio >= bound
    unit = "req/s" if field == "rate" else "µs/req"
    why = f"{number(getattr(ca, field), 1)} vs {number(getattr(cb, field), 1)} {unit}"
    if field == "rate" and (ca.saturated or cb.saturated):
        why += "; loadgen saturated: the rates are the generator's"
    return Target(text, ratio, passed, why)


def judge(specs, results):
    """The issue's targets, each a ratio between two servers of this run."""
    present = {s.name for s in specs}
    missing = {s.name: s.missing for s in specs if s.missing}
    stages = [s.name for s in specs if s.kind == "stage"]
    targets = []

    def target(text, a, b, key, field, bound, at_most=False):
        if a not in present:
            return  # a run of some servers only (--only)
        if a in missing or b in missing:
            name = a if a in missing else b
            targets.append(Target(text, why=f"not judged: {name} {missing[name]}"))
        else:
            targets.append(compare(text, results, a, b, key, field, bound, at_most))

    target("v0.7-select (b) req/s ≥ Redis", "v0.7-select", "Redis", "b", "rate", 1.0)
    target("v0.7-select (b) CPU/req ≤ 1.3 × floor", "v0.7-select",
           "C epoll (floor)", "b", "server_us", 1.3, at_most=True)
    target("v0.7-select (d) req/s ≥ 0.9 × Redis", "v0.7-select", "Redis", "d",
           "rate", 0.9)
    for s in (s for s in stages if "threads" in STAGES[s]):
        target(f"{s} (b) req/s ≥ 4 × Python threading", s, "Python threading",
               "b", "rate", 4.0)
        target(f"{s} (b) CPU/req ≤ ¼ × Python threading", s, "Python threading",
               "b", "server_us", 0.25, at_most=True)
    target("v0.8-fork (e) conn/s ≥ 5 × Python forking", "v0.8-fork",
           "Python forking", "e", "rate", 5.0)
    target("v0.8-fork (b) req/s ≥ 2 × Python forking", "v0.8-fork",
           "Python forking", "b", "rate", 2.0)

    bad = [f"{n} ({k}): {errors_text(c)}" for (n, k), c in results.items()
           if c.error_count or c.failure]
    targets.append(Target("zero errors in every cell", passed=not bad,
                          why="; ".join(bad) or "none"))
    for s in stages:
        cell = results.get((s, "d"))
        if cell and not cell.failure:
            targets.append(Target(
                f"{s} (d) total PSS ≤ 64 MiB", cell.pss / (64 * MIB),
                cell.pss <= 64 * MIB,
                f"PSS {cell.pss / MIB:.1f} MiB (RSS {cell.rss / MIB:.1f} MiB)"))
    return targets


def verdict(t):
    return "n/a" if t.passed is None else "PASS" if t.passed else "MISS"


def target_rows(targets):
    return [[t.text, "" if t.ratio is None else f"{t.ratio:.2f}", verdict(t), t.why]
            for t in targets]

# ---------------------------------------------------------------- chart


COLOURS = {"stage": "#2f6db5", "C epoll (floor)": "#555555", "Redis": "#b5432f",
           "reference": "#9a9a9a"}
LEGEND = {"stage": "the stages", "C epoll (floor)": "C epoll (floor)",
          "Redis": "Redis", "reference": "Python socketserver"}
PANELS = [("a", "(a) 1 connection: p50 latency, µs (shorter is better)",
           lambda c: c.p50),
          ("b", "(b) 50 connections: requests/s", lambda c: c.rate),
          ("c", "(c) 50 connections, 10% POST: requests/s", lambda c: c.rate),
          ("d", "(d) 1000 connections: requests/s", lambda c: c.rate),
          ("e", "(e) a connection per request: connections/s", lambda c: c.rate),
          ("f", "(f) 50 busy, 950 idle: server CPU µs/request (shorter is better)",
           lambda c: c.server_us),
          ("b", "(b) server CPU per request, µs (shorter is better)",
           lambda c: c.server_us),
          ("d", "(d) 1000 connections: memory, PSS MiB (shorter is better)",
           lambda c: c.pss / MIB)]
RATE_PANELS = {1, 2, 3, 4}


def svg_chart(specs, results, subtitle):
    bar, gap, label_w, bar_w, panel_w = 15, 3, 130, 250, 460
    specs = [s for s in specs if not s.missing]
    panel_h = 28 + len(specs) * (bar + gap) + 14
    width, top = 2 * panel_w + 20, 52
    height = top + 4 * panel_h + 16
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">'
           'make bench: what each server design costs</text>',
           f'<text x="10" y="38" fill="#555">{html.escape(subtitle)}</text>']
    x = width - 10 - 125 * len(LEGEND)
    for key, text in LEGEND.items():
        out.append(f'<rect x="{x}" y="10" width="12" height="12" '
                   f'fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{x + 16}" y="20">{html.escape(text)}</text>')
        x += 125
    for i, (key, title, value) in enumerate(PANELS):
        x0, y0 = 10 + (i % 2) * panel_w, top + (i // 2) * panel_h
        cells = {s.name: results.get((s.name, key)) for s in specs}
        values = [value(c) for c in cells.values() if c and not c.failure]
        scale = bar_w / max(values) if values and max(values) > 0 else 0
        out.append(f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">'
                   f'{html.escape(title)}</text>')
        for j, spec in enumerate(specs):
            y = y0 + 24 + j * (bar + gap)
            cell = cells[spec.name]
            colour = COLOURS.get(spec.name, COLOURS[spec.kind])
            out.append(f'<text x="{x0 + label_w - 6}" y="{y + 11}" '
                       f'text-anchor="end">{html.escape(spec.name)}</text>')
            if cell is None or cell.failure:
                out.append(f'<text x="{x0 + label_w}" y="{y + 11}" '
                           f'fill="#b00">not measured</text>')
                continue
            w = max(1.0, value(cell) * scale)
            label = number(value(cell), 1)
            if cell.error_count:
                label += f"  ({cell.error_count} errors)"
            elif cell.saturated and i in RATE_PANELS:
                label += " *"
            out.append(f'<rect x="{x0 + label_w}" y="{y}" width="{w:.1f}" '
                       f'height="{bar}" fill="{colour}"/>')
            out.append(f'<text x="{x0 + label_w + w + 4:.1f}" y="{y + 11}">'
                       f'{html.escape(label)}</text>')
    if any(c.saturated for c in results.values()):
        out.append(f'<text x="10" y="{height - 8}" fill="#555">* loadgen used '
                   f'over {SATURATED:.0%} of its CPU: the rate is the generator\'s, '
                   f'the server could go faster</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"

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
    spec = redis_spec()
    if spec.missing:
        return "not installed"
    out = subprocess.run([*spec.command, "--version"], capture_output=True,
                         text=True).stdout
    words = out.split()
    return words[2].removeprefix("v=") if len(words) > 2 else out.strip()


def markdown(specs, results, targets, args, when):
    placement = ("loadgen on the last CPU and the servers on any" if args.pin
                 else "loadgen and the servers on any CPU")
    notes = "\n".join(f"- † {s.name}: {s.protocol.note}." for s in specs
                      if s.protocol.note)
    return f"""# make bench: what each server design costs

Machine: {machine()}.
Date: {when}. Each cell measured for {args.seconds} s, {placement}; before
the run, other programs kept {args.background:.0%} of a CPU busy.
Python {platform.python_version()} (socketserver), Redis {redis_version()}.
This run took {args.took:.0f} s; run it again with `make bench`.

Scenarios: (a) 1 connection, GET, for latency; (b) 50 connections, GET;
(c) 50 connections, 90% GET and 10% POST; (d) 1000 connections held open,
GET; (e) 20 clients each connecting, asking once and closing (rates there
are connections per second); (f) 50 connections busy while 950 more stay
open and idle, to show what idle clients cost each design. One request is
in flight per busy connection, and every reply is checked byte for byte.

## Summary

{markdown_table(SUMMARY_COLUMNS, summary_rows(specs, results))}

\\* loadgen used over {SATURATED:.0%} of its core: the rate is the
generator's, and the server could go faster. Compare CPU per request there.

{notes}

## Targets

{markdown_table(["target", "ratio", "", "measured"], target_rows(targets))}

Memory is judged on PSS, the honest total: RSS summed over 1000 forked
children counts every shared page 1000 times.

## Every cell

{markdown_table(DETAIL_COLUMNS, detail_rows(specs, results))}

What loadgen said about wrong replies: {loadgen_messages(specs, results)}

## How it is measured

- **req/s, latency, errors**: from loadgen (`tests/bench/loadgen.c`), one
  thread and one epoll loop. Before the window it opens every connection and
  has each answered once, so threads and processes exist when it starts.
  Errors: `connect`, `reset`, `closed` (before the whole reply), `mismatch`
  (not the expected bytes), `timeout` (no reply within {REPLY_SECONDS} s).
- **server CPU µs/req**: user + system time of the server's whole process
  tree over the window (live processes from `/proc/PID/stat`, and the
  children it reaped, from its `cutime` and `cstime`), over the requests
  answered. On loopback the sender of each segment also pays for delivering
  it, so a server's CPU includes delivering its replies into loadgen's
  sockets, and loadgen's includes delivering its requests.
- **RSS, PSS**: summed over the tree at the end of the window, the
  connections still open.
- **loadgen CPU**: its own CPU per request and share of one core; at
  {SATURATED:.0%} it is the bottleneck, marked *saturated*. loadgen runs on
  the last CPU (the servers on any): left free, the scheduler sometimes
  stacks it on the server's CPU, which halves a rate from one run to the
  next. The servers are not pinned: a threaded server's threads meet on
  several CPUs, as they do when deployed, and that is part of its cost.
- **other load**: CPUs busy with neither the server nor loadgen during the
  window, as a share of one CPU; above a few % another program disturbed
  the cell. A cell above {DISTURBED:.0%} is measured again once the machine
  is quiet (waiting 5 s at most; twice at most, {RETRIES} times in a run)
  and the least disturbed measure is kept.
- In (e) loadgen closes each connection with a reset (`SO_LINGER` 0) once it
  has its reply: a normal close leaves a TIME_WAIT on the client side, and
  thousands a second use up the local ports in seconds. The servers see
  the reset as the client's end.
- Protocols: the stages, the floor and the Python servers get
  `GET/task_01/status` and `POST/bench_N=done/status` (N from 0 to 99);
  Redis gets `GET task_01` and `SET bench_N done`, task_01 stored first.
- The references: `floor.c` (epoll, built with v0.7-select's framing and
  list), `threading_server.py` and `forking_server.py` (socketserver), and
  `redis-server --save '' --appendonly no`.
"""


def show_progress(spec, scenario, cell):
    text = (f"{cell.rate:10,.0f} /s  p50 {cell.p50:8.1f} µs  server "
            f"{cell.server_us:7.1f} µs/req  errors {errors_text(cell)}")
    if cell.failure:
        text = "failed: " + cell.failure
    print(f"  {spec.name:18} ({scenario.key}) {text}", flush=True)
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


def loadgen_messages(specs, results):
    lines = [f"- {name} ({key}): {cell.message}".replace("\n", " ")
             for (name, key), cell in results.items() if cell.message]
    return "\n".join(lines) or "None."


def allow_descriptors():
    """1000 connections need more than the usual 1024 descriptors, in
    loadgen and in the servers, which inherit this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", type=pathlib.Path, required=True,
                        help="folder with loadgen, floor and STAGE/server")
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="length of each measured window")
    parser.add_argument("--only", action="append", default=[],
                        help="measure this server only (repeatable)")
    parser.add_argument("--out", type=pathlib.Path, default=HERE,
                        help="where results.md and results.svg go")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="let loadgen run on any CPU")
    args = parser.parse_args()
    allow_descriptors()
    specs = [s for s in server_specs(args.bin_dir)
             if not args.only or s.name in args.only]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    args.background = background_load()
    if args.background > 0.1:
        print(f"warning: other programs keep {args.background:.0%} of a CPU busy: "
              f"they will disturb the numbers (see 'other load' per cell)")
    results = {}
    began = time.monotonic()
    retries = RETRIES
    for spec in specs:
        if spec.missing:
            print(f"  {spec.name:18} {spec.missing}")
            continue
        for scenario in SCENARIOS:
            cell = measure_cell(spec, scenario, args)
            for _ in range(2):
                if cell.other_load <= DISTURBED or retries == 0:
                    break
                retries -= 1
                print(f"  {spec.name:18} ({scenario.key}) disturbed (other load "
                      f"{cell.other_load:.0%}): measured again")
                wait_for_quiet(5)
                again = measure_cell(spec, scenario, args)
                if not again.failure and again.other_load < cell.other_load:
                    cell = again
            results[(spec.name, scenario.key)] = cell
            show_progress(spec, scenario, cell)
    targets = judge(specs, results)
    args.took = time.monotonic() - began

    print()
    print(text_table(SUMMARY_COLUMNS, summary_rows(specs, results)))
    print("* loadgen saturated: the rate is the generator's\n")
    print(text_table(["target", "ratio", "", "measured"], target_rows(targets)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(markdown(specs, results, targets, args, when))
    subtitle = f"{machine()}; {when}"
    (args.out / "results.svg").write_text(svg_chart(specs, results, subtitle))
    print(f"\nwrote {args.out / 'results.md'} and {args.out / 'results.svg'} "
          f"in {args.took:.0f} s")


if __name__ == "__main__":
    main()
