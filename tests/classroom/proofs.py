"""Proofs of the course's side, each run in a folder of its own, WORK:

    proofs.py handout WORK      (make prove-handout, a step of make test)
        In a handout made from the files git tracks, put under git as a
        teacher does, every exercise started with make start and its
        reference solution applied in mine/N.M/ (a test exercise's
        reference test as mine/N.M/test_N_M.py): after every make
        timeline-N, make grade ALL=1 passes every exercise with full
        points, and neither changes what git status says.
    proofs.py class WORK        (make prove-class, a step of make test)
        make grade-class on a handful of synthetic students, one an
        outcome: right, wrong, not started, a test file that hangs its
        grade with processes that leave its session, one that changes its
        own graders and Makefiles; and that student again, alone, with a
        time limit that stops its grading whole. Every grade is the one
        planted, and no process is left behind.
    proofs.py class-of-60 WORK  (make class-of-60)
        60 synthetic students, from the reference and wrong solutions,
        graded by make grade-class; every grade checked against the plan,
        and the time it took.

A synthetic student is a git repository with mine/N.M/ folders: a copy of
the stage with solutions/N.M.patch applied (right), with a wrong solution
of solutions/wrong/ on top of it (wrong), or for an exercise that asks
for a test, solutions/test_N_M.py (right) or a test that catches nothing
(wrong).
"""

import csv
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exercises"))
import engine  # noqa: E402
from engine import SOLUTIONS, exercises  # noqa: E402

HANDOUT = "socket-servers"

# A test file that never lets its grade end: at import it leaves behind a
# process, in a session of its own, that keeps pytest's output open and
# forks a child every second.
HANGS = '''\
"""Never lets its grade end."""
import os
import time

if os.fork() == 0:
    os.setsid()
    while True:
        if os.fork() == 0:
            while True:
                time.sleep(60)
        time.sleep(1)


def test_the_server_answers(server):
    server.assert_serves()
'''
# What a student who games the grade might commit: a grader that passes
# everything, and Makefiles that do not build or drop the warnings.
OWN_GRADER = ('"""Passes whatever the server does."""\n\n\n'
              'def test_everything():\n    pass\n')
OWN_MAKEFILE = "grade:\n\t@echo passed\n"
QUIET_MAKEFILE = ("CFLAGS = -std=c11 -O2 -g -w\nLDLIBS = -pthread\nOUT = .\n\n"
                  "$(OUT)/server: $(wildcard *.c *.h) Makefile\n\t$(CC) $(CFLAGS) "
                  "$(EXTRA_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)\n")


