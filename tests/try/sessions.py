"""Plays the sessions a chapter prints, and checks the page against the run.

    sessions.py play --server PATH CHAPTER.md     (make try-N)
    sessions.py check --bin-dir build/gcc STAGE...  (make check-sessions)

The chapter is the source: every fenced block whose info string is
`session` is played, in the order of the page. What a client types is
taken from the page; what the server sends back, what it logs and what a
command prints come from the run, and `check` fails with FILE:LINE where
the page shows something else. Ports, PIDs and the clients' port numbers
are set aside (see normalise()).

A block is one of three kinds, told by its first line:

- `$ ./server $PORT` (or `$ ./server $PORT & pid=$!`, which also prints
  bash's `[1] PID`): starts a fresh server on a free port (port 0, read
  from its `listening on` line). The lines after it are everything the
  server prints until the run ends: the next server block, or the page's
  end, where it is stopped by PID with SIGTERM. A last line `...` says
  that the page shows only the first lines: more may follow.
- client columns: `A $ nc 127.0.0.1 $PORT` connects client A in the
  column it is written in, the left one (column 0) or the right one
  (column 31); later blocks keep the columns. Time runs down the page, and
  on one row the left column goes first. In a column, a line the client
  waits for a reply to is typed (sent with a newline), and the line after
  it is the reply. Notes in brackets, after three spaces or on a row of
  their own, say more: `(then Ctrl-D, no Enter)` sends the line without a
  newline and waits for nothing; `(then Enter)` is a plain line;
  `(Enter alone)` types an empty line; `(nothing comes back)` checks that
  no byte has come for that client whenever another client does something,
  until its own next line. `^C` closes the connection (and waits for the
  server's `client N: closed`, once the server has accepted it); `A $` or
  `$` alone says that `nc` exited: the server closed the connection.
  `B $ printf '...' | nc -N 127.0.0.1 $PORT` sends what the command before
  the `|` prints (run by sh), as it prints it, closes its sending side,
  and shows every line that comes until the server closes: a `sleep` in
  that command is the client's pause, and the session's only kind.
- commands: `$ COMMAND | nc -N 127.0.0.1 $PORT` is a client, as above,
  and the lines after it are all that came. `$ COMMAND` runs COMMAND with
  sh, with PORT and pid (the server's PID) in its environment, and the
  lines after it, up to the next `$`, are what it prints. After a command
  that sends a signal (`kill`, `pkill`), the run waits until a process of
  the server's has ended and been reaped.

Every wait is for an event (a reply, a close, a log line, a process that
ends), bounded by TIMEOUT. A client still connected when its server's run
ends is closed then, in the order the clients came.
"""

import argparse
import dataclasses
import os
import pathlib
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from harness import START_TIMEOUT, read_first_line  # noqa: E402

TIMEOUT = 15.0
RIGHT = 31  # the column where the right-hand client's lines start
PROMPT = re.compile(r"^(?:([A-Z]) )?\$(?: (.*))?$")
PIPED_NC = re.compile(r"^(.*)\|\s*nc -N 127\.0\.0\.1 \$PORT$")
NC = "nc 127.0.0.1 $PORT"
NOTES = ("then Ctrl-D, no Enter", "then Enter", "Enter alone",
         "nothing comes back")


class PageError(Exception):
    """A session the player cannot read: FILE:LINE and why."""


@dataclasses.dataclass
class Item:
    """One thing on the page: a client's line, a note, a prompt, an
    output line. `actual` is what the run made of it, in the page's form."""
    line: int          # 1-based, in the chapter
    column: int        # 0 or RIGHT for a client's; 0 elsewhere
    text: str
    note: str = ""
    actual: str = None
    answers: "Item" = None  # for a reply: the line it answers

    def shown(self):
        return f"{self.text}   ({self.note})" if self.note and self.text else \
            f"({self.note})" if self.note else self.text


