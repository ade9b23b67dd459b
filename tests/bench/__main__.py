"""make bench: measures every row, prints the table, writes results.json,
results.md and results.svg (into build/bench unless --out says otherwise).

    PYTHONPATH=tests /usr/bin/python3 -m bench --bin-dir build/bench
        [--runs 3] [--seconds 0.5] [--only 'PATTERN ...'] [--scenarios abcdef]
        [--dir PATH [--dir-stage STAGE] [--dir-design DESIGN]]
        [--out FOLDER] [--whole] [--strict] [--render results.json]
"""

import argparse
import datetime
import pathlib
import resource
import sys
import time

from .accounting import QUIET, background_load
from .chart import svg_chart
from .measure import RETRIES, measure_all
from .report import header, markdown, times
from .rows import DESIGNS, server_specs, selected
from .scenarios import ALL_SCENARIOS
from .stats import Results
from .tables import marks_text, summary_columns, summary_rows, text_table
from .verdicts import conclusions, judge, observations, target_rows


def allow_descriptors():
    """1000 connections need more than the usual 1024 descriptors, in
    loadgen and in the servers, which inherit this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def parse_args():
    parser = argparse.ArgumentParser(prog="make bench",
                                     description=__doc__.split("\n")[0])
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
                        help="where results.json, .md and .svg go (default: "
                             "--bin-dir)")
    parser.add_argument("--whole", action="store_true",
                        help="refuse a run of some rows or scenarios (the "
                             "committed results are of every one)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="let loadgen run on any CPU")
    parser.add_argument("--retries", type=int, default=RETRIES,
                        help="how many measures may be taken again because "
                             "other programs were busy")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a cell failed or had an error")
    parser.add_argument("--render", type=pathlib.Path,
                        help="measure nothing: draw results.md and .svg from "
                             "this results.json")
    args = parser.parse_args()
    args.only = args.only.replace(",", " ").split()
    if args.runs < 1 or not set(args.scenarios) <= set(ALL_SCENARIOS):
        parser.error(f"--runs is 1 or more; --scenarios, letters from {ALL_SCENARIOS}")
    if args.whole and (args.only or args.dir or args.scenarios != ALL_SCENARIOS):
        parser.error("the committed results measure every row and scenario: "
                     "no ONLY=, DIR= or BENCH_SCENARIOS=")
    args.out = args.out or args.bin_dir
    return args


def write(results, out):
    """results.json, results.md and results.svg into out."""
    out.mkdir(parents=True, exist_ok=True)
    h = results.header
    results.save(out / "results.json")
    (out / "results.md").write_text(markdown(results, judge(results)))
    subtitle = f"{h['machine']}; {h['when']}; each cell {times(h['runs'])}, {h['seconds']} s"
    (out / "results.svg").write_text(svg_chart(results, subtitle))
    print(f"\nwrote {out / 'results.md'}, results.svg and results.json")


def show(results):
    """The summary, the conclusions and the targets, as plain text."""
    print()
    print(text_table(summary_columns(), summary_rows(results)))
    print(marks_text().replace("\\*", "*") + "\n")
    for sentence in conclusions(results) + observations(results):
        print(sentence.replace("**", "") + "\n")
    print(text_table(["target", "ratio", "", "measured"],
                     target_rows(judge(results))))
    disturbed = results.disturbed_cells()
    if disturbed:
        print(f"\n{len(disturbed)} of {len(results.cells)} cells had a run with "
              f"other load over {QUIET:.0%}, marked !: measure again when the "
              f"machine is quiet")


def measure(args):
    allow_descriptors()
    specs = selected(server_specs(args.bin_dir, args.dir, args.dir_stage,
                                  args.dir_design), args.only)
    for spec in specs:
        if spec.build and not spec.missing:
            spec.build()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    background = background_load()
    if background > QUIET:
        print(f"warning: other programs keep {background:.0%} of a CPU busy: "
              f"they will disturb the numbers (see 'other load' per cell)")
    for spec in (s for s in specs if s.missing):
        print(f"  {spec.name:18} {spec.missing}")
    results = Results([s.row() for s in specs], header(args, when, background))
    began = time.monotonic()
    measure_all(specs, args, results)
    results.header["took"] = time.monotonic() - began
    return results


def main():
    args = parse_args()
    results = Results.load(args.render) if args.render else measure(args)
    show(results)
    write(results, args.out)
    if args.strict and results.failures():
        print("bench: some cells failed or had errors:\n  " +
              "\n  ".join(results.failures()))
        sys.exit(1)


if __name__ == "__main__":
    main()
