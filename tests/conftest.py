"""The socket-test harness every stage shares.

A test asks for `server` (or `start`, to choose arguments and environment)
and is run once for every stage whose row in stages.txt has the features
named by its @pytest.mark.stages(...) mark. The harness starts the stage's
real binary on port 0, reads its `listening on` line, and after the test
checks that the server is still alive (unless the test stopped it), stops
it by PID with SIGTERM, expects exit status 0, and fails the test if a
sanitizer reported anything on its standard error.

    pytest tests                               every stage there is
    pytest tests --stage v0.2-loop             one stage
    pytest tests --bin-dir build/asan          binaries built elsewhere
"""

import pathlib
import shlex

import pytest

import tsan
from harness import ROOT, STAGES, Server, finish_all

# ---------------------------------------------------------------- options


def pytest_addoption(parser):
    parser.addoption("--stage", action="append", default=[],
                     help="run this stage only (repeatable); default: every "
                          "stage folder that exists")
    parser.addoption("--bin-dir", default=str(ROOT),
                     help="folder that holds STAGE/server (default: the "
                          "stage folders themselves)")
    parser.addoption("--wrapper", default="",
                     help="a command to run each server under, such as "
                          "'valgrind --leak-check=full --error-exitcode=1'")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "stages(*features): run on every stage that has these features; "
        "'!x' means a stage without feature x")


def chosen_stages(config):
    names = config.getoption("--stage")
    for name in names:
        if name not in STAGES:
            raise pytest.UsageError(f"no stage {name!r} in tests/stages.txt")
    return names or [s for s in STAGES if (ROOT / s).is_dir()]


def has_features(stage, wanted):
    features = STAGES[stage]
    return all(w[1:] not in features if w.startswith("!") else w in features
               for w in wanted)


def pytest_generate_tests(metafunc):
    if "stage" not in metafunc.fixturenames:
        return
    wanted = [f for m in metafunc.definition.iter_markers("stages")
              for f in m.args]
    stages = [s for s in chosen_stages(metafunc.config)
              if has_features(s, wanted)]
    metafunc.parametrize("stage", stages)

# ---------------------------------------------------------------- fixtures


@pytest.fixture
def binary(stage, request):
    path = pathlib.Path(request.config.getoption("--bin-dir")).resolve() / stage / "server"
    if not path.is_file():
        pytest.fail(f"{path} is not built: run 'make' first")
    try:
        tsan.command(path)
    except tsan.CannotRun as problem:  # nothing would run: one sentence says why
        pytest.exit(str(problem), returncode=1)
    return str(path)


@pytest.fixture
def features(stage):
    return STAGES[stage]


@pytest.fixture
def start(binary, features, request):
    """start("0", env={...}, **popen) -> a running `server 0`."""
    servers = []
    wrapper = shlex.split(request.config.getoption("--wrapper"))

    def start(*args, env=None, **popen):
        server = Server(binary, features, args, env, wrapper, **popen)
        servers.append(server)
        return server

    yield start
    finish_all(servers)


@pytest.fixture
def server(start):
    """The stage's server on a free port."""
    return start("0")
