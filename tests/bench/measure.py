"""Measuring a cell, one scenario on one row: start the server, drive it
with loadgen over a window, read what its process tree and the rest of the
machine used, stop it. A cell measured while other programs were busy is
measured again, a bounded number of times."""

import dataclasses
import os
import subprocess
import time

from harness import read_first_line

from . import servers
from .accounting import (QUIET, MachineClock, live_children,
                         process_cpu_seconds, tree_cpu_seconds, tree_faults,
                         tree_memory, wait_for_quiet, wait_until)
from .scenarios import SCENARIOS

REPLY_SECONDS = 20   # the longest a reply, or opening 1000 connections, may take
ATTEMPTS = 3         # a disturbed cell is measured this many times at most,
RETRIES = 40         # and this many measures again in a whole bench (--retries)
QUIET_WAIT = 3       # seconds it waits for the machine to be quiet before


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
    attempts: int = 1          # how many times it was measured
    failure: str = ""          # why the cell could not be measured
    message: str = ""          # what loadgen said about a wrong reply

    @property
    def error_count(self):
        return sum(self.errors.values())

    @property
    def disturbed(self):
        return not self.failure and self.other_load > QUIET


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
    server = servers.start(spec, scenario)
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
    """The loadgen -s exchange: ready, go, its report, done, close. The
    machine's clock brackets the window alone: the scans of /proc that
    count the server's CPU come before and after it, and what this program
    uses inside it (waiting for children to exit) is taken out of the other
    load, as are the server's and loadgen's own CPU."""
    if loadgen_line(gen, REPLY_SECONDS + 15) != "ready":
        raise RuntimeError("loadgen did not say ready")
    cpu_before, faults_before = tree_cpu_seconds(server.pid), tree_faults(server.pid)
    root_before, gen_before = process_cpu_seconds(server.pid), process_cpu_seconds(gen.pid)
    machine, own_before = MachineClock(), time.process_time()
    machine.start()
    gen.stdin.write(b"go\n")
    gen.stdin.flush()
    report = {}
    while (line := loadgen_line(gen, args.seconds + REPLY_SECONDS + 15)) != "done":
        key, value = line.split()
        report[key] = float(value) if key != "mode" else value
    if scenario.connect_each:
        # Children serving the last connections may still be exiting.
        wait_until(lambda: not live_children(server.pid), 2)
    machine.stop()
    own = time.process_time() - own_before
    generator_cpu = process_cpu_seconds(gen.pid) - gen_before
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    root_cpu = process_cpu_seconds(server.pid) - root_before
    faults = [b - a for a, b in zip(faults_before, tree_faults(server.pid))]
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
    cell.other_load = max(0.0, (machine.busy - cpu - generator_cpu - own)
                          / machine.seconds)


def errors_text(cell):
    if cell.failure and not cell.errors:
        return "failed"
    if not cell.errors:
        return "0"
    return " ".join(f"{n} {kind}" for kind, n in cell.errors.items())


def show_progress(run, spec, scenario, cell):
    text = (f"{cell.rate:10,.0f} /s  p50 {cell.p50:8.1f} µs  server "
            f"{cell.server_us:7.1f} µs/req  other load {cell.other_load:4.0%}  "
            f"errors {errors_text(cell)}")
    if cell.failure:
        text = "failed: " + cell.failure
    print(f"  {run} {spec.name:18} ({scenario.key}) {text}", flush=True)
    for line in cell.message.splitlines():
        print(f"      {line}")


def measure_all(specs, args, results):
    """Every cell, args.runs times, into results: run after run, so that a
    disturbance hits one run of many cells, not every run of one. A cell
    during which other programs kept over QUIET of a CPU busy is measured
    again once the machine is quiet, ATTEMPTS times at most and args.retries
    times in all, and its least disturbed measure is kept: a cell still
    disturbed then is marked so in the tables."""
    cells = [(spec, sc) for spec in specs if not spec.missing for sc in SCENARIOS
             if sc.key in spec.scenarios and sc.key in args.scenarios]
    print(f"{len(cells)} cells, {args.runs} runs of {args.seconds} s each")
    retries = args.retries
    for run in range(1, args.runs + 1):
        for spec, scenario in cells:
            cell = measure_cell(spec, scenario, args)
            while cell.disturbed and cell.attempts < ATTEMPTS and retries > 0:
                retries -= 1
                print(f"  {run} {spec.name:18} ({scenario.key}) disturbed (other "
                      f"load {cell.other_load:.0%}): measured again")
                wait_for_quiet(QUIET_WAIT)
                again = measure_cell(spec, scenario, args)
                again.attempts = cell.attempts + 1
                if again.failure or again.other_load >= cell.other_load:
                    cell.attempts = again.attempts
                else:
                    cell = again
            results.add(spec.name, scenario.key, cell)
            show_progress(run, spec, scenario, cell)
    return results
