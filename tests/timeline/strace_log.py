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
EXIT = re.compile(r"\+\+\+ (?P<how>.*) \+\+\+")


@dataclasses.dataclass
class Call:
    """One system call: who made it, when it began and ended (seconds, on
    strace's wall clock), its arguments as strace printed them, and what it
    returned ("5", "-1 EAGAIN (...)", "?" when it never returned)."""
    tid: int
    name: str
    args: str
    result: str
    start: float
    end: float

    def returned(self):
        """The return value as a number, or None (an error is -1)."""
        number = self.result.split(" ", 1)[0]
        try:
            return int(number, 0)
        except ValueError:
            return None


@dataclasses.dataclass
class Signal:
    tid: int
    name: str
    time: float


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


def finish(tid, name, started, text, time, log):
    """Appends the Call whose text after the '(' is text, its last line
    written at time; started is when it began, or None if the log began
    while it waited."""
    done = FINISHED.fullmatch(text)
    took = float(done["took"]) if done and done["took"] else None
    if started is None:
        started = time if took is None else time - took
    end = time if took is None else started + took
    if done is None:  # "<... read resumed> <unfinished ...>) = ?" and kin
        args, result = text, "?"
    else:
        args, result = done["args"], done["result"].strip()
    log.calls.append(Call(tid, name, args, result, started, end))


def parse(lines):
    """The Log of these lines of `strace -f -ttt -T -o FILE`."""
    log = Log([], [], [])
    waiting = {}  # tid -> (name, start, text so far) of its unfinished call
    time = 0.0
    for line in lines:
        line = line.rstrip("\n")
        match = LINE.fullmatch(line)
        if match is None:  # not a line of strace's log: passed over
            continue
        tid, time, rest = int(match["tid"]), float(match["time"]), match["rest"]
        if (m := SIGNAL.match(rest)):
            log.signals.append(Signal(tid, m["name"], time))
        elif (m := EXIT.fullmatch(rest)):
            log.exits.append(Exit(tid, m["how"], time))
        elif (m := RESUMED.fullmatch(rest)):
            name, started, before = waiting.pop(tid, (m["name"], None, ""))
            finish(tid, name, started, before + m["rest"].lstrip(), time, log)
        elif (m := STARTED.match(rest)):
            if rest.endswith(UNFINISHED):
                waiting[tid] = (m["name"], time, m["args"][:-len(UNFINISHED)])
            else:
                finish(tid, m["name"], time, m["args"], time, log)
    # A call still waiting when the log ends never returned: it lasts to
    # the last line.
    for tid, (name, started, text) in waiting.items():
        log.calls.append(Call(tid, name, text.rstrip(", "), "?", started, time))
    log.calls.sort(key=lambda call: call.start)
    return log


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f)
