# The exercises (tests/exercises/README.md). `make grade` lists them;
# `make grade EX=N.M` grades one (DIR=path: a copy of its stage folder;
# FILE=path: the test file of a "write a test" exercise; QUICK=1: a quick
# look on a plain build, not the grade); `make grade ALL=1` grades them
# all into one table. `make prove-graders`, a step of make test, proves
# every grader of a server: it fails on its stage as shipped, passes with
# the reference solution, and catches every wrong solution. The exercises
# that ask for a test are graded by testgrading.py, against correct and
# buggy builds of their stage (builds.txt); `make prove-test-exercises`, a
# step of make test, proves that each reference test passes that grade and
# that tests which catch nothing, or check the wrong thing, fail it (EX=
# proves some only).

.PHONY: grade prove-graders prove-test-exercises

grade:
ifneq ($(strip $(ALL)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$(BUILD_KINDS_ENV) $$python tests/exercises/exercises.py all
else ifneq ($(strip $(EX)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$(BUILD_KINDS_ENV) $$python tests/exercises/exercises.py grade $(EX) \
	    $(or $(FILE),$(DIR)) $(if $(QUICK),--quick)
else
	@$(PYTHON) tests/exercises/exercises.py list
	@echo "make grade EX=N.M grades one against its stage folder (DIR=path: a copy"
	@echo "of that folder elsewhere; QUICK=1: a quick look, not the grade); a \"write"
	@echo "a test\" exercise grades your tests in mine/N.M/test_N_M.py (FILE=path:"
	@echo "another file). make grade ALL=1 grades them all into one table. What"
	@echo "each asks: tests/exercises/README.md"
endif

TEST_STEPS += prove-graders

prove-graders:
	@command -v patch >/dev/null || { \
	    echo "prove-graders needs patch (Debian: apt-get install patch)"; exit 1; }
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/exercises/exercises.py prove $(BUILD) $(EX)

TEST_STEPS += prove-test-exercises

prove-test-exercises:
	@echo "== exercises that ask for a test: each reference test passes the grade, on every correct and every buggy build; tests that catch nothing, or check the wrong thing, fail it"
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/exercises/exercises.py prove-tests $(EX)
