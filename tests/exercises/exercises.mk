# The exercises (tests/exercises/README.md): `make grade` lists them, `make
# grade EX=N.M` grades one, and `make prove-graders`, a step of make test,
# proves that every grader fails on its stage as shipped and passes on a
# copy of it with the reference solution applied.

EXERCISES := tests/exercises/exercises.txt

.PHONY: grade prove-graders

grade:
ifeq ($(strip $(EX)),)
	@awk -F' *[|] *' '!/^#/ && NF > 1 { printf "  %-4s %-14s %s (%s)\n", $$1, $$2, $$4, $$3 }' $(EXERCISES)
	@echo "make grade EX=N.M grades one against its stage folder (DIR=path: a copy"
	@echo "of that folder elsewhere); what each asks: tests/exercises/README.md"
else
	@python=$$(tests/deps.sh) || exit 1; \
	$$python tests/exercises/exercises.py grade $(EX) $(DIR)
endif

TEST_STEPS += prove-graders

prove-graders:
	@command -v patch >/dev/null || { \
	    echo "prove-graders needs patch (Debian: apt-get install patch)"; exit 1; }
	@echo "== exercises: every grader fails on its stage as shipped, passes with its solution"
	@$(PYTHON) tests/exercises/exercises.py prove $(BUILD)/exercises
