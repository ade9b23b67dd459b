# The exercises (tests/exercises/README.md). Each is done in a folder of
# its own, mine/N.M/: `make start EX=N.M` makes it (a copy of the stage as
# handed out, or for a "write a test" exercise mine/N.M/test_N_M.py, a
# starter file), and never writes over one that exists. `make grade` lists
# the exercises; `make grade EX=N.M` grades mine/N.M/ (DIR=path: a copy of
# its stage folder elsewhere; FILE=path: the test file of a "write a test"
# exercise; QUICK=1: a quick look on a plain build, not the grade); `make
# grade ALL=1` grades every exercise started in mine/ into one table with
# points, each grade in a process of its own stopped after
# EXERCISE_TIMEOUT seconds, its output kept in $(BUILD)/grade/N.M.log.
# `make prove-graders`, a step of make test, proves every grader of a
# server: it fails on its stage as shipped and catches every wrong
# solution; `make prove-graders EX="N.M ..."` proves these graders only,
# and that their reference solutions pass. (make prove-handout, a step of
# make test too, grades every reference solution, in a handout.) The
# exercises that ask for a test are graded by testgrading.py, against
# correct and buggy builds of their stage (builds.txt); `make
# prove-test-exercises`, a step of make test, proves that each reference
# test passes that grade and that tests which catch nothing, or check the
# wrong thing, fail it (EX= proves some only).

EXERCISE_TIMEOUT = 600
GRADE_JOBS = 10

.PHONY: start grade prove-graders prove-test-exercises

start:
	@if [ -z "$(strip $(EX))" ]; then \
	    echo "make start EX=N.M makes mine/N.M/, where you do exercise N.M; make grade lists them"; exit 2; fi
	@$(PYTHON) tests/exercises/exercises.py start $(EX)

grade:
ifneq ($(strip $(ALL)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$(BUILD_KINDS_ENV) $$python tests/exercises/exercises.py all \
	    --logs $(BUILD)/grade --jobs $(GRADE_JOBS) --timeout $(EXERCISE_TIMEOUT)
else ifneq ($(strip $(EX)),)
	@python=$$(tests/deps.sh) || exit 1; \
	$(BUILD_KINDS_ENV) $$python tests/exercises/exercises.py grade $(EX) \
	    $(or $(FILE),$(DIR)) $(if $(QUICK),--quick)
else
	@$(PYTHON) tests/exercises/exercises.py list
	@echo "make start EX=N.M makes mine/N.M/, where you do exercise N.M: a copy of"
	@echo "its stage as handed out, or for a \"write a test\" exercise mine/N.M/test_N_M.py."
	@echo "make grade EX=N.M grades it (DIR=path: a copy of the stage folder elsewhere;"
	@echo "FILE=path: another test file; QUICK=1: a quick look, not the grade)."
	@echo "make grade ALL=1 grades every exercise you started, with points, in one"
	@echo "table. What each asks: tests/exercises/README.md"
endif

TEST_STEPS += prove-graders

prove-graders:
	@command -v patch >/dev/null || { \
	    echo "prove-graders needs patch (Debian: apt-get install patch)"; exit 1; }
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/exercises/exercises.py prove $(BUILD) \
	    $(if $(EX),,--without-references) $(EX)

TEST_STEPS += prove-test-exercises

prove-test-exercises:
	@echo "== exercises that ask for a test: each reference test passes the grade, on every correct and every buggy build; tests that catch nothing, or check the wrong thing, fail it"
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/exercises/exercises.py prove-tests $(EX)
