"""The tables: the summary (every design against its floor), the rows each
chapter quotes, every cell in detail, as markdown or plain text."""

from .accounting import QUIET
from .scenarios import SCENARIOS
from .stats import METRICS, MIB, RATIO_METRICS, SATURATED, other_load, spread
from .rows import DESIGNS

# The marks a cell of the summary may carry, and what each means.
MARKS = {
    "\\*": f"loadgen used over {SATURATED:.0%} of its core: the rate is the "
           f"generator's, and the server could go faster; compare CPU per "
           f"request there",
    "~": "the runs cannot tell this cell from another row of its design "
         "(the pairs are listed below)",
    "!": f"a run of this cell was measured while other programs kept over "
         f"{QUIET:.0%} of a CPU busy: its numbers are disturbed",
}


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


def percent_text(s):
    """An other load as '2 (1–3) %', or '2 %'."""
    low, median, high = (round(100 * x) for x in (s.low, s.median, s.high))
    return f"{median} ({low}–{high}) %" if low != high else f"{median} %"


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
        members = [r for r in results.rows if r.design == design]
        if members:
            rows.append([f"**{DESIGNS[design].title}**"] + [""] * (width - 1))
        for row in members:
            rows.append(summary_row(results, row) if not row.missing
                        else [row.name, row.missing] + [""] * (width - 2))
    return rows


def summary_cell(results, row, metric):
    """A measure's median and range, with its marks."""
    s = results.spread(row.name, metric)
    if s is None:
        return "—"
    text = spread_text(s)
    if results.saturated(row.name, metric):
        text += "\\*"
    if results.too_close(row, metric):
        text += " ~"
    if results.disturbed(row.name, metric.key):
        text += " !"
    return text


def summary_row(results, row, keys=tuple(METRICS)):
    cells = [row.name + (" †" if row.note else "")]
    for key in keys:
        cells.append(summary_cell(results, row, METRICS[key]))
        if key in RATIO_METRICS:
            cells.append(ratio_text(results.ratio(row, METRICS[key])))
    return cells + [str(results.errors(row.name))]


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
    names = {r.name: r for r in results.rows if not r.missing}
    out = []
    for path, quoted in QUOTED.items():
        rows = [names[n] for n in quoted if n in names]
        if rows:
            table = [summary_row(results, r, QUOTED_METRICS)[:-1] for r in rows]
            out.append(f"### {path}\n\n" + markdown_table(
                summary_columns(QUOTED_METRICS)[:-1], table))
    return "\n\n".join(out) or "None: this run measured none of their rows."


DETAIL_COLUMNS = ["server", "scenario", "runs", "req/s", "server CPU µs/req",
                  "first process's", "faults/req", "first process's",
                  "p50 µs", "p99 µs", "errors", "RSS MiB", "PSS MiB",
                  "loadgen busy", "other load"]


def runs_text(cells, measured):
    """How many runs were measured, and how many measures were taken again."""
    again = sum(c.attempts - 1 for c in cells)
    return str(len(measured)) + (f" (+{again} again)" if again else "")


def detail_rows(results):
    rows = []
    for row in results.rows:
        for sc in SCENARIOS:
            cells = results.cells.get((row.name, sc.key))
            if not cells:
                continue
            measured = [c for c in cells if not c.failure]
            if not measured:
                rows.append([row.name, sc.key, str(len(cells)),
                             "failed: " + cells[0].failure] +
                            [""] * (len(DETAIL_COLUMNS) - 4))
                continue

            def show(value, digits=1):
                return spread_text(spread(measured, value), digits)

            load = percent_text(spread(measured, other_load))
            if results.disturbed(row.name, sc.key):
                load += " !"
            rows.append([row.name, sc.key, runs_text(cells, measured),
                         show(lambda c: c.rate, 0), show(lambda c: c.server_us),
                         show(lambda c: c.root_us), show(lambda c: c.faults),
                         show(lambda c: c.root_faults),
                         show(lambda c: c.p50), show(lambda c: c.p99),
                         str(results.errors(row.name, sc.key)),
                         show(lambda c: c.rss / MIB), show(lambda c: c.pss / MIB),
                         show(lambda c: 100 * c.generator_busy, 0) + " %",
                         load])
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
        for row in results.rows:
            for other in results.too_close(row, metric):
                pair = frozenset((row.name, other))
                if pair in seen:
                    continue
                seen.add(pair)
                sa, sb = results.spread(row.name, metric), results.spread(other, metric)
                lines.append(f"- {metric.title}: {row.name} {spread_text(sa)} "
                             f"and {other} {spread_text(sb)}")
    return "\n".join(lines) or ("None: the runs tell every two rows of one "
                                "design apart.")


def loadgen_messages(results):
    lines = [f"- {name} ({key}): {cell.message}".replace("\n", " ")
             for (name, key), cells in results.cells.items() for cell in cells
             if cell.message]
    return "\n".join(dict.fromkeys(lines)) or "None."


def legend(rows):
    lines = [f"- **{r.name}**: {r.about}." for r in rows]
    lines += [f"- † {r.name}: {r.note}." for r in rows if r.note]
    return "\n".join(lines)


def marks_text():
    return "\n".join(f"{mark} {meaning}." for mark, meaning in MARKS.items())
