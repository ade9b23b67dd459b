"""Grades a class: make grade-class CLASS=folder.

    gradeclass.py grade CLASS --csv FILE --work DIR [--session N or N-extra] [--only NAME...]

CLASS holds one folder per student repository, as `gh classroom clone
student-repos` lays them out (ASSIGNMENT-submissions/ASSIGNMENT-LOGIN/);
any folder of folders does. A student's repository is read, never run:
for each exercise N.M, its mine/N.M/ (regular files and folders only) is
laid over a fresh copy of this repository, DIR/students/NAME/, and the
copy's own graders, harness and Makefiles grade it, as `make grade ALL=1`
does. Whatever else the student's repository holds (its tests, graders,
Makefiles, mine/conftest.py) is left where it is.

Each student is graded in a process of its own, in a session of its own,
stopped whole after STUDENT_TIMEOUT seconds with every process it started
(engine.MARKER finds those that left the session); within it each
exercise is stopped after EXERCISE_TIMEOUT seconds the same way.
STUDENTS_AT_ONCE students are graded at once (as many as the machine has
cores, two at least), each CLASS_GRADE_JOBS exercises at once. The student code runs as the user who runs this:
TEACHING.md says how to run it isolated.

Writes FILE, a CSV with a row per student (their points, and for each
exercise its points, result and first failure), and prints a summary.
Each student's table is in DIR/logs/NAME.log, each grade's whole output
in DIR/students/NAME/build/grade/N.M.log.
"""

import concurrent.futures
import csv
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exercises"))
import engine  # noqa: E402
from engine import shown  # noqa: E402

# Students at once: as many as the machine has cores (a grade spends most
# of its time waiting), each with CLASS_GRADE_JOBS grades at once.
SETTINGS = {"STUDENT_TIMEOUT": 1800, "EXERCISE_TIMEOUT": 600,
            "STUDENTS_AT_ONCE": max(2, os.cpu_count() or 2), "CLASS_GRADE_JOBS": 6}


def setting(name):
    return float(os.environ.get(name) or SETTINGS[name])


# ------------------------------------------------------------ the copies


def trusted_files():
    """What every student's copy is made of: this repository's files, but
    its build/, git, students' folders in mine/ and what builds leave."""
    skipped_at_top = {".git", "build", "mine"}

    def ignore(folder, names):
        folder = pathlib.Path(folder)
        built = {"server"} if folder.name.startswith("v0.") else set()
        return [n for n in names
                if (folder == ROOT and n in skipped_at_top) or n == "__pycache__"
                or n.endswith(".o") or n in built]
    return ignore


def make_trusted(work):
    """work/trusted/: the copy every student's grade starts from."""
    trusted = work / "trusted"
    shutil.rmtree(trusted, ignore_errors=True)
    shutil.copytree(ROOT, trusted, ignore=trusted_files(), symlinks=True)
    (trusted / "mine").mkdir()
    shutil.copyfile(engine.MINE / "conftest.py", trusted / "mine" / "conftest.py")
    return trusted


def lay_over(source, target):
    """Copies the regular files and folders of source into target (new);
    returns what it left out (links, devices, ...)."""
    left = []
    target.mkdir()
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
            left.append(entry.name)
        elif entry.is_dir():
            left += [f"{entry.name}/{n}" for n in lay_over(entry, target / entry.name)]
        else:
            shutil.copyfile(entry, target / entry.name)
    return left


# ------------------------------------------------------------ students


@dataclasses.dataclass
class Student:
    name: str
    repository: pathlib.Path
    commit: str = ""
    rows: dict = dataclasses.field(default_factory=dict)  # id: exercises.Row as a dict
    seconds: float = 0.0
    note: str = ""


