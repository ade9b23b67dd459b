# The exercises (tests/exercises/README.md). `make grade` lists them;
# `make grade EX=N.M` grades one (DIR=path: a copy of its stage folder;
# QUICK=1: a quick look on a plain build, not the grade); `make grade
# ALL=1` grades them all into one table. `make prove-graders`, a step of
# make test, proves every grader: it fails on its stage as shipped, passes
# with the reference solution, and catches every wrong solution.

# What the grades build with: the Makefile's compilers and flags.
export CC_gcc FLAGS_gcc CC_asan FLAGS_asan CC_tsan FLAGS_tsan

.PHONY: grade prove-graders

grade:
ifneq ($(strip $(ALL)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$$python tests/exercises/exercises.py all
else ifneq ($(strip $(EX)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$$python tests/exercises/exercises.py grade $(EX) $(or $(FILE),$(DIR)) $(if $(QUICK),--quick)
else
	@$(PYTHON) tests/exercises/exercises.py list
	@echo "make grade EX=N.M grades one against its stage folder (DIR=path: a copy"
	@echo "of that folder elsewhere; QUICK=1: a quick look, not the grade);"
	@echo "make grade ALL=1 grades them all into one table."
	@echo "What each asks: tests/exercises/README.md"
endif

TEST_STEPS += prove-graders

prove-graders:
	@command -v patch >/dev/null || { \
	    echo "prove-graders needs patch (Debian: apt-get install patch)"; exit 1; }
	@$(PYTHON) tests/exercises/exercises.py prove $(BUILD) $(EX)
