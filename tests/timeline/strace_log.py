"""Reads the log `strace -f -ttt -T -o FILE` writes: one system call a line.

Each line starts with the thread's id and the wall-clock time the line was
written, in seconds since 1970 (-ttt); a finished call ends with the time
it took (-T):

    24570 1795981260.832195 accept(3, {...sin_port=htons(52832)...}, [16]) = 4 <0.618204>

When another thread makes a call while this one waits, strace cuts the
waiting call in two, and the two halves may be far apart in the log:

    27107 1795981261.452783 read(5,  <unfinished ...>
    27106 1795981261.452800 write(4, "ping\\n", 5) = 5 <0.000056>
    27107 1795981261.653708 <... read resumed>"", 1024) = 0 <0.200453>

A signal and the end of a thread or process have lines of their own:

    28130 1795981262.935797 --- SIGCHLD {si_signo=SIGCHLD, ...} ---
    28134 1795981262.935680 +++ exited with 0 +++

parse() turns the lines into Call, Signal and Exit records, joining each
pair of halves into one Call, and passes over any other line; it knows
nothing of sockets or clients.

What the times mean (strace's src/syscall.c). strace is one process that
handles one stop of one thread at a time and writes the log in that order.
At a call's entry it reads the wall clock for the line's time, writes the
first half of the line out, and only then starts the clock -T reads; at
the return it stops that clock first, then writes. So:

- a line's time comes after the call was made, and before it ran;
- a call had returned by the time of the next line in the log (the
  resumed line for a call cut in two), as nothing else is written between
  a call's return and the end of its line;
- time + -T, the end a Call is drawn with, can come before the return:
  early by as long as strace took between writing the first half and
  starting the clock. That is microseconds on a quiet machine, and as long
  as a busy machine keeps strace from running there (a write to a full
  disk cache, a preemption). So nothing that must hold on a busy machine
  is decided by it: see Call.returned_by, Call.entry_line, Call.exit_line.
"""

import dataclasses
import re

LINE = re.compile(r"(?P<tid>\d+) +(?P<time>\d+\.\d+) (?P<rest>.*)")
# The end of a finished call: ") = RESULT <SECONDS>"; the last ") = " on
# the line, as a string argument may hold one too. Some calls (exit, a call
# cut short by the end of its process) have no time.
FINISHED = re.compile(r"(?P<args>.*)\)\s+= (?P<result>.+?)(?: <(?P<took>\d+\.\d+)>)?")
STARTED = re.compile(r"(?P<name>\w+)\((?P<args>.*)")
UNFINISHED = " <unfinished ...>"
RESUMED = re.compile(r"<\.\.\. (?P<name>\w+) resumed>(?P<rest>.*)")
SIGNAL = re.compile(r"--- (?P<name>SIG\w+) ")
SENDER = re.compile(r"si_pid=(?P<pid>\d+)")
EXIT = re.compile(r"\+\+\+ (?P<how>.*) \+\+\+")


@dataclasses.dataclass
class Call:
    """One system call: who made it, when it began and ended (seconds, on
    strace's wall clock), its arguments as strace printed them, and what it
    returned ("5", "-1 EAGAIN (...)", "?" when it never returned).

    returned_by is a time the call had surely returned by: the time of the
    first line strace wrote after the return. entry_line and exit_line are
    the numbers of the log lines that began and ended it (the same line for
    a call not cut in two): the order in which strace saw the calls made
    and return, which no load can change."""
    tid: int
    name: str
    args: str
    result: str
    start: float
    end: float
    returned_by: float = None
    entry_line: int = 0
    exit_line: int = 0

    def returned(self):
        """The return value as a number, or None (an error is -1)."""
        number = self.result.split(" ", 1)[0]
        try:
            return int(number, 0)
        except ValueError:
            return None


@dataclasses.dataclass
class Signal:
    tid: int      # the thread it was delivered to
    name: str
    time: float
    sender: int = None  # the PID that sent it (si_pid), if strace says


@dataclasses.dataclass
class Exit:
    tid: int
    how: str  # "exited with 0", "killed by SIGTERM"
    time: float


@dataclasses.dataclass
class Log:
    calls: list
    signals: list
    exits: list
    lines: int = 0  # how many lines of strace's log were read


def finish(tid, name, started, text, time, log):
    """Appends the Call whose text after the '(' is text, its last line
    written at time; started is (time, line number) of its first line, or
    None if the log began while it waited. Returns the Call."""
    done = FINISHED.fullmatch(text)
    took = float(done["took"]) if done and done["took"] else None
    began, entry_line = started or (time if took is None else time - took, log.lines)
    end = time if took is None else max(began + took, began)
    if done is None:  # "<... read resumed> <unfinished ...>) = ?" and kin
        args, result = text, "?"
    else:
        args, result = done["args"], done["result"].strip()
    call = Call(tid, name, args, result, began, end,
                entry_line=entry_line, exit_line=log.lines)
    log.calls.append(call)
    return call


def parse(lines):
    """The Log of these lines of `strace -f -ttt -T -o FILE`."""
    log = Log([], [], [])
    waiting = {}  # tid -> (name, (start, line), text so far) of its unfinished call
    unsure = []   # calls that had returned by the next line's time
    time = 0.0
    for line in lines:
        line = line.rstrip("\n")
        match = LINE.fullmatch(line)
        if match is None:  # not a line of strace's log: passed over
            continue
        tid, time, rest = int(match["tid"]), float(match["time"]), match["rest"]
        for call in unsure:
            call.returned_by = time
        unsure = []
        if (m := SIGNAL.match(rest)):
            sender = SENDER.search(rest)
            log.signals.append(Signal(tid, m["name"], time, sender and int(sender["pid"])))
        elif (m := EXIT.fullmatch(rest)):
            log.exits.append(Exit(tid, m["how"], time))
        elif (m := RESUMED.fullmatch(rest)):
            name, started, before = waiting.pop(tid, (m["name"], None, ""))
            call = finish(tid, name, started, before + m["rest"].lstrip(), time, log)
            call.returned_by = time
        elif (m := STARTED.match(rest)):
            if rest.endswith(UNFINISHED):
                waiting[tid] = (m["name"], (time, log.lines),
                                m["args"][:-len(UNFINISHED)])
            else:
                unsure.append(finish(tid, m["name"], (time, log.lines),
                                     m["args"], time, log))
        log.lines += 1
    for call in unsure:  # the last line: it returned before strace ended
        call.returned_by = call.end
    # A call still waiting when the log ends never returned: it lasts to
    # the last line.
    for tid, (name, (started, entry_line), text) in waiting.items():
        log.calls.append(Call(tid, name, text.rstrip(", "), "?", started, time,
                              time, entry_line, log.lines))
    log.calls.sort(key=lambda call: call.start)
    return log


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f)