def students_in(folder, only=()):
    """The students of a class folder, by name: a folder ASSIGNMENT-LOGIN
    in ASSIGNMENT-submissions/ is LOGIN."""
    slug = folder.name.removesuffix("-submissions") \
        if folder.name.endswith("-submissions") else None
    found = []
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        name = entry.name
        if slug and name.startswith(slug + "-") and len(name) > len(slug) + 1:
            name = name[len(slug) + 1:]
        if not only or name in only or entry.name in only:
            found.append(Student(name, entry))
    return found


def commit_of(repository):
    """The commit a student's clone has checked out, and its date, or ""."""
    if not (repository / ".git").exists():
        return ""
    said = subprocess.run(["git", "-C", str(repository), "log", "-1",
                           "--format=%h %cs"], capture_output=True, text=True)
    return said.stdout.strip() if said.returncode == 0 else ""


def grade_student(student, trusted, work, todo):
    """Grades one student in a copy of its own; fills student.rows."""
    began = time.monotonic()
    student.commit = commit_of(student.repository)
    copy = work / "students" / student.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(trusted, copy, symlinks=True)
    left = []
    for exercise in todo:
        theirs = student.repository / "mine" / exercise.id
        if theirs.is_dir() and not theirs.is_symlink():
            left += [f"mine/{exercise.id}/{n}" for n in
                     lay_over(theirs, copy / "mine" / exercise.id)]
    if left:
        student.note = f"left out (not a file): {', '.join(left[:3])}"
    results = copy / "build" / "results.jsonl"
    log = work / "logs" / f"{student.name}.log"
    timeout = setting("STUDENT_TIMEOUT")
    command = [sys.executable, str(copy / "tests" / "exercises" / "exercises.py"),
               "all", "--logs", str(copy / "build" / "grade"),
               "--results", str(results),
               "--jobs", str(int(setting("CLASS_GRADE_JOBS"))),
               "--timeout", f"{setting('EXERCISE_TIMEOUT'):g}",
               "--only", ",".join(e.id for e in todo)]
    with open(log, "w") as out:
        status, killed = engine.run_whole(command, out, timeout, copy)
        expired = status is None
        if expired:
            out.write(f"\n== stopped after {timeout:g} s, the time a student's "
                      f"grading may take; {killed} processes it left were killed\n")
    if results.is_file():
        for line in results.read_text().splitlines():
            row = json.loads(line)
            student.rows[row["exercise"]] = row
    for exercise in todo:
        if exercise.id in student.rows:
            continue
        started = (copy / "mine" / exercise.id).exists()
        why = (f"(the student's grading stopped after {timeout:g} s)" if expired
               else "(the student's grading ended without a result)")
        student.rows[exercise.id] = {
            "exercise": exercise.id, "status": "failed" if started else "not started",
            "points": 0, "max_points": exercise.points, "seconds": 0,
            "first_failure": why if started else ""}
    if expired:
        student.note = "; ".join(filter(None, [
            f"stopped after {timeout:g} s", student.note]))
    student.seconds = time.monotonic() - began
    return student


# ------------------------------------------------------------ the report


def write_csv(path, students, todo):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        header = ["student", "repository", "commit", "points", "out of", "passed",
                  "failed", "not started", "seconds", "note"]
        for e in todo:
            header += [f"{e.id} points", f"{e.id} result", f"{e.id} first failure"]
        writer.writerow(header)
        for s in students:
            rows = [s.rows[e.id] for e in todo]
            line = [s.name, s.repository.name, s.commit,
                    sum(r["points"] for r in rows), sum(e.points for e in todo)]
            line += [sum(r["status"] == what for r in rows)
                     for what in ("passed", "failed", "not started")]
            line += [round(s.seconds), s.note]
            for r in rows:
                line += [r["points"], r["status"], r["first_failure"]]
            writer.writerow(line)


