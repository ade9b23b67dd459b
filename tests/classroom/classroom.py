"""The course's side of the repository: the copy for students, its GitHub
workflows, putting a stage back, and the check a student's repository runs.

    classroom.py handout OUT NAME [--worktree]
                            writes OUT/NAME/ (and OUT/NAME.tar.gz), the copy
                            for students, and OUT/NAME-session-N/ for each
                            session N, a GitHub Classroom template whose
                            autograding grades that session's exercises;
                            from the last commit, or with --worktree from
                            the files git tracks as they are on disk
    classroom.py workflows DIR
                            writes every workflow the handouts carry into
                            DIR, to read or to validate
    classroom.py check DIR  fails unless every command the workflows (this
                            repository's and those in DIR) run is one
                            README.md or TEACHING.md gives the reader
    classroom.py restore STAGE BUILD
                            puts STAGE back as handed out, after saving it
                            in BUILD/saved/ (nothing, if it is as handed out)
    classroom.py check-work BUILD
                            what a student's repository must pass, whatever
                            exercise is done: the stages as handed out, and
                            built; every exercise in mine/ built (a server)
                            or compiled (a test)

The autograding workflows are made from tests/exercises/exercises.txt, one
per session (the exercises N.M of session N), so a new row needs no edit
here. They follow the layout GitHub Classroom gives the workflow it writes
itself (the classroom-resources actions): the reporter finds the score by
the workflow's name and its job's. The check workflow runs after the
autograding (on workflow_run), because the reporter takes the first
workflow to finish for the autograding's.
"""

import datetime
import gzip
import io
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exercises"))
import answers  # noqa: E402
import engine  # noqa: E402
from engine import exercises, shown  # noqa: E402

WORKFLOWS = ROOT / ".github" / "workflows"
DOCS = [ROOT / "README.md", ROOT / "TEACHING.md"]
STAGES = sorted(p.name for p in ROOT.glob("v0.*") if (p / "Makefile").is_file())
# Left out of the copy for students: the answers, the teachers' notes and
# this repository's own CI (make test, which grading a changed stage
# would fail).
LEFT_OUT = ["tests/exercises/solutions", "teachers", ".ci", ".github"]
TIMEOUT_MINUTES = 10  # a grader's own waits are bounded well below this


def sessions():
    """{assignment: [its exercises]}, in order: one a session, and one for
    a session's extension work ("7-extra")."""
    found = {}
    for e in exercises():
        found.setdefault(e.assignment, []).append(e)
    return found


# ---------------------------------------------------------------- workflows


AUTOGRADING = """\
# GitHub Classroom's autograding for session {session} ({stage}): one step
# per exercise, each running `make grade EX=N.M` and worth its points, then
# the step that reports the score ({total} points) to the classroom. Made by
# `make handout` from tests/exercises/exercises.txt. Its names are the ones
# GitHub Classroom gives the workflow it writes: the reporting step looks
# for them.
name: Autograding Tests
"on":
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
"""

CHECK = """\
# What a student's repository must pass, whatever exercise is done: the
# stages are as handed out and build, and every exercise started in mine/
# builds (a server) or compiles (a test). The grades are the
# autograding's{after}. Made by `make handout`.
name: Check
"on":
{on}
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{{{ github.event.workflow_run.head_sha || github.sha }}}}
      - run: make check-work
"""

ON_PUSH = """\
  push:
  pull_request:
  workflow_dispatch:"""

# GitHub Classroom's reporter takes the first workflow to finish for the
# autograding's: with one, this one runs after it.
AFTER_AUTOGRADING = """\
  workflow_run:
    workflows: [Autograding Tests]
    types: [completed]
  workflow_dispatch:"""


def step_id(exercise):
    """The workflow's id for the exercise's step: exercise-6-1 for 6.1."""
    return "exercise-" + exercise.id.replace(".", "-")


