"""Checks that check-sessions fails where a page says what its stage does not.

    check_teeth.py --bin-dir build/gcc --out build/try

Run by `make check-sessions` after the chapters pass. It copies one
chapter (v0.6-post's) into --out with one line changed at a time, a reply,
a line of the server's log, a typed line the stage answers otherwise, and
a line of `ps`'s output in v0.8-fork's (the child killed shown alive),
plays each copy, and fails unless the check names that line (for a typed
line, the reply it gets).
"""

import argparse
import pathlib
import sys

import sessions

# (stage, the line as the page has it, the line changed, the offset from
# it of the line the check must name)
CHANGES = [
    ("v0.6-post", "                               no key match\n",
     "                               no match\n", 0),
    ("v0.6-post", "client 5: connected from 127.0.0.1:55926\n",
     "client 6: connected from 127.0.0.1:55926\n", 0),
    ("v0.6-post", "GET/task_01/status\n", "GET/task_02/status\n", 1),
    ("v0.8-fork", "10619 10616 S server\n", "10618 10616 S server\n", 0),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    failed = 0
    for stage, line, changed, offset in CHANGES:
        text = (pathlib.Path(stage) / "README.md").read_text()
        lines = text.splitlines(keepends=True)
        if line not in lines:
            print(f"{stage}/README.md has no line {line!r} to change: "
                  f"update tests/try/check_teeth.py")
            return 1
        number = len(lines) - lines[::-1].index(line)  # its last place
        lines[number - 1] = changed
        copy = out / stage / "README.md"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text("".join(lines))
        binary = str((pathlib.Path(args.bin_dir) / stage / "server").resolve())
        try:
            found = sessions.differences(copy, sessions.play_chapter(copy, binary))
        except AssertionError as e:
            found = [str(e)]
        want = f"{copy}:{number + offset}:"
        if any(f.startswith(want) for f in found):
            print(f"{stage}:{number}: {changed.strip()!r} fails, at line {number + offset}")
        else:
            failed += 1
            print(f"{stage}:{number}: {changed.strip()!r} was not caught at line "
                  f"{number + offset}; the check said: {found or 'nothing'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
