"""What make grade's engine shares with the modules of each kind of
exercise: the table of exercises, how a grade ends (Result), how to grade
(Run), what a proof finds (Proven), whether a student has started, the
runner of tests/mutants/ (whose runs of pytest they share), and what
pytest's JUnit report says.
"""

import dataclasses
import importlib.util
import pathlib
import subprocess
import sys
import tarfile
import threading
import xml.etree.ElementTree as ElementTree

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOLUTIONS = HERE / "solutions"
MUTANTS = ROOT / "tests" / "mutants"
# The stage folders as handed out: make handout keeps them there, in a copy
# that has no git to ask.
PRISTINE = ROOT / "tests" / "classroom" / "stages.tar.gz"


class Exercise:
    """One row of exercises.txt: id | stage | size | kind | title. Its kind
    names the module that grades it (exercises.KINDS)."""

    def __init__(self, line):
        cells = [cell.strip() for cell in line.split("|", 4)]
        self.id, self.stage, self.size, self.kind, self.title = cells


def exercises():
    lines = (HERE / "exercises.txt").read_text().splitlines()
    return [Exercise(line) for line in lines
            if line.strip() and not line.startswith("#")]


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


# ---------------------------------------------------------- not started


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


def as_shipped(paths):
    """True if every path is as it was handed out (a file that was not
    handed out: absent), False if not, None if that cannot be told. A copy
    made by make handout has the stages as shipped in PRISTINE; a git
    checkout has git."""
    if PRISTINE.is_file():
        with tarfile.open(PRISTINE) as archive:
            return all(files_under(p) == shipped_files(p, archive) for p in paths)
    try:
        top = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True)
        if top.returncode != 0 or pathlib.Path(top.stdout.strip()) != ROOT:
            return None
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain",
             "--untracked-files=all", "--", *map(str, paths)],
            capture_output=True, text=True)
    except OSError:  # no git
        return None
    return status.stdout == "" if status.returncode == 0 else None


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