@dataclasses.dataclass
class Block:
    kind: str          # "server", "clients" or "commands"
    start: int         # the line of the opening fence
    rows: list         # of lists of Items, one list per line of the block
    lines: list        # the block's lines as the page has them
    extra: list = dataclasses.field(default_factory=list)  # what the run added
    more: list = dataclasses.field(default_factory=list)   # printed after a "..."


# ------------------------------------------------------------------ reading

def session_blocks(path):
    """The page's ```session blocks, each as (line of its fence, its lines)."""
    blocks, current = [], None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if current is None:
            if line.strip() == "```session":
                current = (number, [])
        elif line.strip() == "```":
            blocks.append(current)
            current = None
        else:
            current[1].append(line)
    if current is not None:
        raise PageError(f"{path}:{current[0]}: a session block that never ends")
    return blocks


def segments(line):
    """The pieces of a line that three or more spaces separate, each with
    its column: "hello   (then Enter)" is two."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+(?: {1,2}\S+)*", line)]


def client_items(line, number):
    """The Items of one row of client columns."""
    items = []
    for column, text in segments(line):
        column = 0 if column < RIGHT else RIGHT
        note = re.fullmatch(r"\((.*)\)", text)
        if note and items and items[-1].column == column and not items[-1].note:
            items[-1].note = note[1]
        elif note:
            items.append(Item(number, column, "", note[1]))
        else:
            items.append(Item(number, column, text))
    for item in items:
        if item.note and item.note not in NOTES:
            raise PageError(f"{number}: a note the player does not know: "
                            f"({item.note}); it knows {NOTES}")
    return items


def read_block(start, lines):
    first = lines[0].strip() if lines else ""
    numbered = list(enumerate(lines, start + 1))
    if first.startswith("$ ./server"):
        return Block("server", start, [[Item(n, 0, l.rstrip())] for n, l in numbered], lines)
    if first.startswith("$ "):
        return Block("commands", start, [[Item(n, 0, l.rstrip())] for n, l in numbered], lines)
    return Block("clients", start, [client_items(l, n) for n, l in numbered], lines)


def read_chapter(path):
    blocks = []
    for start, lines in session_blocks(path):
        try:
            blocks.append(read_block(start, lines))
        except PageError as e:
            raise PageError(f"{path}:{e}") from None
    if blocks and blocks[0].kind != "server":
        raise PageError(f"{path}:{blocks[0].start}: the first session block "
                        f"must start the server ($ ./server $PORT)")
    return blocks


# ------------------------------------------------------------------ the server

class Server:
    """The stage's binary on port 0, in a process group of its own (as a
    job that bash runs in the background), its log read as it comes."""

    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, process_group=0,
            env={k: v for k, v in os.environ.items()
                 if k not in ("IDLE_TIMEOUT", "CRASH_AT")})
        first = read_first_line(self.proc.stdout, START_TIMEOUT).decode(errors="replace")
        match = re.fullmatch(r"listening on .*:(\d+)\n", first)
        if not match:
            self.proc.kill()
            raise AssertionError(f"{binary}: expected 'listening on ADDRESS:PORT', "
                                 f"got {first!r}")
        self.port = int(match[1])
        self.lines = [first.rstrip("\n")]
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self.read_log, daemon=True)
        self.reader.start()

    @property
    def pid(self):
        return self.proc.pid

    def read_log(self):
        for raw in self.proc.stderr:
            with self.changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern, after=0):
        """Waits for a log line after the first `after` that matches."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: any(re.fullmatch(pattern, l) for l in self.lines[after:]),
                TIMEOUT)
        if not found:
            raise AssertionError(f"no log line {pattern!r} within {TIMEOUT} s")

    def number_of(self, client_port):
        """The number the server's log gives the client that connected from
        client_port, and the place of that line in the log; None while the
        server has not accepted it."""
        with self.changed:
            for i, l in enumerate(self.lines):
                m = re.fullmatch(rf"client (\d+): connected from [^ ]*:{client_port}", l)
                if m:
                    return m[1], i
        return None

    def processes(self):
        """The server's PID and its children's, while they are not reaped."""
        try:
            children = pathlib.Path(f"/proc/{self.pid}/task/{self.pid}/children")
            return {self.pid, *map(int, children.read_text().split())}
        except OSError:
            return set()

    def stop(self):
        """SIGTERM to the server's PID; then its log must end: a process
        of its group that outlives it and holds the log (a child left
        behind) is killed, by the group's ID, and the run fails."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(TIMEOUT)
        left = self.reader.is_alive()
        if left:
            os.killpg(self.pid, signal.SIGKILL)
            self.reader.join(TIMEOUT)
        self.proc.stdout.close()
        self.proc.stderr.close()
        if left:
            raise AssertionError(f"the server's log was still open {TIMEOUT} s "
                                 f"after it stopped: a process it left behind "
                                 f"held it (killed)")


# ------------------------------------------------------------------ clients

class Client:
    """One client: nc, typed into, or `COMMAND | nc -N` (piped)."""

    def __init__(self, name, port, piped=None):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.pending = b""
        self.waiting = None   # the Item of a line sent, its reply not yet shown
        self.quiet = None     # the "(nothing comes back)" Item it answers to
        self.closed = False
        self.piped = piped is not None
        self.output = None
        if self.piped:
            self.send_output_of(piped)
            self.sock.shutdown(socket.SHUT_WR)

    def send(self, data):
        """Sends data; to a connection the server has reset, sends nothing,
        as nc's write fails and it exits (the next read sees the close)."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_output_of(self, command):
        """What `command | nc -N` sends: the command's output, as it comes
        (a `sleep` in it is a pause between two sends, as with nc)."""
        with subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE) as sh:
            for chunk in iter(lambda: os.read(sh.stdout.fileno(), 1 << 16), b""):
                self.sock.sendall(chunk)
            if sh.wait(TIMEOUT) != 0:
                raise AssertionError(f"{command!r} exited with status {sh.returncode}")

    def receive(self):
        """More bytes, b"" once the server closed (or reset) the connection."""
        try:
            return self.sock.recv(1 << 16)
        except ConnectionResetError:
            return b""
        except socket.timeout:
            raise AssertionError(f"client {self.name}: nothing came within "
                                 f"{TIMEOUT} s") from None

    def line(self):
        """The next line from the server, or None when it closed first."""
        while b"\n" not in self.pending:
            chunk = self.receive()
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def wait_closed(self):
        """What came before the server closed the connection."""
        while True:
            chunk = self.receive()
            if not chunk:
                self.closed = True
                rest, self.pending = self.pending, b""
                return rest
            self.pending += chunk

    def has_input(self):
        if self.pending:
            return True
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self):
        self.closed = True
        self.sock.close()


