# Crash points: v0.8's todo.c, built with -DCRASH_POINTS, kills a child at
# the step of a change that a test names (tests/test_fork.py), to prove that
# a crash at any step leaves the list as it was or as it is after the change.
# The tested builds have them, inert unless a test names a step; the clang
# build (the warning check) and a stage's own make, the one a reader runs,
# have none.

FLAGS_gcc += -DCRASH_POINTS
FLAGS_asan += -DCRASH_POINTS
FLAGS_tsan += -DCRASH_POINTS
