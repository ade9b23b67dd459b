"""What the runs show: every run of every cell (kept in results.json), each
measure's spread over the runs, and which gaps the runs can tell apart."""

import dataclasses
import json
import statistics

from .measure import Cell, errors_text
from .rows import DESIGNS, Row

MIB = 1 << 20
SATURATED = 0.9   # generator busy this much of a core: it limits the rate


@dataclasses.dataclass
class Spread:
    """A measure over the runs: its median, least and greatest, of n runs."""
    median: float
    low: float
    high: float
    n: int = 1

    @property
    def width(self):
        return self.high - self.low


def spread(cells, value):
    """The Spread of value over the cells that were measured; None if none
    was."""
    values = sorted(value(c) for c in cells or [] if not c.failure)
    if not values:
        return None
    return Spread(statistics.median(values), values[0], values[-1], len(values))


def separated(a, b):
    """Whether the runs tell two measures apart: each was measured at least
    twice, their ranges do not overlap, and their medians are further apart
    than either range is wide (the noise from one run to the next)."""
    return (min(a.n, b.n) >= 2 and (a.high < b.low or b.high < a.low) and
            abs(a.median - b.median) > max(a.width, b.width))


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


def other_load(c):
    return c.other_load


class Results:
    """Every run of every cell, {(row, scenario key): [Cell, ...]}, the rows
    they are of, and what the run was (machine, date, options: header)."""

    def __init__(self, rows, header):
        self.rows, self.header = rows, header
        self.cells = {}

    def add(self, name, key, cell):
        self.cells.setdefault((name, key), []).append(cell)

    def save(self, path):
        """As JSON, a row or a run of a cell on each line."""
        def lines(items):
            return ",\n  ".join(json.dumps(i, ensure_ascii=False) for i in items)
        cells = [dict(row=n, scenario=k, **dataclasses.asdict(c))
                 for (n, k), cells in self.cells.items() for c in cells]
        rows = [dataclasses.asdict(r) for r in self.rows]
        path.write_text(
            f'{{"header": {json.dumps(self.header, ensure_ascii=False)},\n'
            f' "rows": [\n  {lines(rows)}],\n'
            f' "cells": [\n  {lines(cells)}]}}\n')

    @classmethod
    def load(cls, path):
        data = json.loads(path.read_text())
        results = cls([Row(**r) for r in data["rows"]], data["header"])
        for c in data["cells"]:
            name, key = c.pop("row"), c.pop("scenario")
            results.add(name, key, Cell(**c))
        return results

    def spread(self, name, metric):
        return spread(self.cells.get((name, metric.key)), metric.value)

    def other_load(self, name, key):
        """The Spread of the other load over the cell's runs."""
        return spread(self.cells.get((name, key)), other_load)

    def disturbed(self, name, key):
        """Whether a run of the cell was measured while other programs kept
        over QUIET of a CPU busy."""
        return any(c.disturbed for c in self.cells.get((name, key), []))

    def disturbed_cells(self):
        return [(n, k) for n, k in self.cells if self.disturbed(n, k)]

    def measured_again(self):
        return sum(c.attempts - 1 for cells in self.cells.values() for c in cells)

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

    def ratio(self, row, metric):
        """The row's median over its design floor's, in this run; None if
        either is missing."""
        mine = self.spread(row.name, metric)
        floor = self.spread(DESIGNS[row.design].floor, metric)
        if mine is None or floor is None or floor.median == 0:
            return None
        return mine.median / floor.median

    def too_close(self, row, metric):
        """The other rows of row's design that the runs cannot tell from it
        in metric."""
        mine, close = self.spread(row.name, metric), []
        for other in self.rows:
            theirs = self.spread(other.name, metric)
            if (other is not row and other.design == row.design and mine and
                    theirs and not separated(mine, theirs)):
                close.append(other.name)
        return close