# ------------------------------------------------------------------ playing

class Run:
    """One server's run: the blocks from a server block to the next."""

    def __init__(self, binary, path):
        self.binary = binary
        self.path = path
        self.server = None
        self.clients = {}    # name -> Client, in the order they came
        self.columns = {0: "A", RIGHT: "B"}

    def where(self, item):
        return f"{self.path}:{item.line}"

    def start(self, block):
        command = block.rows[0][0]
        if command.text.strip() not in ("$ ./server $PORT", "$ ./server $PORT & pid=$!"):
            raise PageError(f"{self.where(command)}: a server block starts with "
                            f"`$ ./server $PORT` or `$ ./server $PORT & pid=$!`")
        self.server = Server(self.binary)
        self.server_block = block

    def finish(self):
        """Closes the clients still connected, stops the server and fills
        the server block with what it printed."""
        for client in list(self.clients.values()):
            if not client.closed:
                try:
                    self.hang_up(client)
                except AssertionError as e:
                    raise AssertionError(f"{self.where(self.server_block.rows[0][0])}: "
                                         f"at the end of the run, client {client.name}: "
                                         f"{e}") from None
        self.server.stop()
        block = self.server_block
        command = block.rows[0][0]
        command.actual = command.text
        printed = list(self.server.lines)
        if command.text.rstrip().endswith("& pid=$!"):
            printed.insert(0, f"[1] {self.server.pid}")
        rows = block.rows[1:]
        if rows and rows[-1][0].text == "...":  # the page shows the first lines
            rows[-1][0].actual = "..."
            rows = rows[:-1]
            printed, block.more = printed[:len(rows)], printed[len(rows):]
        fill(block, rows, printed)

    def hang_up(self, client):
        """^C in nc: the connection closes; once the server has accepted it,
        the run waits for its `closed` line."""
        accepted = self.server.number_of(client.port)
        client.close()
        if accepted is not None:
            self.server.wait_for(rf"client {accepted[0]}: closed", accepted[1])

    def check_quiet(self, now):
        """A client the page says got nothing must still have nothing
        whenever another client acts."""
        for client in self.clients.values():
            if client.quiet and client is not now and not client.closed \
                    and client.has_input():
                shown = client.pending.decode(errors="replace") or "something"
                client.quiet.actual = f"(came back: {shown.strip()})"
                client.quiet = None

    def client_item(self, item):
        name = self.columns[item.column]
        prompt = PROMPT.match(item.text)
        if prompt and prompt[1]:
            name = prompt[1]
            self.columns[item.column] = name
        client = self.clients.get(name)
        self.check_quiet(client)
        if client is not None and client.quiet is not None and item.note != "nothing comes back":
            client.quiet = None
        if prompt:
            self.prompt(item, name, prompt[2] or "")
            return
        if client is None:
            raise PageError(f"{self.where(item)}: client {name} has not connected")
        if item.note == "nothing comes back" and not item.text:
            client.quiet = item
            item.actual = item.shown()
            return
        if client.piped:
            self.piped_line(item, client)
        elif item.text == "^C":
            self.hang_up(client)
            item.actual = "^C"
        elif client.waiting:
            reply = client.line()
            item.answers, client.waiting = client.waiting, None
            item.actual = "(the server closed the connection)" if reply is None else reply
        else:
            self.type_line(item, client)

    def type_line(self, item, client):
        if item.text.startswith(("^", "(")):
            raise PageError(f"{self.where(item)}: {item.text!r} is neither a line to "
                            f"type nor ^C nor a note the player knows {NOTES}")
        text = "" if item.note == "Enter alone" else item.text
        no_enter = item.note == "then Ctrl-D, no Enter"
        client.send(text.encode() + (b"" if no_enter else b"\n"))
        client.waiting = None if no_enter else item
        item.actual = item.shown()

    def all_that_came(self, client):
        """A piped client's lines, once the server closed the connection
        and logged it."""
        text = client.wait_closed().decode(errors="replace")
        accepted = self.server.number_of(client.port)
        if accepted is not None:
            self.server.wait_for(rf"client {accepted[0]}: closed", accepted[1])
        return [l.rstrip("\r") for l in text.splitlines()]

    def piped_line(self, item, client):
        if client.output is None:
            client.output = self.all_that_came(client)
        item.actual = client.output.pop(0) if client.output else "(nothing more came)"

    def prompt(self, item, name, command):
        client = self.clients.get(name)
        label = f"{name} $" if PROMPT.match(item.text)[1] else "$"
        if command == "":
            if client is None:
                raise PageError(f"{self.where(item)}: client {name} has not connected")
            rest = b"" if client.closed else client.wait_closed()
            item.actual = label if not rest else \
                f"{rest.decode(errors='replace').strip()} (then {label})"
            return
        if client is not None and not client.closed:
            raise PageError(f"{self.where(item)}: client {name} connects again "
                            f"while still connected")
        piped = PIPED_NC.match(command)
        if command == NC:
            self.clients[name] = Client(name, self.server.port)
        elif piped:
            self.clients[name] = Client(name, self.server.port, piped[1])
        else:
            raise PageError(f"{self.where(item)}: a client's command must be "
                            f"`{NC}` or `COMMAND | nc -N 127.0.0.1 $PORT`")
        item.actual = item.text

    def command(self, item, output_rows, block):
        command = item.text[2:]
        item.actual = item.text
        piped = PIPED_NC.match(command)
        self.check_quiet(None)
        if piped:  # a client, as in a client's column
            client = Client("$", self.server.port, piped[1])
            fill(block, output_rows, self.all_that_came(client))
            return
        env = dict(os.environ, PORT=str(self.server.port), pid=str(self.server.pid))
        before = self.server.processes()
        done = subprocess.run(["sh", "-c", command], capture_output=True, env=env,
                              cwd=pathlib.Path(self.binary).parent, timeout=TIMEOUT)
        if re.match(r"(kill|pkill)\b", command):
            self.wait_for_an_end(before)
        printed = (done.stdout + done.stderr).decode(errors="replace").splitlines()
        fill(block, output_rows, printed)

    def wait_for_an_end(self, before):
        """After a signal: one of the server's processes has ended and been
        reaped (or the server itself has ended)."""
        deadline = time.monotonic() + TIMEOUT
        while before <= self.server.processes() and self.server.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no process of the server ended within {TIMEOUT} s")
            time.sleep(0.01)

    def play(self, block):
        if block.kind == "clients":
            for row in block.rows:
                for item in row:
                    try:
                        self.client_item(item)
                    except AssertionError as e:
                        raise AssertionError(f"{self.where(item)}: {e}") from None
        elif block.kind == "commands":
            rows = block.rows
            starts = [i for i, r in enumerate(rows) if r[0].text.startswith("$ ")]
            for i, start in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else len(rows)
                try:
                    self.command(rows[start][0], rows[start + 1:end], block)
                except AssertionError as e:
                    raise AssertionError(f"{self.where(rows[start][0])}: {e}") from None


