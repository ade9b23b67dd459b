"""results.md: the tables, what the run concludes and how it was measured,
from a run's Results alone (so a saved results.json renders the same)."""

import os
import pathlib
import platform
import subprocess

from .accounting import QUIET
from .measure import ATTEMPTS, QUIET_WAIT, REPLY_SECONDS
from .rows import redis_binary
from .stats import SATURATED
from .tables import (close_pairs, detail_rows, DETAIL_COLUMNS, legend,
                     loadgen_messages, markdown_table, marks_text,
                     quoted_tables, summary_columns, summary_rows)
from .verdicts import conclusions, observations, target_rows


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


def sysctl(name):
    """A setting of Linux's IPv4 stack, as a list of numbers; [] if absent."""
    try:
        return [int(x) for x in pathlib.Path("/proc/sys/net/ipv4", name)
                .read_text().split()]
    except (OSError, ValueError):
        return []


def header(args, when, background):
    """What results.md says of the run besides its cells."""
    return {"machine": machine(), "when": when, "runs": args.runs,
            "seconds": args.seconds, "pin": args.pin, "background": background,
            "python": platform.python_version(), "redis": redis_version(),
            "retries": args.retries, "took": 0,
            "ports": sysctl("ip_local_port_range"),
            "tw_reuse": sysctl("tcp_tw_reuse"),
            "tw_reuse_delay_ms": sysctl("tcp_tw_reuse_delay") or [1000]}


def times(n):
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def bullets(sentences):
    return "\n".join(f"- {s}" for s in sentences) or "Not measured in this run."


def quiet_text(results):
    """How quiet the run was: the cells still disturbed, the measures taken
    again."""
    disturbed = results.disturbed_cells()
    again = results.measured_again()
    text = (f"{len(results.cells)} cells; {again} measures were taken again "
            f"because other programs were busy; ")
    if not disturbed:
        return text + (f"in the end no cell was measured with other load "
                       f"over {QUIET:.0%}.")
    names = (": " + ", ".join(f"{n} ({k})" for n, k in disturbed)
             if len(disturbed) <= 8 else ", shown in the last column of "
             "\"Every cell\"")
    return text + (f"{len(disturbed)} cells still had a run with other load "
                   f"over {QUIET:.0%} (marked !){names}.")


def time_wait_text(h):
    """Why (e) ends each connection with a reset, from this machine's
    settings."""
    reuse = "".join(str(x) for x in h["tw_reuse"]) or "unknown"
    delay = h["tw_reuse_delay_ms"][0] / 1000
    text = f"""In (e) loadgen closes each connection with a reset (`SO_LINGER`
  0) once it has its reply, and so leaves no TIME_WAIT behind. After a
  normal close, the client's port stays in TIME_WAIT for 60 s; Linux
  reuses it for a new connection to the same server {delay:g} s later
  (`tcp_tw_reuse_delay`) if `tcp_tw_reuse` allows it (its default, 2, does
  on loopback; here it is {reuse})."""
    if len(h["ports"]) == 2:
        low, high = h["ports"]
        text += f""" The {high - low + 1:,} local ports ({low}–{high}) would
  then last up to about {(high - low + 1) / delay:,.0f} connections a
  second, which the event loops can pass."""
    return text + " The servers see the reset as the client's end."


