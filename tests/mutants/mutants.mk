# Mutants: each tests/mutants/*.patch plants one classic bug in one stage;
# make mutants builds each in a copy of its stage and fails unless that
# stage's socket tests catch every one. MUTANTS=... picks some.

MUTANTS = $(sort $(wildcard tests/mutants/*.patch))
# How each kind of build is made, for the scripts that build a copy of a
# stage themselves: run.py here, and make grade's graders.
BUILD_KINDS_ENV = CC_gcc="$(CC_gcc)" FLAGS_gcc="$(FLAGS_gcc)" \
    CC_asan="$(CC_asan)" FLAGS_asan="$(FLAGS_asan)" \
    CC_tsan="$(CC_tsan)" FLAGS_tsan="$(FLAGS_tsan)" VALGRIND="$(VALGRIND)"

TEST_STEPS += mutants
.PHONY: mutants

mutants:
	@echo "== mutants: every planted bug must fail its stage's tests"
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/mutants/run.py --build $(BUILD) $(MUTANTS)