def fill(block, rows, printed):
    """Gives each output row of the page the line the run printed in its
    place; lines the page does not show go to block.extra."""
    for row, line in zip(rows, printed):
        row[0].actual = line
    for row in rows[len(printed):]:
        row[0].actual = "(not printed)"
    block.extra += [(rows[-1][0].line if rows else block.start, l)
                    for l in printed[len(rows):]]


def play_chapter(path, binary, runs=None):
    """Plays every session block of the chapter; returns the blocks, each
    Item with what the run made of it (and adds each Run to runs)."""
    blocks = read_chapter(path)
    runs = [] if runs is None else runs
    run = None
    try:
        for block in blocks:
            if block.kind == "server":
                if run is not None:
                    run.finish()
                run = Run(binary, path)
                runs.append(run)
                run.start(block)
            else:
                run.play(block)
        if run is not None:
            run.finish()
            run = None
    finally:
        if run is not None and run.server is not None:
            run.server.stop()
    return blocks


# ------------------------------------------------------------------ showing

def render_row(row, use_actual=True):
    """One row of a block as text, the left column's item first."""
    line = ""
    for item in row:
        text = item.actual if use_actual and item.actual is not None else item.shown()
        if item.column == RIGHT and line:
            line = line.ljust(RIGHT - 1) + " " if len(line) < RIGHT - 1 else line + "   "
        elif item.column == RIGHT:
            line = " " * RIGHT
        elif line:
            line += "   "
        line += text
    return line


