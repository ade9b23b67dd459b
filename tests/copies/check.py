"""Checks that the copies stay copies: each file of tests/copies/copies.txt
is identical in every stage of its range. Names the file and the stages
that differ, and exits 1, if one is not.

    check.py [TABLE]
"""

import collections
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from harness import ROOT, STAGES  # noqa: E402

TABLE = pathlib.Path(__file__).resolve().parent / "copies.txt"


def read_table(path):
    """[(file, [stage, ...]), ...]: each file and the present stages of its
    range, in order."""
    order = list(STAGES)
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, first, last = (words + [order[-1]])[:3]
        for stage in (first, last):
            if stage not in STAGES:
                raise SystemExit(f"{path}:{number}: no stage {stage!r}")
        stages = order[order.index(first):order.index(last) + 1]
        rows.append((name, [s for s in stages if (ROOT / s).is_dir()]))
    return rows


def versions(name, stages):
    """{the file's bytes (None if missing): [stages that have them]}."""
    found = collections.defaultdict(list)
    for stage in stages:
        path = ROOT / stage / name
        found[path.read_bytes() if path.is_file() else None].append(stage)
    return found


def main():
    table = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else TABLE
    drifted = 0
    for name, stages in read_table(table):
        found = versions(name, stages)
        if len(found) <= 1:
            continue
        drifted += 1
        print(f"copies: {name} differs between {stages[0]} and {stages[-1]}:")
        for number, (content, having) in enumerate(found.items(), 1):
            what = "no such file" if content is None else f"version {number}"
            print(f"  {what}: {' '.join(having)}")
    if drifted:
        print(f"copies: a fix to a copy goes into every stage of its range "
              f"({table.relative_to(ROOT)})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
