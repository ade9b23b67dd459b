"""A test of exercise 4.3 that its grade must refuse: it sends no request.
It looks for the sources the server was built from, near its binary, and
fails if they differ from v0.4's.

Graded where a build leaves its sources beside its binary (as a grade
once did), it passes on v0.4 as shipped and fails on every buggy build.
The grade copies each binary alone to a folder of its own and removes
the build's folder before any test runs: the test then finds nothing to
compare, passes everywhere and catches nothing. (Were the sources found,
the correct builds written differently would fail it too.)

What its grade must say:
    misses one-reply-per-read
    misses the-end-of-a-read-ends-a-request
    misses each-read-answered-once
    passes on lines-read-through-stdio
    passes on newlines-counted-in-large-reads
"""

import pathlib

from harness import ROOT


def sources_near(binary, stage):
    """A folder named for the stage, with a server.c, within three levels
    of the binary, other than the stage's own folder; None if none."""
    for folder in list(pathlib.Path(binary).parents)[:3]:
        for found in folder.rglob(f"{stage}/server.c"):
            if found.parent != ROOT / stage:
                return found.parent
    return None


def test_the_server_is_built_from_the_stage_as_shipped(binary, stage):
    sources = sources_near(binary, stage)
    if sources is None:
        return  # nothing to compare with
    changed = [f.name for f in sorted((ROOT / stage).glob("*.[ch]"))
               if (sources / f.name).read_bytes() != f.read_bytes()]
    assert not changed, (
        f"expected the server built from {stage} as shipped; these files "
        f"differ in {sources}: {', '.join(changed)}")