def same(block, item):
    shown = item.shown() if block.kind == "clients" else item.text
    return item.actual is None or normalise(shown) == normalise(item.actual)


def render(block):
    """The block as the run made it: the page's own line where the run
    agrees with it (with the run's numbers in a server's or a command's)."""
    lines = []
    for row, raw in zip(block.rows, block.lines):
        if block.kind == "clients" and all(same(block, i) for i in row):
            lines.append(raw)
        else:
            lines.append(render_row(row))
    for after, text in block.extra:
        lines.append(text)
    if block.more:  # in place of the page's "...": what it leaves out
        lines[-1:] = block.more
    return lines


def normalise(text, numbers=None):
    """What the check compares: ports (any number after an address and a
    colon) and the PID of bash's `[1] PID` set aside, spaces collapsed; in
    a command's output, every other number is named by its first
    appearance (the first PID is #1 on both sides), so that which process
    is whose parent still counts."""
    text = re.sub(r"((?:\d+\.){3}\d+|::1):\d+", r"\1:PORT", text)
    text = re.sub(r"^\[1\] \d+$", "[1] PID", text.strip())  # bash's, for a job
    text = " ".join(text.split())
    if numbers is not None:
        text = re.sub(r"\b\d+\b",
                      lambda m: "#" + str(numbers.setdefault(m.group(), len(numbers) + 1)),
                      text)
    return text


