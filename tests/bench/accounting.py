"""What a server's processes use, and what the rest of the machine does,
from /proc (Linux)."""

import os
import time

from harness import proc_stat

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
QUIET = 0.05   # other programs busy less than this share of a CPU: quiet


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


class MachineClock:
    """What every CPU of the machine did between start() and stop(): busy
    seconds, from the idle time in /proc/stat. Linux counts a CPU's idle
    time exactly when its tick stops while idle (the usual NO_HZ kernel),
    where it counts busy time by sampling at each tick; /proc/stat shows
    both in hundredths of a second, so a window of half a second is known
    to about 2 % of a CPU."""

    def start(self):
        self.idle, self.cpus = self.read()
        self.wall = time.monotonic()

    def stop(self):
        idle, _ = self.read()
        self.seconds = time.monotonic() - self.wall
        self.busy = max(0.0, self.cpus * self.seconds - (idle - self.idle))

    @staticmethod
    def read():
        """(idle + iowait seconds summed over the CPUs, how many CPUs)."""
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
        fields = [int(x) for x in lines[0].split()[1:]]
        cpus = sum(1 for line in lines[1:] if line.startswith("cpu"))
        return (fields[3] + fields[4]) / CLOCK_TICKS, cpus


def background_load(seconds=1.0):
    """How many CPUs other programs keep busy, measured while we wait."""
    clock = MachineClock()
    clock.start()
    time.sleep(seconds)
    clock.stop()
    return clock.busy / clock.seconds


def wait_for_quiet(timeout):
    """Waits, at most timeout seconds, until other programs leave the CPUs
    idle (under QUIET) for half a second; returns the last load seen."""
    deadline = time.monotonic() + timeout
    while (load := background_load(0.5)) > QUIET and time.monotonic() < deadline:
        pass
    return load


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()
