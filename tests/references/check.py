"""Checks that every test the documentation names is a real test.

    check.py [--fix]

Run from the top folder by `make check-references`, a step of make test.
It reads, without running pytest:

- every Markdown file (outside build/ and hidden folders), for references
  written as pytest names them, `tests/FILE.py::NAME` or
  `tests/FILE.py::NAME[ID]`: NAME must be a test the file defines
  (`def test_...`, at the top or in a `class Test...`);
- every mutant header (tests/mutants/*.patch and variants/), whose
  `Caught by:` names a test, or a case, in one of the files its `Tests:`
  line lists (a copy made by make handout has no `Caught by:` lines:
  there it is not looked for);
- every exercise table (each chapter's, and tests/exercises/README.md's):
  its rows must say what tests/exercises/exercises.txt says (the title, the
  size, and in the exercises' README the stage), so that a title or a size
  changed there is changed everywhere (`check.py --fix` rewrites
  the rows);
- TEACHING.md's table of reading times: each row's minutes must follow
  from its words and diff lines at the rates the page states, and those
  must be within a tenth of what the chapter (its words) and `make
  diff-N` (its lines) measure now, so that a chapter that grows is read
  in the time the page gives; and its table of what each exercise takes
  must give each exercise the size and points exercises.txt gives.

A case is an entry of a table of cases: a function registered by a
decorator defined in the same file, as test_faults.py's `@fault()`
registers the cases of test_a_client_that. In NAME[ID], the ID is checked
too when the file keeps such a table: after the stage's name
(`v0.1-blocking-`) it must be one of its cases. Prints each bad reference
as FILE:LINE: what is wrong, and exits 1 if there is one.
"""

import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exercises"))
from engine import PRISTINE, exercises  # noqa: E402

REFERENCE = re.compile(r"(tests/[\w./-]+\.py)::(\w+)(?:\[([^\]\s]*)\])?")
STAGE_PREFIX = re.compile(r"^v\d+\.\d+-[a-z]+-")


def decorator_name(node):
    """The name a decorator is called by: fault for @fault and @fault()."""
    if isinstance(node, ast.Call):
        node = node.func
    return node.id if isinstance(node, ast.Name) else None


