"""The tests that `make grade` runs on one stage each: the students' own
(mine/) and the reference tests (solutions/). make test's socket tests,
which run on every stage, leave them out; a file named on pytest's command
line is collected all the same."""

collect_ignore = ["mine", "solutions"]
