# The copies stay copies: tests/copies/copies.txt lists the files several
# stages share, and from which stage to which each must be identical.

TEST_STEPS += copies
.PHONY: copies

copies:
	@echo "== copies: the files the stages share are identical where they must be"
	@$(PYTHON) tests/copies/check.py
