"""The harness, for the tests written in mine/ (exercises 2.3, 4.3, ...:
make start EX=N.M makes mine/N.M/test_N_M.py): pytest reads this file
before a test file here, and it gives them what tests/conftest.py gives
the project's own tests (the fixtures server and start, the options
--stage and --bin-dir) and `from harness import ...`. Your work goes in
the folders beside it, mine/N.M/, one an exercise."""

import importlib.util
import pathlib
import sys

TESTS = pathlib.Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))  # harness.py
_spec = importlib.util.spec_from_file_location("tests_conftest", TESTS / "conftest.py")
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
globals().update({name: value for name, value in vars(_harness).items()
                  if not name.startswith("_")})
