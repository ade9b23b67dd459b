"""What the run concludes: UNP chapter 30's claims checked, the
observations that are not UNP's, and the targets set for the stages. Each
verdict rests only on gaps the runs can tell apart (stats.separated), and
says the other load of every cell it uses."""

import dataclasses
import math

from harness import STAGES

from .stats import METRICS, Spread, separated
from .tables import percent_text, spread_text

# UNP: W. Richard Stevens, Bill Fenner and Andrew M. Rudoff, UNIX Network
# Programming, Volume 1, third edition (2003), chapter 30, whose summary
# says that a pool of children or of threads cuts the process-control CPU
# time by a factor of 10 or more against one fork per client, and that
# threads are normally faster than processes.
UNP_FACTOR = 10


def cells_note(results, cells):
    """The other load during each cell a verdict uses; a warning if one of
    them was disturbed."""
    parts = [f"{name} ({key}) {percent_text(s)}" for name, key in cells
             if (s := results.other_load(name, key))]
    text = "Other load: " + ", ".join(parts) + "." if parts else ""
    disturbed = [f"{n} ({k})" for n, k in cells if results.disturbed(n, k)]
    if disturbed:
        text += (f" Disturbed: {', '.join(disturbed)}; measure again on a "
                 f"quiet machine before relying on this.")
    return text


def why_not_separated(a, b):
    if min(a.n, b.n) < 2:
        return "one run shows no noise"
    if not (a.high < b.low or b.high < a.low):
        return "their ranges overlap"
    return (f"the gap between the medians, {abs(a.median - b.median):.1f}, is "
            f"no wider than a range, {max(a.width, b.width):.1f}")


def process_control(results, name):
    """UNP's 'process control CPU time': what a design spends per connection
    above the event loop floor, which serves every connection with no
    process or thread made or woken: (e) CPU of name minus floor-epoll's.
    Its range pairs the least of one with the greatest of the other."""
    metric = METRICS["e-cpu"]
    mine, base = results.spread(name, metric), results.spread("floor-epoll", metric)
    if mine is None or base is None:
        return None
    return Spread(mine.median - base.median, mine.low - base.high,
                  mine.high - base.low, min(mine.n, base.n))


def factors(more, less):
    """more / less: the median's, and the least and greatest any two runs
    allow."""
    def over(a, b):
        return a / b if b > 0 else math.inf
    return (over(more.median, less.median), over(more.low, less.high),
            over(more.high, less.low))


def factor_text(x):
    return "no end of" if x == math.inf else f"{x:.1f}"


def pool_sentence(results, per_client, pool, claim, judged=True):
    """A pool against a design that makes a process or thread per client, in
    process-control CPU per connection. judged: UNP's claim of a factor of
    10, checked; else an observation, its factor given."""
    more, less = process_control(results, per_client), process_control(results, pool)
    if more is None or less is None:
        return None
    median, least, greatest = factors(more, less)
    text = (f"{claim}: {per_client} spends {spread_text(more)} µs per "
            f"connection above floor-epoll's, {pool} {spread_text(less)} µs, "
            f"{factor_text(median)} times less (from {factor_text(least)} to "
            f"{factor_text(greatest)} over the runs)")
    if judged:
        verdict = ("one run cannot tell" if more.n < 2 else
                   "it holds" if least >= UNP_FACTOR else
                   "it does not hold" if greatest < UNP_FACTOR else
                   "the runs cannot tell")
        text += f": **{verdict}**"
    cells = [(per_client, "e"), (pool, "e"), ("floor-epoll", "e")]
    return f"{text}. {cells_note(results, cells)}"


def cheaper_sentence(results, claim, a, b, metric_key):
    """The claim that a costs less than b: it holds if the runs tell them
    apart and a's median is the lower."""
    metric = METRICS[metric_key]
    sa, sb = results.spread(a, metric), results.spread(b, metric)
    if sa is None or sb is None or not sa.median:
        return None
    if separated(sa, sb):
        outcome = "it holds" if sa.median < sb.median else "it does not hold"
    else:
        outcome = f"the runs cannot tell them apart: {why_not_separated(sa, sb)}"
    cells = [(a, metric.key), (b, metric.key)]
    return (f"{claim}: {metric.title}, {a} {spread_text(sa)} and {b} "
            f"{spread_text(sb)}, a gap of {abs(sb.median - sa.median):.1f} "
            f"µs ({sb.median / sa.median:.2f}×): **{outcome}**. "
            f"{cells_note(results, cells)}")


def conclusions(results):
    """UNP chapter 30's claims, each checked against this run."""
    sentences = [
        pool_sentence(results, "floor-fork", "floor-fork-pool",
                      "A pool of processes against a fork per client"),
        pool_sentence(results, "floor-fork", "floor-thread-pool",
                      "A pool of threads against a fork per client"),
        pool_sentence(results, "v0.8-fork", "8.1-pool",
                      "The same for this repository's servers: exercise "
                      "8.1's pool against v0.8's fork per client"),
        cheaper_sentence(results, "Threads are faster than processes, per "
                         "connection", "floor-threads", "floor-fork", "e-cpu"),
        cheaper_sentence(results, "Threads are faster than processes, per "
                         "request on a connection kept open", "floor-threads",
                         "floor-fork", "b-cpu"),
    ]
    return [s for s in sentences if s]


def observations(results):
    """What this run shows beyond UNP's claims, each said as such."""
    sentences = [
        pool_sentence(results, "floor-threads", "floor-thread-pool",
                      "A pool of threads against a thread per connection",
                      judged=False),
        cheaper_sentence(results, "A process-shared mutex is cheaper than an "
                         "fcntl lock (UNP's locks guard accept; these guard "
                         "the list)", "floor-fork-mutex", "floor-fork-fcntl",
                         "b-cpu"),
    ]
    return [s for s in sentences if s]


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
    if results.disturbed(a, metric.key) or results.disturbed(b, metric.key):
        why += "; disturbed by other load"
    return Target(text, ratio, passed, why)


def judge(results):
    """The targets set for the stages, each a ratio between two rows."""
    names = {r.name: r for r in results.rows}
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
    for r in (r for r in names.values() if r.kind == "stage"):
        m = results.spread(r.name, pss)
        if m:
            targets.append(Target(f"{r.name} (d) total PSS ≤ 64 MiB",
                                  m.median / 64, m.median <= 64,
                                  f"PSS {spread_text(m)} MiB"))
    return targets


def target_verdict(t):
    return "n/a" if t.passed is None else "PASS" if t.passed else "MISS"


def target_rows(targets):
    return [[t.text, "" if t.ratio is None else f"{t.ratio:.2f}",
             target_verdict(t), t.why] for t in targets]
