"""Keeps the answers out of the copy handed to students.

    answers.py strip HANDOUT   removes what would answer an exercise from
                               a copy made by make handout: the "Caught by:"
                               line of every mutant's header, which names
                               the test that catches the bug (the answer to
                               an exercise that asks for that test)
    answers.py check HANDOUT   fails, saying where, if the copy still holds
                               an answer or a teachers' note

`make handout` runs `strip`; `make check-handout`, a step of make test,
makes a fresh handout and runs `check` on it. What `check` looks for, in
every text file of the copy:

- a "Caught by:" line in a patch's header;
- the name of a test that a mutant's header names here (in the
  repository), or that a reference test of tests/exercises/solutions/
  defines: outside the test files themselves (tests/**/*.py, which make
  test runs) and the stages' chapters (v0.*/README.md, which teach from
  the project's tests, naming them where the lesson is);
- a teachers' note: teachers/ or tests/exercises/solutions/ themselves, or
  the name or the description of a wrong solution, a build kept for the
  class's grade, or a bad test (all in tests/exercises/solutions/).
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SOLUTIONS = ROOT / "tests" / "exercises" / "solutions"
MUTANTS = ROOT / "tests" / "mutants"
CAUGHT_BY = re.compile(r"^Caught by:.*\n(?:[ \t]+\S.*\n)*", re.M)


def header(patch):
    """The text of a patch before its first empty line."""
    return patch.read_text(errors="replace").split("\n\n", 1)[0]


def strip(handout):
    """Removes the "Caught by:" lines (and their continuations) from the
    header of every patch in the handout."""
    stripped = 0
    for patch in sorted(handout.rglob("*.patch")):
        text = patch.read_text()
        head, blank, rest = text.partition("\n\n")
        new = CAUGHT_BY.sub("", head + "\n").rstrip("\n")
        if new != head:
            patch.write_text(new + blank + rest)
            stripped += 1
    print(f"answers: the tests that catch them left out of {stripped} "
          f"patches' headers")
    return 0


def field(patch, name):
    match = re.search(rf"^{name}:\s*(.+)$", header(patch), re.M)
    return match[1].strip() if match else None


def answers():
    """{text that must not be in the handout: what it is}."""
    found = {}
    for patch in sorted(MUTANTS.rglob("*.patch")):
        test = field(patch, "Caught by")
        if test:
            found[test] = f"the test that catches {patch.stem}"
    for reference in sorted(SOLUTIONS.glob("test_*.py")):
        for test in re.findall(r"^def (test_\w+)", reference.read_text(), re.M):
            found[test] = f"a test of {reference.name}"
    return found


def notes():
    """{text that must not be in the handout: what it is}: the names and
    descriptions of what tests/exercises/solutions/ holds for teachers."""
    found = {}
    for patch in sorted(SOLUTIONS.rglob("*.patch")):
        if patch.parent == SOLUTIONS:
            continue  # a reference solution, named N.M.patch
        name = re.sub(r"^\d+\.\d+-", "", patch.stem)
        found[name] = f"the name of {patch.relative_to(ROOT)}"
        for key in ("Mistake", "Mutant", "Correct"):
            described = field(patch, key)
            if described:
                found[described] = f"the description of {patch.relative_to(ROOT)}"
    for bad in sorted((SOLUTIONS / "bad").glob("*.py")):
        found[bad.stem] = f"the name of {bad.relative_to(ROOT)}"
    return found


def where_allowed(relative):
    """Files where a test's name is no answer: the test files, and the
    chapters, which teach from the project's tests."""
    return (relative.suffix == ".py" and relative.parts[0] == "tests") or \
        (relative.name == "README.md" and re.match(r"v\d", relative.parts[0]))


def text_files(handout):
    """(path relative to handout, text) for every text file but what a
    build or git leaves."""
    for path in sorted(handout.rglob("*")):
        relative = path.relative_to(handout)
        if relative.parts[0] in ("build", ".git") or "__pycache__" in relative.parts:
            continue
        if path.is_file() and not path.name.endswith((".gz", ".svg", ".png")):
            try:
                yield path.relative_to(handout), path.read_text()
            except UnicodeDecodeError:
                continue


def check(handout):
    """Prints every answer or teachers' note found in the handout; returns
    the exit status."""
    problems = [f"{place}: a teachers' folder" for place in
                ("teachers", "tests/exercises/solutions")
                if (handout / place).exists()]
    tests, teachers = answers(), notes()
    if not tests or not teachers or not any(handout.rglob("*.patch")):
        problems.append("nothing to look for, or nowhere to look: run it in "
                        "the repository, on a copy made by make handout")
    for relative, text in text_files(handout):
        if relative.suffix == ".patch" and CAUGHT_BY.search(header(handout / relative)):
            problems.append(f"{relative}: its header names the test that catches it")
        for words, what in tests.items():
            if not where_allowed(relative) and re.search(rf"\b{words}\b", text):
                problems.append(f"{relative}: {words} ({what})")
        for words, what in teachers.items():
            if words in text:
                problems.append(f"{relative}: {words!r} ({what})")
    for problem in problems:
        print(f"answers: {problem}", flush=True)
    if problems:
        print(f"answers: {len(problems)} answer(s) or teachers' note(s) in "
              f"{handout}")
        return 1
    print(f"answers: no test a mutant's header names and no teachers' note in "
          f"{handout} ({len(tests)} test names and {len(teachers)} notes "
          f"looked for)")
    return 0


def main(args):
    if len(args) == 2 and args[0] in ("strip", "check"):
        handout = pathlib.Path(args[1]).resolve()
        return (strip if args[0] == "strip" else check)(handout)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