def autograding(session):
    """The autograding workflow of a session."""
    todo = sessions()[session]
    out = [AUTOGRADING.format(session=session, stage=todo[0].stage,
                              total=sum(e.points for e in todo))]
    for e in todo:
        out.append(f"""\
      - name: exercise {e.id} ({e.stage})
        id: {step_id(e)}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: exercise {e.id}
          command: make grade EX={e.id}
          timeout: {TIMEOUT_MINUTES}
          max-score: {e.points}
""")
    out.append("""\
      - name: Report the score
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
""")
    for e in todo:
        results = f"${{{{ steps.{step_id(e)}.outputs.result }}}}"
        out.append(f'          {step_id(e).upper()}_RESULTS: "{results}"\n')
    out.append(f"""\
        with:
          runners: {",".join(step_id(e) for e in todo)}
""")
    return "".join(out)


def check_workflow(after_autograding):
    if after_autograding:
        return CHECK.format(on=AFTER_AUTOGRADING, after=", in the workflow before it")
    return CHECK.format(on=ON_PUSH, after="")


def all_workflows():
    """{file name: text} for every workflow a handout may carry."""
    made = {f"session-{n}.yml": autograding(n) for n in sessions()}
    made["check-on-push.yml"] = check_workflow(False)
    made["check-after-autograding.yml"] = check_workflow(True)
    return made


def write_workflows(folder):
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yml"):
        old.unlink()
    for name, text in all_workflows().items():
        (folder / name).write_text(text)
    print(f"classroom: {len(all_workflows())} workflows in {folder}: "
          f"{', '.join(all_workflows())}")
    return 0


def commands_run(text):
    """The shell commands a workflow runs: its `run:` and `command:` values
    (one line each: these workflows keep them so)."""
    return [m[1].strip().strip("'\"") for m in
            re.finditer(r"^\s*-?\s*(?:run|command):\s*(.+)$", text, re.M)]


def same_exercise(text):
    """The text with every exercise id in a `make grade EX=` made N.M: the
    README shows the command with one id, the workflow runs it with each."""
    return re.sub(r"EX=\d+\.\d+", "EX=N.M", text)


def check(folder):
    """Every command the workflows run is one the documents give."""
    problems = []
    # A command the documents wrap over two lines is given all the same.
    docs = " ".join(same_exercise("\n".join(d.read_text() for d in DOCS
                                             if d.is_file())).split())
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(pathlib.Path(folder).glob("*.yml"))
    for path in files:
        for command in commands_run(path.read_text()):
            if " ".join(same_exercise(command).split()) not in docs:
                problems.append(f"{shown(path)} runs `{command}`, which "
                                f"neither README.md nor TEACHING.md gives")
    for problem in problems:
        print(f"classroom: {problem}")
    if problems:
        return 1
    print(f"classroom: the {len(files)} workflows run only commands the README "
          f"and TEACHING.md give; one autograding workflow for each of the "
          f"{len(sessions())} assignments (a session's, or its extension "
          f"work's), made from the {len(exercises())} rows "
          f"of tests/exercises/exercises.txt")
    return 0


# ---------------------------------------------------------------- handout


def git(*args, **kwargs):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True,
                          capture_output=True, **kwargs).stdout


def tracked_files(worktree):
    """[(path, mode, bytes)] of the files of the last commit or, with
    worktree, of the files git tracks as they are on disk."""
    if not worktree:
        with tarfile.open(fileobj=io.BytesIO(git("archive", "HEAD"))) as archive:
            return [(m.name, m.mode, archive.extractfile(m).read())
                    for m in archive.getmembers() if m.isfile()]
    files = []
    for line in git("ls-files", "-s", "-z").split(b"\0"):
        if not line:
            continue
        info, name = line.decode().split("\t", 1)
        path = ROOT / name
        if path.is_file():  # not deleted meanwhile
            files.append((name, 0o755 if info.startswith("100755") else 0o644,
                          path.read_bytes()))
    return files


