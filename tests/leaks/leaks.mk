# Leak checks: every stage runs its socket tests under Valgrind's memcheck,
# each server stopped by SIGTERM at the end of its test. Its handler calls
# _exit(0), and Valgrind checks for leaks at that exit: a leak, or any
# invalid read or write, makes the exit status 1 and an "ERROR SUMMARY" the
# harness fails the test on. Valgrind follows fork() by itself, so v0.8's
# children are checked too, each at its own exit. The threaded stages run
# here as well: their AddressSanitizer builds cannot do it, because
# LeakSanitizer runs at exit() and not at _exit(), so it never sees a stop.
#
# The tests that run here walk every path where the servers allocate, free
# or close something: the fault tests (resets, floods, random bytes, slow
# readers, no descriptors left), the echo, select and fork tests, and the
# idle timeouts of test_robustness.py. Left out: test_todo.py, whose
# protocol cases run the parser and the list (no allocation there, and
# the fuzz targets check them under AddressSanitizer), and test_cli.py,
# whose argument checks start no server for long.

LEAK_STAGES = $(PRESENT)
LEAK_TESTS = $(addprefix tests/,test_faults.py test_echo.py test_select.py \
                 test_fork.py test_robustness.py)
VALGRIND = valgrind --leak-check=full --error-exitcode=1 \
           --suppressions=$(CURDIR)/tests/leaks/threads.supp

TEST_STEPS += leak-check
.PHONY: leak-check

leak-check: $$(foreach s,$$(LEAK_STAGES),$(BUILD)/gcc/$$(s)/server)
	@command -v valgrind >/dev/null || \
	    { echo "leak-check needs valgrind: apt-get install valgrind"; exit 1; }
	@echo "== socket tests under Valgrind (gcc build): $(LEAK_STAGES)"
	@$(PYTHON) -m pytest -q -p no:cacheprovider $(LEAK_TESTS) \
	    --bin-dir $(BUILD)/gcc $(addprefix --stage ,$(LEAK_STAGES)) \
	    --wrapper "$(VALGRIND)"
