"""What make grade's engine shares with the modules of each kind of
exercise: the table of exercises (each with its folder in mine/ and its
points), how a grade ends (Result), how to grade (Run), what a proof finds
(Proven), the stages as they were handed out, the runner of tests/mutants/
(whose runs of pytest they share), what pytest's JUnit report says, and
how to stop every process a grade left behind.
"""

import dataclasses
import importlib.util
import io
import os
import pathlib
import signal
import subprocess
import sys
import tarfile
import threading
import uuid
import xml.etree.ElementTree as ElementTree

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOLUTIONS = HERE / "solutions"
MUTANTS = ROOT / "tests" / "mutants"
# A student's work: mine/N.M/ for exercise N.M (make start EX=N.M).
MINE = ROOT / "mine"
# The stage folders as handed out: make handout keeps them there, in a copy
# that has no git to ask.
PRISTINE = ROOT / "tests" / "classroom" / "stages.tar.gz"


# Points by the size an exercise announces; DEFAULT_POINTS for another.
POINTS = {"10 minutes": 5, "15 minutes": 5, "30 minutes": 10,
          "an hour": 15, "an afternoon": 25}
DEFAULT_POINTS = 10


class Exercise:
    """One row of exercises.txt: id | stage | size | kind | title. Its kind
    names the module that grades it (exercises.KINDS). Exercise N.M belongs
    to session N, the session of stage N."""

    def __init__(self, line):
        cells = [cell.strip() for cell in line.split("|", 4)]
        self.id, self.stage, self.size, self.kind, self.title = cells

    @property
    def folder(self):
        """Where the student does it: mine/N.M/. Not started while it does
        not exist."""
        return MINE / self.id

    @property
    def points(self):
        return POINTS.get(self.size, DEFAULT_POINTS)

    @property
    def session(self):
        return int(self.id.split(".")[0])

    @property
    def assignment(self):
        """The GitHub Classroom assignment it is graded in: its session's
        ("7"), or for extension work that session's extra one ("7-extra")."""
        return f"{self.session}-extra" if self.id in extensions() else str(self.session)


EXTENSION = "extension |"


def exercises():
    lines = (HERE / "exercises.txt").read_text().splitlines()
    return [Exercise(line) for line in lines
            if line.strip() and not line.startswith(("#", EXTENSION))]


def extensions():
    """The ids of the exercises that are extension work (exercises.txt's
    line "extension | N.M ...")."""
    lines = (HERE / "exercises.txt").read_text().splitlines()
    return {i for line in lines if line.startswith(EXTENSION)
            for i in line[len(EXTENSION):].split()}


@dataclasses.dataclass
class Result:
    """How a grade ended. step is where it stopped (a build, or the run
    of the tests on one); test is the first check that failed there."""
    status: str  # "passed", "failed" or "not started"
    step: str = ""
    test: str = ""
    errors: int = 0  # checks that failed in a fixture: a server died,
                     # a sanitizer spoke
    tests: int = 0
    seconds: float = 0.0

    def where(self):
        return " ".join(filter(None, [self.step, self.test]))


class Once:
    """Runs a function once per key, however many threads ask for it, and
    keeps its result: a folder is built once per kind of build."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = {}

    def __call__(self, key, function):
        with self.lock:
            entry = self.entries.setdefault(key, [threading.Lock(), None])
        with entry[0]:
            if entry[1] is None:
                entry[1] = (function(),)
            return entry[1][0]


@dataclasses.dataclass
class Run:
    """How to grade: where messages go, where builds go, what to skip."""
    out: object = sys.stdout
    work: pathlib.Path = None  # builds and reports go under it
    quick: bool = False        # a plain build, for a quick look
    stop_first: bool = False   # stop at the first failing check
    once: Once = dataclasses.field(default_factory=Once)

    def say(self, text):
        print(text, file=self.out, flush=True)


def load_mutant_runner():
    """tests/mutants/run.py, which builds a copy of a stage with a patch,
    runs pytest and reads a patch's header: the graders do the same."""
    spec = importlib.util.spec_from_file_location("mutant_runner",
                                                  MUTANTS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mutant_runner = load_mutant_runner()


def junit_cases(report):
    """[(test, how it ended, message)] from pytest's JUnit XML report, one
    a test: how it ended is "passed", "skipped", "failure", or "error" (in
    a fixture, or the file's own). [] if there is no report."""
    try:
        root = ElementTree.parse(report).getroot()
    except (OSError, ElementTree.ParseError):
        return []
    cases = []
    for case in root.iter("testcase"):
        end = next((c for c in case if c.tag in ("failure", "error", "skipped")),
                   None)
        cases.append((case.get("name", ""), "passed" if end is None else end.tag,
                      "" if end is None else (end.get("message") or "").strip()))
    return cases


def shown(path):
    """path relative to the top folder, if it is under it."""
    try:
        return str(pathlib.Path(path).relative_to(ROOT))
    except ValueError:
        return str(path)


# ------------------------------------------------- the stages as shipped


BUILT = {"server", "__pycache__"}  # what a build or a run leaves behind


def files_under(path):
    """{path relative to ROOT: its bytes} for every file under path (or
    path itself), but what a build leaves behind."""
    found = {}
    for entry in [path] if path.is_file() else sorted(path.rglob("*")):
        relative = entry.relative_to(ROOT)
        if entry.is_file() and not set(relative.parts) & BUILT and entry.suffix != ".o":
            found[str(relative)] = entry.read_bytes()
    return found


def shipped_files(path, archive):
    """files_under(path) as the archive of the stages holds them."""
    top = str(path.relative_to(ROOT))
    return {m.name: archive.extractfile(m).read() for m in archive.getmembers()
            if m.isfile() and (m.name == top or m.name.startswith(top + "/"))}


def shipped_stage(stage, into):
    """The stage as it was handed out: in a copy made by make handout,
    written from PRISTINE into into/STAGE, so that a student's changes for
    another exercise stay out of it; in this repository, its folder."""
    if not PRISTINE.is_file():
        return ROOT / stage
    with tarfile.open(PRISTINE) as archive:
        archive.extractall(into, members=[
            m for m in archive.getmembers()
            if m.name == stage or m.name.startswith(stage + "/")])
    return into / stage


def in_git():
    """True if ROOT is the top of a git checkout that has a commit."""
    try:
        top = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel",
                              "--verify", "-q", "HEAD"], capture_output=True, text=True)
    except OSError:  # no git
        return False
    lines = top.stdout.split()
    return top.returncode == 0 and bool(lines) and pathlib.Path(lines[0]) == ROOT


