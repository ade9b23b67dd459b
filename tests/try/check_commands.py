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

And each chapter (v0.N-name/README.md) and README.md name the port
`$PORT`, set once (each chapter's "Run it" says how): a command, on a
prompt line of a code block (`$ ...`, `A $ ...`) or in `inline code`,
that gives `nc 127.0.0.1`, `./server`, a demo client in tests/clients/
or `sport = :` a port number fails (`./server 0`, a free port, is not
one).

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
PORT_NUMBER = re.compile(
    r"(nc(?: -N)? 127\.0\.0\.1|\./server|tests/clients/\w+\.py|sport = :) *[1-9]\d*\b(?!>)")
PROMPT = re.compile(r"^\s*(?:[A-Z] )?\$ ")
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


def commands_with_a_port(path):
    """(line number, command) for each command of the page that names a
    port number where it should say $PORT."""
    fenced = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        pieces = [line] if fenced and PROMPT.match(line) else \
            [] if fenced else re.findall(r"`([^`]+)`", line)
        for piece in pieces:
            if PORT_NUMBER.search(piece):
                yield number, piece.strip()


def main():
    found = []
    for path in sorted(ROOT.glob("v0.*/README.md")) + [ROOT / "README.md"]:
        for number, command in commands_with_a_port(path):
            found.append(f"{path.relative_to(ROOT)}:{number}: `{command}` names a "
                         f"port number; say $PORT (set once, as the chapter's "
                         f"Run it says)")
    for path in markdown_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in COMMAND.finditer(line):
                if by_name(match[1], match[2]):
                    found.append(f"{path.relative_to(ROOT)}:{number}: "
                                 f"`{(match[1] + match[2]).strip()}` finds processes "
                                 f"by name; use the PID the server was started "
                                 f"with (`./server $PORT & pid=$!`)")
    print("\n".join(found) if found else
          "no command finds a process by its name; the chapters' commands say $PORT")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
