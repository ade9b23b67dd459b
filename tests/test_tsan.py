"""How the tests run a ThreadSanitizer build (tests/tsan.py): under
`setarch -R` where the kernel randomises addresses with more bits than
ThreadSanitizer's layout takes, and otherwise as it is; where setarch -R
is refused, one sentence says what to do.

The kernel's setting cannot be changed without root, so these read a
/proc of their own (tsan.PROC) and a setarch of their own on PATH; the
last starts a real TSan build of each threaded stage the way a kernel
with 32 bits has it started.
"""

import os
import pathlib
import platform

import pytest

import tsan

SETARCH_R = ["setarch", platform.machine(), "-R"]


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """kernel(bits, randomize_va_space=2, personality=0): a /proc that says
    so, for tsan.py to read."""
    def kernel(bits, randomize_va_space=2, personality=0):
        for path, value in [("sys/vm/mmap_rnd_bits", bits),
                            ("sys/kernel/randomize_va_space", randomize_va_space),
                            ("self/personality", f"{personality:08x}")]:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(f"{value}\n")
        monkeypatch.setattr(tsan, "PROC", tmp_path)
        tsan.launcher.cache_clear()

    yield kernel
    tsan.launcher.cache_clear()


@pytest.fixture
def setarch_refused(tmp_path, monkeypatch):
    """A setarch that fails as it does where personality() is refused."""
    fake = tmp_path / "bin" / "setarch"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'setarch: failed to set personality "
                    "to x86_64: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")


def test_with_28_bits_of_randomisation_a_tsan_build_runs_as_it_is(kernel):
    kernel(28)
    assert tsan.launcher() == []


def test_with_32_bits_of_randomisation_a_tsan_build_runs_under_setarch_R(kernel):
    kernel(32)
    assert tsan.launcher() == SETARCH_R


def test_with_randomisation_turned_off_a_tsan_build_runs_as_it_is(kernel):
    kernel(32, randomize_va_space=0)
    assert tsan.launcher() == []


def test_under_setarch_R_already_a_tsan_build_runs_as_it_is(kernel):
    kernel(32, personality=tsan.ADDR_NO_RANDOMIZE)
    assert tsan.launcher() == []


def test_where_setarch_R_is_refused_one_sentence_says_to_set_the_sysctl(
        kernel, setarch_refused):
    kernel(32)
    with pytest.raises(tsan.CannotRun) as refused:
        tsan.launcher()
    said = str(refused.value)
    assert "\n" not in said and said.count(". ") == 0 and said.endswith(".")
    assert "32 bits" in said and "sudo sysctl -w vm.mmap_rnd_bits=28" in said
    assert "FATAL" not in said and "race" not in said


def test_the_script_says_that_sentence_and_runs_nothing(
        kernel, setarch_refused, capsys):
    kernel(32)
    assert tsan.main(["echo", "ran"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("ThreadSanitizer cannot run here: ")


@pytest.mark.stages("threads")
def test_a_tsan_build_started_under_setarch_R_serves_and_stops_by_its_pid(
        binary, start, monkeypatch):
    """What the harness does on a kernel with 32 bits: setarch execs the
    server, so the PID it was started as is the server's own (the harness
    stops it by that PID, and expects exit status 0)."""
    if not tsan.is_tsan_build(binary):
        pytest.skip("not a ThreadSanitizer build")
    monkeypatch.setattr(tsan, "launcher", lambda: SETARCH_R)
    server = start("0")
    personality = pathlib.Path(f"/proc/{server.pid}/personality").read_text()
    assert int(personality, 16) & tsan.ADDR_NO_RANDOMIZE
    server.assert_serves()
