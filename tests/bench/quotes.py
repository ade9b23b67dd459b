"""The tables each chapter's "What it costs" and docs/costs.md quote, kept
equal to the committed results.md's "What the chapters quote".

    PYTHONPATH=tests python3 -m bench.quotes          copies them in
    PYTHONPATH=tests python3 -m bench.quotes --check  says which differ

make bench-quotes runs the first after make bench-results (the text around
each table is checked by hand); bench-smoke, in make test, the second.
"""

import re
import sys

from harness import ROOT

RESULTS = ROOT / "tests" / "bench" / "results.md"
TABLE = re.compile(r"^\| server \| \(b\) CPU µs/req .*?(?=\n\n|\n*\Z)", re.M | re.S)


def quoted():
    """{file: its table} from results.md's "What the chapters quote"."""
    text = RESULTS.read_text().split("## What the chapters quote", 1)[1]
    text = text.split("\n## ", 1)[0]
    sections = re.findall(r"^### (\S+)\n\n(.*?)(?=\n\n|\n*\Z)", text, re.M | re.S)
    return dict(sections)


def differing(write=False):
    """The files whose table is not results.md's; with write, copy it in."""
    wrong = []
    for path, table in quoted().items():
        file = ROOT / path
        text = file.read_text()
        found = TABLE.findall(text)
        if len(found) != 1:
            wrong.append(f"{path}: {len(found)} tables of the bench, not 1")
        elif found[0] != table and write:
            file.write_text(text.replace(found[0], table))
            print(f"copied results.md's table into {path}")
        elif found[0] != table:
            wrong.append(f"{path}: its table is not results.md's")
    return wrong


def main():
    check = "--check" in sys.argv[1:]
    wrong = differing(write=not check)
    for line in wrong:
        print(line)
    if wrong:
        if check:
            print("make bench-quotes copies results.md's tables into the chapters")
        sys.exit(1)


if __name__ == "__main__":
    main()
