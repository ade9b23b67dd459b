# The documentation names tests (tests/FILE.py::NAME in the Markdown files,
# "Caught by:" in the mutants' headers): check-references fails with the
# file, the line and the name of any that is not a real test. It reads the
# test files with Python's ast and runs no test: well under a second.

TEST_STEPS += check-references
.PHONY: check-references

check-references:
	@echo "== the tests the documentation names exist"
	@$(PYTHON) tests/references/check.py