def as_handed_out(stage):
    """(an open tarfile that holds STAGE/ as it was handed out, where that
    comes from): tests/classroom/stages.tar.gz in a copy made by make
    handout, the last commit in a git checkout. (None, why not) if
    neither is there."""
    if PRISTINE.is_file():
        return tarfile.open(PRISTINE), str(PRISTINE.relative_to(ROOT))
    if in_git():
        made = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD", stage],
                              capture_output=True)
        if made.returncode == 0:
            return tarfile.open(fileobj=io.BytesIO(made.stdout)), "the last commit"
    return None, (f"there is neither {PRISTINE.relative_to(ROOT)} (a copy made "
                  f"by make handout has it) nor a git commit to take it from")


def write_as_handed_out(stage, archive, into):
    """Writes STAGE/ from the archive into into/, as into/STAGE/."""
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    archive.extractall(into, members=[
        m for m in archive.getmembers()
        if m.name == stage or m.name.startswith(stage + "/")], **safe)


# --------------------------------------------- what a grade leaves behind


# Every process a grade starts carries MARKER=token in its environment:
# one that leaves the grade's process group (setsid) can still be found.
# A grade within a grade adds its token to the one it was given.
MARKER = "SOCKET_SERVERS_GRADE"


def marked_environment(token):
    tokens = os.environ.get(MARKER, "").split()
    return dict(os.environ, **{MARKER: " ".join(tokens + [token])})


def marked_processes(token):
    """The PIDs of the processes whose environment has token in MARKER
    (read from /proc: on Linux; none elsewhere)."""
    proc = pathlib.Path("/proc")
    found = []
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours
            continue
        for variable in environment.split(b"\0"):
            name, _, value = variable.partition(b"=")
            if name == MARKER.encode() and token.encode() in value.split():
                found.append(int(entry.name))
    return found


def kill_marked(token, rounds=100):
    """Kills every process marked with token, again and again while any
    is left (one that forks keeps making more); returns how many it
    killed."""
    killed = set()
    for _ in range(rounds):
        found = [pid for pid in marked_processes(token) if pid != os.getpid()]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
    return len(killed)


def kill_group(pid):
    """SIGKILL to the process group pid leads, if any is left of it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # the group is gone
        pass


def run_whole(command, out, timeout, cwd):
    """Runs command in a session of its own, what it prints going to the
    file out, its processes marked with a token of their own. When it ends,
    or after timeout seconds, every process it started is killed, even one
    that left its session. Returns (its exit status, None if it ran out of
    time; how many processes were killed after it)."""
    token = uuid.uuid4().hex
    proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT,
                            env=marked_environment(token), start_new_session=True)
    try:
        status = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        status = None
    kill_group(proc.pid)
    proc.wait()
    return status, kill_marked(token)


# ---------------------------------------------------------------- proofs


@dataclasses.dataclass
class Proven:
    """One thing proven about a grader, or not: ok, a line that says what,
    and, if not ok, the output that shows why."""
    ok: bool
    what: str
    category: str  # what it proves of the grader: "shipped", "solution", "wrong"
    log: str = ""


@dataclasses.dataclass
class Proof:
    """What the jobs of a proof share: the build folder, the builds."""
    build: pathlib.Path
    once: Once = dataclasses.field(default_factory=Once)

    def run(self, log, stop_first):
        return Run(out=log, work=self.build, stop_first=stop_first, once=self.once)
