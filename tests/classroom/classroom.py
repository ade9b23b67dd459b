"""The course's hosted side: the autograding workflow, and its checks.

    classroom.py workflow   prints the autograding workflow, made from
                            tests/exercises/exercises.txt: one step per
                            exercise running `make grade EX=N.M`, worth its
                            points, then the step that reports the score
    classroom.py check      fails unless the autograding workflow is what
                            `workflow` prints, and every command the
                            workflows run is one README.md or TEACHING.md
                            gives the reader

The autograding workflow is kept in .github/classroom/classroom.yml, where
GitHub does not run it: grading the stages as shipped would only fail.
`make handout` moves it to .github/workflows/ in the copy for students.
`make test` runs `check` (tests/classroom/classroom.mk); `make
classroom-workflow` rewrites the file after exercises.txt changes.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exercises"))
from engine import exercises  # noqa: E402

EXERCISES = ROOT / "tests" / "exercises" / "exercises.txt"
WORKFLOWS = ROOT / ".github" / "workflows"
# In the repository, and in a handout.
CLASSROOM_PLACES = [ROOT / ".github" / "classroom" / "classroom.yml",
                    WORKFLOWS / "classroom.yml"]
DOCS = [ROOT / "README.md", ROOT / "TEACHING.md"]

# Points by the size the exercise announces; 10 for a size not listed.
POINTS = {"10 minutes": 5, "15 minutes": 5, "30 minutes": 10,
          "an hour": 15, "an afternoon": 25}
DEFAULT_POINTS = 10
TIMEOUT_MINUTES = 10  # a grader's own waits are bounded well below this

HEADER = """\
# GitHub Classroom's autograding: one step per exercise, each running
# `make grade EX=N.M` and worth its points, then the step that reports the
# score to the classroom. Made from tests/exercises/exercises.txt by
# `make classroom-workflow`; `make test` checks that it is up to date.
# Kept in .github/classroom/, where GitHub does not run it; `make handout`
# moves it to .github/workflows/ in the students' copy. Its names are the
# ones GitHub Classroom gives the workflow it writes: the reporting step
# looks for them.
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
      # The grades of v0.3 to v0.6 run under ThreadSanitizer, which cannot
      # place its shadow memory when the kernel randomizes addresses with
      # more than 30 bits, as this runner's does.
      - run: sudo sysctl -w vm.mmap_rnd_bits=28
"""


def points(exercise):
    return POINTS.get(exercise.size, DEFAULT_POINTS)


def step(exercise):
    """The workflow's id for the exercise's step: exercise-6-1 for 6.1."""
    return "exercise-" + exercise.id.replace(".", "-")


def workflow():
    todo = exercises()
    out = [HEADER]
    for e in todo:
        out.append(f"""\
      - name: exercise {e.id} ({e.stage})
        id: {step(e)}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: exercise {e.id}
          command: make grade EX={e.id}
          timeout: {TIMEOUT_MINUTES}
          max-score: {points(e)}
""")
    out.append("""\
      - name: Report the score
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
""")
    for e in todo:
        results = f"${{{{ steps.{step(e)}.outputs.result }}}}"
        out.append(f'          {step(e).upper()}_RESULTS: "{results}"\n')
    out.append(f"""\
        with:
          runners: {",".join(step(e) for e in todo)}
""")
    return "".join(out)


def commands_run(text):
    """The shell commands a workflow runs: its `run:` and `command:` values
    (one line each: these workflows keep them so)."""
    return [m[1].strip().strip("'\"") for m in
            re.finditer(r"^\s*-?\s*(?:run|command):\s*(.+)$", text, re.M)]


def same_exercise(text):
    """The text with every exercise id in a `make grade EX=` made N.M: the
    README shows the command with one id, the workflow runs it with each."""
    return re.sub(r"EX=\d+\.\d+", "EX=N.M", text)


def check():
    problems = []
    classroom = next((p for p in CLASSROOM_PLACES if p.is_file()), CLASSROOM_PLACES[0])
    if not classroom.is_file() or classroom.read_text() != workflow():
        problems.append(f"{classroom.relative_to(ROOT)} does not match "
                        f"{EXERCISES.relative_to(ROOT)}: run "
                        f"`make classroom-workflow`, then commit it")
    docs = same_exercise("\n".join(d.read_text() for d in DOCS if d.is_file()))
    files = sorted(set(WORKFLOWS.glob("*.yml")) | {classroom})
    for path in files:
        for command in commands_run(path.read_text()):
            if same_exercise(command) not in docs:
                problems.append(f"{path.relative_to(ROOT)} runs `{command}`, "
                                f"which neither README.md nor TEACHING.md gives")
    for problem in problems:
        print(f"classroom: {problem}")
    if problems:
        return 1
    print(f"classroom: {classroom.relative_to(ROOT)} matches the "
          f"{len(exercises())} exercises; the {len(files)} workflows run "
          f"only commands the README and TEACHING.md give")
    return 0


def main(args):
    if args == ["workflow"]:
        sys.stdout.write(workflow())
        return 0
    if args == ["check"]:
        return check()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