def markdown(results, targets):
    h = results.header
    placement = ("loadgen on the last CPU and the servers on any" if h["pin"]
                 else "loadgen and the servers on any CPU")
    note = f"\n{h['note']}\n" if h.get("note") else ""
    return f"""# make bench: what each server design costs

Machine: {h["machine"]}.
Date: {h["when"]}. Each cell measured {times(h["runs"])} for {h["seconds"]} s,
{placement}; before the run, other programs kept {h["background"]:.0%} of a
CPU busy. Python {h["python"]} (socketserver), Redis {h["redis"]}.
This run took {h["took"]:.0f} s; `make bench` runs it again into
build/bench/.
{note}
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
{times(h["runs"])}, one run of every cell after the other, so a disturbance
hits one run of many rows rather than every run of one; a cell shows the
median and, in brackets, the least and greatest of its runs.

**Other load.** Each cell records how busy the rest of the machine was
during it: the CPUs busy with neither the server nor loadgen. A cell
measured while other programs kept over {QUIET:.0%} of a CPU busy is
measured again once the machine is quiet ({ATTEMPTS} times at most, and
{h["retries"]} measures again in a whole run), and its least disturbed
measure is kept; one still disturbed is marked !. {quiet_text(results)}

**Telling two rows apart.** The runs tell two measures apart when each
was measured at least twice, their ranges do not overlap, and their
medians are further apart than either range is wide, the noise from one
run to the next. A conclusion below is drawn only from such gaps, and
gives the other load of every cell it uses.

Scenarios: (a) 1 connection, GET, for latency; (b) 50 connections, GET;
(c) 50 connections, 90% GET and 10% POST; (d) 1000 connections held open,
GET; (e) 20 clients each connecting, asking once and closing (rates and
CPU there are per connection); (f) 50 connections busy while 950 more stay
open and idle, to show what idle clients cost each design. One request is
in flight per busy connection, and every reply is checked byte for byte.
The floors answer GET only, so they run no (c).

## Every design against its floor

{markdown_table(summary_columns(), summary_rows(results))}

Rates in thousands a second.
{marks_text()}

{legend(results.rows)}

## UNP chapter 30's conclusions, on this machine

UNP is W. Richard Stevens, Bill Fenner and Andrew M. Rudoff, *UNIX Network
Programming, Volume 1: The Sockets Networking API*, third edition
(Addison-Wesley, 2003). Its chapter 30 runs one client against nine server
designs, and its summary says that a pool of children or of threads cuts
the process-control CPU time by a factor of 10 or more against the
traditional fork per client, and that threads are normally faster than
processes. Its process-control time is what a design spends above a
server that makes no process; here, (e)'s CPU per connection above
floor-epoll's. A factor's range pairs the least of one row with the
greatest of the other; the claim holds when even the least reaches 10.

{bullets(conclusions(results))}

What this run shows beyond UNP's claims:

{bullets(observations(results))}

## Pairs this run cannot tell apart

{close_pairs(results)}

## What the chapters quote

Each stage's chapter, in "What it costs", and docs/costs.md show these
rows of the table above: after a new run, `make bench-quotes` copies each
table into its file (make test checks they match); then check the numbers
its text quotes.

{quoted_tables(results)}

## Targets

{markdown_table(["target", "ratio", "", "measured"], target_rows(targets))}

Memory is judged on PSS, the honest total: RSS summed over 1000 forked
children counts every shared page 1000 times.

## Every cell

Median (least–greatest) over the runs; "again": measures taken again
because the machine was busy.

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
- **other load**: the CPU time every CPU spent busy over the window (from
  the idle time in `/proc/stat`, known to about 2 % of a CPU over half a
  second), less the server's, loadgen's and the bench's own, as a share of
  one CPU. Over {QUIET:.0%}, the cell is measured again, after waiting
  {QUIET_WAIT} s at most for the machine to be quiet. Kernel threads count
  as other load, and so does the network work they take over
  (`ksoftirqd`).
- **pools**: WORKERS, the size of a pool, is set to the number of
  connections the scenario opens (1, 50, 1000 or 20): a worker serves one
  connection at a time, so a smaller pool would leave kept-alive clients
  waiting in the backlog. Only (e) shows what a pool saves.
- {time_wait_text(h)}
- Protocols: the stages, the floors and the Python servers get
  `GET/task_01/status` and `POST/bench_N=done/status` (N from 0 to 99);
  Redis gets `GET task_01` and `SET bench_N done`, task_01 stored first.
- The exercise rows are built from `tests/exercises/solutions/`, each
  applied with `patch -p1` to a temporary copy of its stage; a copy of the
  repository without solutions skips them.
- Every run of every cell is in results.json beside this file: `make
  bench RENDER=path/results.json` draws this page and the chart again from
  it, without measuring.
"""
