"""loadgen, the load generator of make bench, against a real stage for a
moment: every reply it checks is right, and a wrong one is caught.

The bench itself never runs here: numbers come from make bench, not from
timed tests. These only show that the generator works and checks replies.
"""

import subprocess

import pytest

from harness import ROOT, TIMEOUT

pytestmark = pytest.mark.stages("select")


@pytest.fixture(scope="session")
def loadgen(tmp_path_factory):
    binary = tmp_path_factory.mktemp("bench") / "loadgen"
    subprocess.run(["cc", "-std=c11", "-O2", "-o", str(binary),
                    str(ROOT / "tests" / "bench" / "loadgen.c")],
                   check=True, timeout=60)
    return str(binary)


def run_loadgen(loadgen, server, *args):
    """Runs loadgen against the server; returns its report as a dict."""
    result = subprocess.run([loadgen, *args, str(server.port)],
                            capture_output=True, text=True, timeout=TIMEOUT * 3)
    assert result.returncode == 0, result.stderr
    report = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    report["stderr"] = result.stderr
    return report


def test_loadgen_gets_every_get_and_post_answered_right(server, loadgen):
    report = run_loadgen(loadgen, server, "-c", "20", "-d", "0.5", "-p", "10",
                         "-Q", r"POST/bench_%k=done/status\n",
                         "-A", r"submit success\r\n")
    assert report["errors"] == "0", report
    assert float(report["requests/s"]) > 0
    with server.client() as c:  # the POSTs were sent: their keys are stored
        c.send(b"GET/bench_0/status\n")
        assert c.line() == b"done\r\n"


def test_loadgen_connects_for_each_request_without_errors(server, loadgen):
    report = run_loadgen(loadgen, server, "-n", "-c", "5", "-d", "0.5")
    assert report["mode"] == "connect-per-request"
    assert report["errors"] == "0", report
    assert float(report["requests/s"]) > 0


def test_loadgen_counts_a_wrong_reply_as_a_mismatch(server, loadgen):
    report = run_loadgen(loadgen, server, "-c", "3", "-d", "0.2",
                         "-a", r"see nobody\r\n")
    assert report["errors_mismatch"] == "3"
    assert report["requests"] == "0"
    assert '"see someone\\r\\n"' in report["stderr"]