def write_tree(files, folder):
    for name, mode, data in files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)


def archive_of(files, path):
    """A .tar.gz of files, the same bytes for the same files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed, \
            tarfile.open(fileobj=packed, mode="w") as out:
        for name, mode, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            out.addfile(info, io.BytesIO(data))


def left_out(name):
    return any(name == top or name.startswith(top + "/") for top in LEFT_OUT)


def handout(out, name, worktree=False):
    if not engine.in_git():
        print("make handout copies the last commit: run it in the git repository")
        return 2
    if not worktree and git("status", "--porcelain"):
        commit = git("rev-parse", "--short", "HEAD").decode().strip()
        print(f"make handout: the uncommitted changes are left out: the handout "
              f"is the last commit, {commit}")
    out = pathlib.Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    files = tracked_files(worktree)
    base = out / name
    for old in [base, *out.glob(f"{name}-session-*")]:
        shutil.rmtree(old, ignore_errors=True)
    write_tree([f for f in files if not left_out(f[0])], base)
    answers.strip(base)
    stages = [f for f in files if f[0].split("/")[0] in STAGES]
    archive_of(stages, base / engine.PRISTINE.relative_to(ROOT))
    (base / ".github" / "workflows").mkdir(parents=True)
    (base / ".github" / "workflows" / "check.yml").write_text(check_workflow(False))
    with tarfile.open(out / f"{name}.tar.gz", "w:gz") as tarball:
        tarball.add(base, arcname=name)
    made = []
    for session, todo in sessions().items():
        copy = out / f"{name}-session-{session}"
        shutil.copytree(base, copy, symlinks=True)
        workflows = copy / ".github" / "workflows"
        (workflows / "check.yml").write_text(check_workflow(True))
        (workflows / "classroom.yml").write_text(autograding(session))
        made.append(f"{shown(copy)}/ ({', '.join(e.id for e in todo)}: "
                    f"{sum(e.points for e in todo)} points)")
    print(f"make handout: {shown(base)}/ and {shown(out / name)}.tar.gz: the "
          f"{'files git tracks, as they are' if worktree else 'last commit'} "
          f"without tests/exercises/solutions/, teachers/, this repository's "
          f"CI, git history and the tests that catch the mutants")
    print("  one GitHub Classroom template per session, each with the "
          "autograding of its exercises:")
    for line in made:
        print(f"    {line}")
    print("  TEACHING.md says how to hand them out")
    return 0


# ---------------------------------------------------------------- restore


def restore(stage, build):
    number = STAGES.index(stage) + 1
    archive, source = engine.as_handed_out(stage)
    if archive is None:
        print(f"make restore-{number}: nothing to restore {stage} from: {source}")
        return 2
    folder = ROOT / stage
    with archive:
        shipped = engine.shipped_files(folder, archive)
        now = engine.files_under(folder) if folder.is_dir() else {}
        if now == shipped:
            print(f"make restore-{number}: {stage}/ is as handed out already: "
                  f"nothing saved, nothing changed")
            return 0
        changed = sorted(n for n in set(now) | set(shipped)
                         if now.get(n) != shipped.get(n))
        saved = pathlib.Path(build).resolve() / "saved" / (
            f"{stage}-{datetime.datetime.now():%Y%m%d-%H%M%S}.tar.gz")
        saved.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            with tarfile.open(saved, "w:gz") as tarball:
                tarball.add(folder, arcname=stage)
        shutil.rmtree(folder, ignore_errors=True)
        engine.write_as_handed_out(stage, archive, ROOT)
    print(f"make restore-{number}: {stage}/ is back as handed out (from {source}); "
          f"{len(changed)} {'file' if len(changed) == 1 else 'files'} had changed: "
          f"{', '.join(changed[:5])}"
          f"{', ...' if len(changed) > 5 else ''}")
    if folder.exists():
        print(f"  the folder as it was is in {shown(saved)} (make clean deletes "
              f"build/: move it elsewhere to keep it)")
    return 0


# ---------------------------------------------------------------- check-work


def build_quietly(folder, makefile, out, flags=""):
    """(whether folder builds with makefile into out/server, what was said)."""
    with tempfile.TemporaryDirectory(prefix="check-work-") as work:
        source = pathlib.Path(work) / "source"
        shutil.copytree(folder, source, symlinks=True,
                        ignore=shutil.ignore_patterns("server", "*.o", "__pycache__"))
        shutil.copyfile(makefile, source / "Makefile")
        out.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(source),
                               f"OUT={out}", f"EXTRA_CFLAGS={flags}"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return made.returncode == 0, (made.stdout + made.stderr).strip()


def check_work(build):
    """make check-work: returns the exit status."""
    out = pathlib.Path(build).resolve() / "check-work"
    shutil.rmtree(out, ignore_errors=True)
    problems, notes = [], []
    for number, stage in enumerate(STAGES, 1):
        archive, source = engine.as_handed_out(stage)
        if archive is not None:
            with archive:
                same = engine.files_under(ROOT / stage) == engine.shipped_files(
                    ROOT / stage, archive)
            if not same:
                problems.append(f"{stage}/ is not as handed out: the exercises are "
                                f"done in mine/N.M/ (make start EX=N.M). make "
                                f"restore-{number} puts it back, saving it first.")
        built, said = build_quietly(ROOT / stage, ROOT / stage / "Makefile",
                                    out / "stages" / stage, "-Werror")
        if not built:
            problems.append(f"{stage}/ does not build:\n{said}")
    by_id = {e.id: e for e in exercises()}
    started = sorted(p for p in engine.MINE.iterdir() if p.is_dir()) \
        if engine.MINE.is_dir() else []
    for folder in started:
        exercise = by_id.get(folder.name)
        if exercise is None:
            notes.append(f"mine/{folder.name}/ is not an exercise's folder: "
                         f"nothing grades it")
        elif exercise.kind == "server":
            built, said = build_quietly(folder, ROOT / exercise.stage / "Makefile",
                                        out / "mine" / exercise.id)
            if not built:
                problems.append(f"mine/{exercise.id}/ does not build:\n{said}")
            elif said:
                notes.append(f"mine/{exercise.id}/ builds, with warnings (they "
                             f"fail its grade):\n{said}")
        else:
            test_files = sorted(folder.glob("test_*.py"))
            for test_file in test_files:
                compiled = subprocess.run(
                    [sys.executable, "-c", "import sys; compile(open(sys.argv[1])"
                     ".read(), sys.argv[1], 'exec')", str(test_file)],
                    capture_output=True, text=True)
                if compiled.returncode != 0:
                    problems.append(f"{shown(test_file)} is not Python:\n"
                                    f"{compiled.stderr.strip()}")
            if not test_files:
                notes.append(f"mine/{exercise.id}/ has no test_*.py file")
    for note in notes:
        print(f"check-work: {note}")
    for problem in problems:
        print(f"check-work: {problem}")
    what = (f"the {len(STAGES)} stages and the {len(started)} folders of mine/")
    if problems:
        print(f"check-work: {len(problems)} problems in {what}")
        return 1
    print(f"check-work: {what} are as they should be (the grades are make "
          f"grade's: make grade ALL=1)")
    return 0


def main(args):
    worktree = "--worktree" in args
    args = [a for a in args if a != "--worktree"]
    if len(args) == 3 and args[0] == "handout":
        return handout(args[1], args[2], worktree)
    if len(args) == 2 and args[0] == "workflows":
        return write_workflows(args[1])
    if len(args) == 2 and args[0] == "check":
        return check(args[1])
    if len(args) == 3 and args[0] == "restore" and args[1] in STAGES:
        return restore(args[1], args[2])
    if len(args) == 2 and args[0] == "check-work":
        return check_work(args[1])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