def summary(students, todo, took, csv_path, work):
    out_of = sum(e.points for e in todo)
    width = max([len(s.name) for s in students] + [7])
    print(f"{'student':{width}} {'points':>9} {'passed':>6} {'failed':>6} "
          f"{'not started':>11} {'time':>6}  note")
    for s in students:
        rows = [s.rows[e.id] for e in todo]
        count = {what: sum(r["status"] == what for r in rows)
                 for what in ("passed", "failed", "not started")}
        print(f"{s.name:{width}} {sum(r['points'] for r in rows):>4}/{out_of:<4} "
              f"{count['passed']:>6} {count['failed']:>6} {count['not started']:>11} "
              f"{s.seconds:>4.0f} s  {s.note}")
    print("exercise  passed  failed  not started")
    nobody = []
    for e in todo:
        statuses = [s.rows[e.id]["status"] for s in students]
        if statuses.count("not started") == len(statuses):
            nobody.append(e.id)
            continue
        print(f"{e.id:9} {statuses.count('passed'):>6}  {statuses.count('failed'):>6}  "
              f"{statuses.count('not started'):>11}")
    if nobody:
        print(f"started by no one: {', '.join(nobody)}")
    points = sorted(sum(s.rows[e.id]["points"] for e in todo) for s in students)
    median = points[len(points) // 2] if points else 0
    print(f"grade-class: {len(students)} students, {len(todo)} exercises, "
          f"{out_of} points each: median {median}, from {points[0] if points else 0} "
          f"to {points[-1] if points else 0}; {took:.0f} s in all, "
          f"{int(setting('STUDENTS_AT_ONCE'))} students at once")
    print(f"grade-class: {shown(csv_path)}; each student's table in "
          f"{shown(work / 'logs')}/NAME.log, each grade's output in "
          f"{shown(work / 'students')}/NAME/build/grade/N.M.log")


def grade_class(folder, csv_path, work, session=None, only=()):
    folder = pathlib.Path(folder).resolve()
    if not folder.is_dir():
        print(f"grade-class: {folder} is not a folder")
        return 2
    todo = [e for e in engine.exercises()
            if session is None or session == e.assignment]
    if not todo:
        print(f"grade-class: session {session} has no exercise")
        return 2
    students = students_in(folder, only)
    if not students:
        print(f"grade-class: {folder} holds no student repository"
              + (f" named {' '.join(only)}" if only else ""))
        return 2
    work = pathlib.Path(work).resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    trusted = make_trusted(work)
    at_once = int(setting("STUDENTS_AT_ONCE"))
    print(f"== grade-class: {len(students)} students of {folder}, "
          f"{'session ' + str(session) if session else 'every session'} "
          f"({len(todo)} exercises); {at_once} students at once, each stopped "
          f"after {setting('STUDENT_TIMEOUT'):g} s, each exercise after "
          f"{setting('EXERCISE_TIMEOUT'):g} s")
    with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
        jobs = [pool.submit(grade_student, s, trusted, work, todo) for s in students]
        for n, job in enumerate(concurrent.futures.as_completed(jobs), 1):
            s = job.result()
            points = sum(r["points"] for r in s.rows.values())
            print(f"   {n}/{len(students)} {s.name}: {points} points "
                  f"({s.seconds:.0f} s){'; ' + s.note if s.note else ''}", flush=True)
    csv_path = pathlib.Path(csv_path).resolve()
    write_csv(csv_path, students, todo)
    summary(students, todo, time.monotonic() - began, csv_path, work)
    return 0


def main(args):
    args = list(args)
    sys.stdout.reconfigure(line_buffering=True)

    def option(name, default=None):
        if name not in args:
            return default
        at = args.index(name)
        value = args[at + 1]
        del args[at:at + 2]
        return value
    csv_path = option("--csv")
    work = option("--work")
    session = option("--session")
    only = []
    if "--only" in args:
        at = args.index("--only")
        only, args = args[at + 1:], args[:at]
    if len(args) == 2 and args[0] == "grade" and csv_path and work:
        return grade_class(args[1], csv_path, work,
                           session or None, only)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
