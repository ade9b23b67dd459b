# The documentation names tests (tests/FILE.py::NAME in the Markdown files,
# "Caught by:" in the mutants' headers): check-references fails with the
# file, the line and the name of any that is not a real test. It reads the
# test files with Python's ast and runs no test. It also checks the tables
# of exercises against exercises.txt, and TEACHING.md's reading times
# against each chapter's words and make diff-N: about 3 s, most of it the
# eight make diff-N.

TEST_STEPS += check-references
.PHONY: check-references

check-references:
	@echo "== the tests the documentation names exist"
	@$(PYTHON) tests/references/check.py
