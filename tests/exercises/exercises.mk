# The exercises (tests/exercises/README.md): `make grade` lists them, `make
# grade EX=N.M` grades one, and `make prove-graders`, a step of make test,
# proves that every grader fails on its stage as shipped and passes on a
# copy of it with the reference solution applied. The exercises that ask
# for a test are graded by testgrading.py, against buggy builds of their
# stage; `make prove-test-exercises`, a step of make test, proves that each
# reference test passes that grade and a test that catches nothing fails it.

EXERCISES := tests/exercises/exercises.txt

.PHONY: grade prove-graders prove-test-exercises

grade:
ifeq ($(strip $(EX)),)
	@awk -F' *[|] *' '!/^#/ && NF > 1 { title = $$5; if ($$4 == "test") \
	    title = "write a test: " tolower(substr(title, 1, 1)) substr(title, 2); \
	    printf "  %-4s %-14s %s (%s)\n", $$1, $$2, title, $$3 }' $(EXERCISES)
	@echo "make grade EX=N.M grades one against its stage folder (DIR=path: a copy"
	@echo "of that folder elsewhere); a \"write a test\" exercise grades your tests in"
	@echo "tests/exercises/mine/test_N_M.py (FILE=path: another file under tests/)."
	@echo "What each asks: tests/exercises/README.md"
else
	@python=$$(tests/deps.sh) || exit 1; \
	$(BUILD_KINDS_ENV) $$python tests/exercises/exercises.py grade $(EX) $(or $(FILE),$(DIR))
endif

TEST_STEPS += prove-graders

prove-graders:
	@command -v patch >/dev/null || { \
	    echo "prove-graders needs patch (Debian: apt-get install patch)"; exit 1; }
	@echo "== exercises: every grader fails on its stage as shipped, passes with its solution"
	@$(PYTHON) tests/exercises/exercises.py prove $(BUILD)/exercises

TEST_STEPS += prove-test-exercises

prove-test-exercises:
	@echo "== exercises that ask for a test: each reference test passes the grade, a test that catches nothing fails it"
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/exercises/exercises.py prove-tests $(BUILD)/test-exercises