def clean_environment():
    """The environment without the calling make's flags: each make run
    here is a fresh one, as a teacher's or a student's is."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def run(command, cwd, log=None, **kwargs):
    """Runs command; its output appended to log (or returned)."""
    done = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=clean_environment(), **kwargs)
    if log:
        with open(log, "a") as out:
            out.write(f"$ {' '.join(map(str, command))}\n{done.stdout}")
    return done


def git_commit(folder, message):
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=Student", "-c",
                     "user.email=student@example.org", "commit", "-q", "-m", message]):
        if command[1] == "init" and (folder / ".git").exists():
            continue
        done = run(command, folder)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} in {folder}: {done.stdout}")


def git_status(folder):
    return run(["git", "status", "--porcelain"], folder).stdout


# ---------------------------------------------------------- the solutions


def patch(folder, patches):
    for p in patches:
        done = run(["patch", "-p1", "-s", "--no-backup-if-mismatch", "-d", str(folder),
                    "-i", str(p)], folder)
        if done.returncode != 0:
            raise SystemExit(f"{p.name} does not apply in {folder}: {done.stdout}")


def reference_test(exercise):
    return SOLUTIONS / f"test_{exercise.id.replace('.', '_')}.py"


def wrong_solutions(exercise):
    return sorted((SOLUTIONS / "wrong").glob(f"{exercise.id}-*.patch"))


def caught_by_warnings():
    """A wrong solution the -Werror build catches, or None."""
    for exercise in exercises():
        for p in wrong_solutions(exercise):
            if re.search(r"^Caught by:\s*warnings\b", p.read_text(), re.M):
                return exercise, p
    return None


def make_work(repository, exercise, how):
    """mine/N.M/ in repository, done as how says: "right", "wrong:PATCH"
    (a wrong solution), "shipped" (started, unchanged), "nothing" (a test
    that catches nothing), "starter" (the file make start writes), "hangs"."""
    folder = repository / "mine" / exercise.id
    folder.parent.mkdir(parents=True, exist_ok=True)
    if exercise.kind == "server":
        shutil.copytree(ROOT / exercise.stage, folder,
                        ignore=shutil.ignore_patterns("server", "*.o"))
        if how == "right":
            patch(folder, [SOLUTIONS / f"{exercise.id}.patch"])
        elif how.startswith("wrong:"):
            patch(folder, [SOLUTIONS / f"{exercise.id}.patch", pathlib.Path(how[6:])])
        return
    folder.mkdir()
    test_file = folder / f"test_{exercise.id.replace('.', '_')}.py"
    if how == "right":
        shutil.copyfile(reference_test(exercise), test_file)
    elif how == "nothing":
        shutil.copyfile(SOLUTIONS / "test_nothing.py", test_file)
    elif how == "hangs":
        test_file.write_text(HANGS)
    else:
        test_file.write_text(f'"""Exercise {exercise.id}: to be written."""\n')


def expected(how):
    return "passed" if how == "right" else "failed"


def make_student(folder, plan, extra=None):
    """A student's repository: mine/ as plan ({id: how}) says, and extra
    files ({path: text}); returns {id: the status it must get}."""
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("A student's copy of the course.\n")
    by_id = {e.id: e for e in exercises()}
    for ident, how in plan.items():
        make_work(folder, by_id[ident], how)
    for path, text in (extra or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    git_commit(folder, "my work")
    return {e.id: expected(plan[e.id]) if e.id in plan else "not started"
            for e in exercises()}


# ---------------------------------------------------------- grading a class


def read_csv(path):
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def compare(rows, plans):
    """The grades that differ from the plan, one line each; and a student's
    total, where every grade is as planted."""
    wrong = []
    for student, plan in plans.items():
        row = rows.get(student)
        if row is None:
            wrong.append(f"{student}: no row in the CSV")
            continue
        differ = [f"{student} {ident}: {row[f'{ident} result']} "
                  f"({row[f'{ident} first failure']}), planted: {status}"
                  for ident, status in plan.items() if row[f"{ident} result"] != status]
        points = sum(e.points for e in exercises() if plan[e.id] == "passed")
        if not differ and int(row["points"]) != points:
            differ.append(f"{student}: {row['points']} points, planted: {points}")
        wrong += differ
    return wrong


def tally(problems):
    """What the differences are: right solutions failed (by exercise),
    wrong ones passed."""
    failed, passed = {}, 0
    for line in problems:
        match = re.match(r"\S+ (\d+\.\d+): failed .*planted: passed$", line)
        if match:
            failed[match[1]] = failed.get(match[1], 0) + 1
        passed += line.endswith("planted: failed") and ": passed " in line
    by_exercise = ", ".join(f"{n} of {e}" for e, n in sorted(failed.items()))
    return (f"{sum(failed.values())} right solutions failed"
            f"{' (' + by_exercise + ')' if by_exercise else ''}, {passed} wrong "
            f"ones passed")


def grade_class(folder, csv_path, work, log, only=(), **settings):
    """make grade-class, as a teacher runs it; returns the process."""
    env = clean_environment()
    env.update({k: str(v) for k, v in settings.items()})
    command = [sys.executable, str(ROOT / "tests" / "classroom" / "gradeclass.py"),
               "grade", str(folder), "--csv", str(csv_path), "--work", str(work)]
    if only:
        command += ["--only", *only]
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)


def left_behind(work):
    """Processes some grade started (engine.MARKER) whose folder is under
    work: none must outlive the grading."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if engine.MARKER.encode() not in (entry / "environ").read_bytes():
                continue
            if str(work) in os.readlink(entry / "cwd"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def verdict(name, problems, began, work, success):
    """Prints the problems, or what was proven; returns the exit status."""
    for problem in problems:
        print(f"FAIL {problem}")
    took = time.monotonic() - began
    if problems:
        print(f"{name}: {len(problems)} problems ({took:.0f} s); what it made, "
              f"and its logs, are in {work}")
        return 1
    print(f"{name}: {success} ({took:.0f} s)")
    return 0


def prove_class(work):
    """make prove-class: returns the exit status."""
    began = time.monotonic()
    work = pathlib.Path(work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "course-submissions"
    by_id = {e.id: e for e in exercises()}
    needed = ["1.1", "2.1", "2.3", "4.3"]
    if not SOLUTIONS.is_dir() or any(i not in by_id for i in needed):
        print("prove-class: skipped, there is no tests/exercises/solutions/ "
              "(a copy handed to students has none)")
        return 0
    warned = caught_by_warnings()
    cheat = {"1.1": "shipped"}
    extra = {"tests/exercises/grade_1_1.py": OWN_GRADER, "Makefile": OWN_MAKEFILE,
             "mine/conftest.py": OWN_GRADER}
    if warned:
        cheat[warned[0].id] = f"wrong:{warned[1]}"
        extra[f"mine/{warned[0].id}/Makefile"] = QUIET_MAKEFILE
    plans = {
        "ada": make_student(folder / "course-ada", {"1.1": "right", "2.3": "right"}),
        "bob": make_student(folder / "course-bob", {
            "1.1": f"wrong:{wrong_solutions(by_id['1.1'])[0]}", "2.3": "nothing"}),
        "cy": make_student(folder / "course-cy", {}),
        "dee": make_student(folder / "course-dee", {"2.1": "right", "4.3": "hangs"}),
        "eve": make_student(folder / "course-eve", cheat, extra),
    }
    # The whole class, and dee again alone, with a time limit shorter than
    # her grading takes: both at once.
    settings = dict(STUDENTS_AT_ONCE=5, CLASS_GRADE_JOBS=4, EXERCISE_TIMEOUT=90,
                    STUDENT_TIMEOUT=400)
    whole = grade_class(folder, work / "class.csv", work / "class", work / "class.log",
                        **settings)
    alone = grade_class(folder, work / "dee.csv", work / "dee", work / "dee.log",
                        ["dee"], **dict(settings, STUDENT_TIMEOUT=30,
                                        EXERCISE_TIMEOUT=600))
    problems = []
    for proc, name in ((whole, "class"), (alone, "dee")):
        if proc.wait() != 0:
            problems.append(f"make grade-class ({name}) ended with status "
                            f"{proc.returncode}")
    print((work / "class.log").read_text(), end="")
    rows = read_csv(work / "class.csv") if (work / "class.csv").is_file() else {}
    problems += compare(rows, plans)
    if "dee" in rows and "no grade within 90 s" not in rows["dee"]["4.3 first failure"]:
        problems.append(f"dee 4.3: {rows['dee']['4.3 first failure']!r}, not the "
                        f"time limit's")
    alone_rows = read_csv(work / "dee.csv") if (work / "dee.csv").is_file() else {}
    dee = alone_rows.get("dee", {})
    if "stopped after 30 s" not in dee.get("note", "") or \
            dee.get("4.3 result") != "failed":
        problems.append(f"dee alone, 30 s: not stopped by the student's time "
                        f"limit: {dee}")
    left = left_behind(work)
    if left:
        problems.append(f"processes left behind by the grading: {left}")
    return verdict("prove-class", problems, began, work, (
        f"{len(plans)} students graded as planted (right, wrong, not started, "
        f"a test that hangs its grade, one that changed its own graders and "
        f"Makefiles), the one that hangs stopped whole by the exercise's time "
        f"limit and, alone, by the student's; no process left behind"))


def class_of_60(work, count=60, seed=19):
    """make class-of-60: returns the exit status."""
    if not SOLUTIONS.is_dir():
        print("class-of-60: there is no tests/exercises/solutions/ to build "
              "students from")
        return 2
    work = pathlib.Path(work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "course-submissions"
    chance = random.Random(seed)
    todo = exercises()
    print(f"== class-of-60: {count} synthetic students in {folder}, from the "
          f"reference and wrong solutions (seed {seed})")
    plans, kinds = {}, {}
    for n in range(1, count + 1):
        name = f"student{n:02}"
        if n <= max(1, count // 15):
            kind, plan = "not started", {}
        elif n == max(1, count // 15) + 1:
            kind, plan = "hangs", {e.id: "right" for e in todo}
            plan[next(e.id for e in todo if e.kind == "test")] = "hangs"
        elif n <= max(1, count // 15) + 1 + count * 3 // 10:
            kind, plan = "right", {e.id: "right" for e in todo}
        else:
            kind, plan = "mixed", {}
            for e in todo:
                draw = chance.random()
                if draw < 0.2:
                    continue  # not started
                if draw < 0.65 or (e.kind == "server" and not wrong_solutions(e)):
                    plan[e.id] = "right"
                elif e.kind == "server":
                    plan[e.id] = f"wrong:{chance.choice(wrong_solutions(e))}"
                else:
                    plan[e.id] = chance.choice(["nothing", "starter"])
        kinds[name] = kind
        plans[name] = make_student(folder / f"course-{name}", plan)
    graded = sum(status != "not started"
                 for plan in plans.values() for status in plan.values())
    print(f"   {sum(k == 'not started' for k in kinds.values())} not started, "
          f"{sum(k == 'right' for k in kinds.values())} with every exercise right, "
          f"{sum(k == 'mixed' for k in kinds.values())} with some right, some wrong, "
          f"some not started, 1 whose test hangs its grade: {graded} grades")
    began = time.monotonic()
    proc = grade_class(folder, work / "grades.csv", work / "class", work / "class.log")
    status = proc.wait()
    took = time.monotonic() - began
    print((work / "class.log").read_text(), end="")
    problems = [] if status == 0 else [f"make grade-class ended with status {status}"]
    if (work / "grades.csv").is_file():
        problems += compare(read_csv(work / "grades.csv"), plans)
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"class-of-60: {count} students, {graded} grades, in {took:.0f} s "
          f"({took / 60:.1f} min) of wall time on {os.cpu_count()} cores, the "
          f"load average {os.getloadavg()[0]:.0f} at the end; {len(problems)} "
          f"differ from the plan: {tally(problems)}")
    return 1 if problems else 0


# ---------------------------------------------------------- the handout


def prove_handout(work):
    """make prove-handout: returns the exit status."""
    began = time.monotonic()
    if not SOLUTIONS.is_dir():
        print("prove-handout: skipped, there is no tests/exercises/solutions/ "
              "(a copy handed to students has none)")
        return 0
    work = pathlib.Path(work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    log = work / "log"
    work.mkdir(parents=True)
    made = run([sys.executable, str(ROOT / "tests" / "classroom" / "classroom.py"),
                "handout", str(work), HANDOUT, "--worktree"], ROOT, log)
    if made.returncode != 0:
        print(f"prove-handout: make handout failed:\n{made.stdout}")
        return 1
    handout = work / HANDOUT
    git_commit(handout, "Socket servers in C")
    problems = []
    for e in exercises():
        started = run(["make", "-s", "start", f"EX={e.id}"], handout, log)
        if started.returncode != 0:
            problems.append(f"make start EX={e.id}: {started.stdout.strip()}")
            continue
        if e.kind == "server":
            patch(handout / "mine" / e.id, [SOLUTIONS / f"{e.id}.patch"])
        else:
            shutil.copyfile(reference_test(e), testgrading_file(handout, e))
    git_commit(handout, "every exercise done")
    for number in range(1, len([p for p in ROOT.glob("v0.*") if p.is_dir()]) + 1):
        drawn = run(["make", "-s", f"timeline-{number}"], handout, log)
        if drawn.returncode != 0:
            problems.append(f"make timeline-{number} failed:\n{drawn.stdout[-2000:]}")
    before = git_status(handout)
    if before:
        problems.append(f"after every make timeline-N, git status says:\n{before}")
    graded = run(["make", "-s", "grade", "ALL=1"], handout, log)
    print(graded.stdout, end="")
    total = sum(e.points for e in exercises())
    count = len(exercises())
    expected = (f"{count} exercises: {count} passed, 0 failed, 0 not started; "
                f"{total} of {total} points.")
    if graded.returncode != 0 or expected not in graded.stdout:
        problems.append(f"make grade ALL=1 does not say: {expected}")
        for e in exercises():
            grade_log = handout / "build" / "grade" / f"{e.id}.log"
            if re.search(rf"^{re.escape(e.id)} .* failed ", graded.stdout, re.M) \
                    and grade_log.is_file():
                kept = grade_log.read_text(errors="replace").splitlines()[-40:]
                problems.append(f"{e.id}'s grade ends:\n" + "\n".join(
                    f"     | {line}" for line in kept))
    after = git_status(handout)
    if after != before:
        problems.append(f"make grade ALL=1 changed what git status says:\n"
                        f"before:\n{before}after:\n{after}")
    return verdict("prove-handout", problems, began, work, (
        f"in a handout, every reference solution in mine/N.M/ passes make "
        f"grade ALL=1, {total} of {total} points, after every make "
        f"timeline-N; git status stays clean"))


def testgrading_file(handout, exercise):
    """Where make start put a test exercise's file in the handout."""
    return handout / "mine" / exercise.id / f"test_{exercise.id.replace('.', '_')}.py"


def main(args):
    sys.stdout.reconfigure(line_buffering=True)
    if len(args) == 2 and args[0] == "handout":
        return prove_handout(args[1])
    if len(args) == 2 and args[0] == "class":
        return prove_class(args[1])
    if len(args) in (2, 3) and args[0] == "class-of-60":
        return class_of_60(args[1], *map(int, args[2:]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