class TestFile:
    """The tests and the cases one test file defines, read with ast."""

    def __init__(self, path):
        tree = ast.parse(path.read_text(), str(path))
        functions = [n for n in tree.body if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        defined = {f.name for f in functions}
        self.tests = {f.name for f in functions if f.name.startswith("test_")}
        for cls in tree.body:
            if isinstance(cls, ast.ClassDef) and cls.name.startswith("Test"):
                self.tests |= {f.name for f in cls.body if isinstance(
                    f, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and f.name.startswith("test_")}
        self.cases = {f.name for f in functions
                      if any(decorator_name(d) in defined
                             for d in f.decorator_list)}

    def problem(self, name, case_id=None, a_case_will_do=False):
        """What is wrong with NAME[case_id] in this file, or None."""
        if name not in self.tests | (self.cases if a_case_will_do else set()):
            return "no test of that name"
        if case_id is not None and self.cases:
            case = STAGE_PREFIX.sub("", case_id)
            if case not in self.cases:
                return f"no case {case!r} (the cases: {', '.join(sorted(self.cases))})"
        return None


SOLUTIONS = "tests/exercises/solutions/"


def handed_out_without(relative):
    """Whether the file is a solution, in a copy handed to students, which
    has none (make handout): a reference to it cannot be checked there."""
    return relative.startswith(SOLUTIONS) and not (ROOT / SOLUTIONS).is_dir()


class Checker:
    def __init__(self):
        self.files = {}
        self.bad = 0

    def test_file(self, relative):
        if relative not in self.files:
            path = ROOT / relative
            self.files[relative] = TestFile(path) if path.is_file() else None
        return self.files[relative]

    def report(self, where, line, text):
        print(f"{where.relative_to(ROOT)}:{line}: {text}")
        self.bad += 1

    def check_markdown(self, path):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in REFERENCE.finditer(line):
                relative, name, case_id = match.groups()
                if handed_out_without(relative):
                    continue
                tests = self.test_file(relative)
                problem = ("no such file" if tests is None
                           else tests.problem(name, case_id))
                if problem:
                    self.report(path, number, f"{match[0]}: {problem}")

    def check_mutant(self, path):
        header = {}
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                break
            key, _, value = line.partition(":")
            header[key.strip()] = (number, value.strip())
        if "Caught by" not in header and PRISTINE.is_file():
            return  # a handout: the test's name is left out
        number, name = header.get("Caught by", (1, ""))
        files = header.get("Tests", (1, ""))[1].split()
        if any(handed_out_without(f) for f in files):
            return
        found = [self.test_file(f) for f in files]
        if not any(t is not None and t.problem(name, a_case_will_do=True) is None
                   for t in found):
            self.report(path, number, f"Caught by: {name!r} names no test "
                        f"in {' '.join(files) or '(no Tests: line)'}")


def exercise_rows():
    """{stage: [(id, text, size)]}: what a chapter's table says of each
    exercise, from exercises.txt. A test exercise's text says so, and
    names the file the student writes."""
    rows = {}
    for e in exercises():
        title = e.title
        if e.kind == "test":
            title = (f"Write a test: {title[0].lower()}{title[1:]} (in "
                     f"mine/{e.id}/test_{e.id.replace('.', '_')}.py)")
        rows.setdefault(e.stage, []).append((e.id, title, e.size))
    return rows


CHAPTER_ROW = re.compile(r"^\| (\d+\.\d+) \| .* \| [^|]+ \|$")
INDEX_ROW = re.compile(r"^(\| \[(\d+\.\d+)\]\(#[^)]*\) \| )[^|]+ \| [^|]+ \| .* \|$")


def fix_tables(path, expected, fix):
    """The lines of the file whose exercise row differs from expected
    ({id: row}), each as (line number, what it should be); with fix,
    rewrites them."""
    lines = path.read_text().split("\n")
    wrong = []
    for number, line in enumerate(lines, 1):
        match = CHAPTER_ROW.match(line) or INDEX_ROW.match(line)
        if not match:
            continue
        ident = match[1] if match.re is CHAPTER_ROW else match[2]
        should = expected(ident, match)
        if should is not None and should != line:
            wrong.append((number, should))
            lines[number - 1] = should
    if fix and wrong:
        path.write_text("\n".join(lines))
    return wrong


def check_exercise_tables(checker, fix):
    rows = exercise_rows()
    by_id = {ident: (stage, text, size) for stage, found in rows.items()
             for ident, text, size in found}

    def chapter_row(ident, match):
        if ident not in by_id:
            return None
        _, text, size = by_id[ident]
        return f"| {ident} | {text} | {size} |"

    def index_row(ident, match):
        if ident not in by_id:
            return None
        stage, text, size = by_id[ident]
        text = re.sub(r" \(in mine/[^)]*\)$", "", text)
        return f"{match[1]}{stage} | {size} | {text} |"

    for stage in rows:
        chapter = ROOT / stage / "README.md"
        for number, should in fix_tables(chapter, chapter_row, fix):
            checker.report(chapter, number, f"the exercise row should read: {should}")
        listed = {i for i, _, _ in rows[stage]}
        present = set(re.findall(r"^\| (\d+\.\d+) \|", chapter.read_text(), re.M))
        for ident in sorted(listed - present):
            checker.report(chapter, 1, f"exercise {ident} is missing from its table")
    index = ROOT / "tests" / "exercises" / "README.md"
    for number, should in fix_tables(index, index_row, fix):
        checker.report(index, number, f"the exercise row should read: {should}")
    check_sizes_and_points(checker)


SIZE_ROW = re.compile(r"^\| (\d+\.\d+) \| ([^|]+) \| (\d+) \|")


def check_sizes_and_points(checker):
    """TEACHING.md's table of what each exercise takes: its size and points
    are exercises.txt's, and it has a row for every exercise."""
    path = ROOT / "TEACHING.md"
    by_id = {e.id: e for e in exercises()}
    seen = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = SIZE_ROW.match(line)
        if not match or match[1] not in by_id:
            continue
        e = by_id[match[1]]
        seen.add(e.id)
        if (match[2].strip(), int(match[3])) != (e.size, e.points):
            checker.report(path, number, f"exercise {e.id} is {e.size}, "
                           f"{e.points} points, in exercises.txt")
    for ident in sorted(set(by_id) - seen, key=lambda i: [int(n) for n in i.split(".")]):
        checker.report(path, 1, f"exercise {ident} has no row in the table of "
                       f"what each exercise takes")


READING_ROW = re.compile(
    r"^\| (v0\.(\d)-[a-z]+) \| ([\d,]+) \| (\d+) \| (\d+)[^|]* \| (\d+) \| ([^|]+) \|$")
WORDS_A_MINUTE, DIFF_LINES_A_MINUTE = 150, 10
DRIFT = 0.1  # a chapter may grow or shrink this much before its row is stale


def reading_time(words, lines):
    """What TEACHING.md's table of reading times gives for a chapter of
    words and a diff of lines: rounded up to 5 minutes, as "N min" or
    "H h MM"."""
    minutes = -(-(words / WORDS_A_MINUTE + lines / DIFF_LINES_A_MINUTE) // 5) * 5
    hours, rest = divmod(int(minutes), 60)
    return f"{hours} h {rest:02d}" if hours else f"{rest} min"


def measured(stage, number):
    """A chapter's words (as wc -w counts them) and its diff's lines (make
    diff-N; v0.1, which has none, its server.c)."""
    words = len((ROOT / stage / "README.md").read_text().split())
    if number == "1":
        return words, len((ROOT / stage / "server.c").read_text().splitlines())
    diff = subprocess.run(["make", "-s", "--no-print-directory", f"diff-{number}"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return words, len(diff.stdout.splitlines())


def check_reading_times(checker):
    """TEACHING.md's reading times: each row's minutes follow from its words
    and diff lines at the rates it states, and those are within DRIFT of
    what the chapter and its diff measure now."""
    path = ROOT / "TEACHING.md"
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = READING_ROW.match(line)
        if not match:
            continue
        stage, n, words, read, lines, diffed, total = match.groups()
        words = int(words.replace(",", ""))
        lines, read, diffed = int(lines), int(read), int(diffed)
        if (read != round(words / WORDS_A_MINUTE)
                or diffed != round(lines / DIFF_LINES_A_MINUTE)
                or total.strip() != reading_time(words, lines)):
            checker.report(path, number, f"{stage}: {words} words and {lines} "
                           f"lines make {round(words / WORDS_A_MINUTE)} and "
                           f"{round(lines / DIFF_LINES_A_MINUTE)} minutes, "
                           f"{reading_time(words, lines)} in all")
        now_words, now_lines = measured(stage, n)
        if (abs(now_words - words) > DRIFT * words
                or abs(now_lines - lines) > DRIFT * lines):
            checker.report(path, number, f"{stage}: the row says {words:,} words "
                           f"and {lines} lines; the chapter has {now_words:,} "
                           f"and its diff {now_lines}: "
                           f"{reading_time(now_words, now_lines)} to read")


def markdown_files():
    for path in sorted(ROOT.rglob("*.md")):
        parts = path.relative_to(ROOT).parts
        if parts[0] != "build" and not any(p.startswith(".") for p in parts):
            yield path


def main():
    checker = Checker()
    for path in markdown_files():
        checker.check_markdown(path)
    for path in sorted((ROOT / "tests" / "mutants").rglob("*.patch")):
        checker.check_mutant(path)
    check_exercise_tables(checker, "--fix" in sys.argv[1:])
    check_reading_times(checker)
    if checker.bad:
        print(f"{checker.bad} reference(s) to a test that does not exist, "
              f"exercise row(s) that exercises.txt does not match, or "
              f"reading time(s) that the chapters do not")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
