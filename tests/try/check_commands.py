"""Checks that no command in the documentation finds a process by its name.

    check_commands.py

Run from the top folder by `make check-commands`, a step of make test. On
a shared machine `pgrep -x server` finds every user's process called
`server`, and `kill -SEGV $(pgrep -x server)` signals them all; a reader
takes the PID where the server is started instead (`./server $PORT &
pid=$!`). So in every Markdown file (outside build/ and hidden folders):

- `pgrep` and `pkill` may choose processes by their parent, user or
  group (`pkill -SEGV -o -P $pid`), never by a pattern, which matches
  names: an operand that is not an option or an option's value fails;
- `killall` and `pidof`, which take names only, fail wherever they are
  used as commands.

Prints each as FILE:LINE: the command, and exits 1 if there is one.
"""

import pathlib
import re
import shlex
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# The options of pgrep and pkill (procps) that take a value.
WITH_VALUE = {"-d", "-g", "-G", "-P", "-s", "-t", "-u", "-U", "-F", "-q",
              "--delimiter", "--pgroup", "--group", "--parent", "--session",
              "--terminal", "--euid", "--uid", "--pidfile", "--signal",
              "--queue", "--ns", "--nslist", "--env", "--cgroup"}
COMMAND = re.compile(r"(?<![\w/.-])(pgrep|pkill|killall|pidof)\b(?![.-])([^`;|&)\n]*)")


def by_name(tool, args):
    """Whether `tool args` chooses processes by name."""
    if tool in ("killall", "pidof"):
        return bool(args.strip())
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    takes_value = False
    for word in words:
        if takes_value:
            takes_value = False
        elif word in WITH_VALUE:
            takes_value = True
        elif word.startswith("-"):
            continue
        else:
            return True
    return False


def markdown_files():
    for path in sorted(ROOT.rglob("*.md")):
        parts = path.relative_to(ROOT).parts
        if parts[0] == "build" or any(p.startswith(".") for p in parts):
            continue
        yield path


def main():
    found = []
    for path in markdown_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in COMMAND.finditer(line):
                if by_name(match[1], match[2]):
                    found.append(f"{path.relative_to(ROOT)}:{number}: "
                                 f"`{(match[1] + match[2]).strip()}` finds processes "
                                 f"by name; use the PID the server was started "
                                 f"with (`./server $PORT & pid=$!`)")
    print("\n".join(found) if found else "no command finds a process by its name")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