def differences(path, blocks):
    """FILE:LINE: what the page shows, and what the run gave, for every
    line where the two differ."""
    found = []
    for block in blocks:
        page_numbers, run_numbers = ({}, {}) if block.kind == "commands" else (None, None)
        for row in block.rows:
            for item in row:
                if item.actual is None:
                    continue
                if block.kind == "server" and row is block.rows[0]:
                    continue
                shown = item.shown() if block.kind == "clients" else item.text
                if normalise(shown, page_numbers) != normalise(item.actual, run_numbers):
                    to = f" (the reply to line {item.answers.line}, " \
                         f"{item.answers.shown()!r})" if item.answers else ""
                    found.append(f"{path}:{item.line}: the page shows {shown.strip()!r}, "
                                 f"the run gave {item.actual.strip()!r}{to}")
        for line, text in block.extra:
            found.append(f"{path}:{line}: the run printed one more line here, "
                         f"{text.strip()!r}")
    return found


# ------------------------------------------------------------------ commands

def show(path, blocks):
    for block in blocks:
        print("\n".join(render(block)))
        print()


def play(args):
    """make try-N: plays the chapter, shows it, says where it differs."""
    path = pathlib.Path(args.chapter)
    runs = []
    blocks = play_chapter(path, os.path.abspath(args.server), runs)
    if not blocks:
        print(f"{path}: no session block to play")
        return 0
    servers = ", ".join(f"port {r.server.port} (pid {r.server.pid})" for r in runs)
    print(f"== {path}, Try it: {args.server} played on {servers}, "
          f"stopped by its PID; $PORT below is that port\n")
    show(path, blocks)
    problems = differences(path, blocks)
    if problems:
        print("Where this run differs from the chapter:")
        print("\n".join(problems))
    else:
        print("The chapter shows what this run did (ports and PIDs aside).")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("play", help="play one chapter's sessions and show them")
    one.add_argument("--server", required=True)
    one.add_argument("chapter")
    every = sub.add_parser("check", help="play every chapter's sessions and compare")
    every.add_argument("--bin-dir", required=True)
    every.add_argument("stages", nargs="+")
    args = parser.parse_args()

    try:
        if args.what == "play":
            try:
                return play(args)
            except AssertionError as e:
                print(f"the run stopped: {e}", file=sys.stderr)
                return 1
        failed = 0
        for stage in args.stages:
            path = pathlib.Path(stage) / "README.md"
            try:
                blocks = play_chapter(path, os.path.abspath(
                    pathlib.Path(args.bin_dir) / stage / "server"))
                problems = differences(path, blocks)
            except AssertionError as e:
                blocks, problems = [], [f"the run stopped: {e}"]
            items = sum(len(r) for b in blocks for r in b.rows)
            if problems:
                failed += 1
                print(f"{path}: the page and its run differ:")
                print("\n".join("  " + p for p in problems))
            elif blocks:
                print(f"{path}: {len(blocks)} session blocks, {items} lines, as played")
            else:
                print(f"{path}: no session block")
        return 1 if failed else 0
    except PageError as e:
        print(e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
