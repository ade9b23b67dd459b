# make bench: the design comparison table and chart (the Python package in
# tests/bench: its README.md says which module does what).
#
# Every todo stage is built as a user's `make` builds it (its Makefile's
# -O2), with loadgen (the load generator) and the floors (floor: the
# minimal epoll server; floor-blocking: the minimal thread, process and
# pool servers) beside them in $(BUILD)/bench. The exercises' rows and
# DIR's are built by the bench, each with its own Makefile.
#
#   make bench                       every row, BENCH_RUNS times each
#   make bench ONLY='v0.8* 8.1*'     some rows (and their designs' floors)
#   make bench DIR=~/mine            one more row: a stage folder elsewhere
#                                    (STAGE=v0.N-name if its server.c does
#                                    not say which; DESIGN=process-pool ...)
#   make bench BENCH_SCENARIOS=be    some scenarios
#   make bench RENDER=build/bench/results.json
#                                    measures nothing: draws results.md and
#                                    results.svg again from a run's cells
#
# make bench writes results.md, results.svg and results.json (every run of
# every cell) in $(BUILD)/bench, and changes no file of the repository.
# For maintainers: `make bench-results` measures every row and writes the
# committed tests/bench/results.* (about 5 minutes; run it on a machine no
# other program is using: a cell measured while one is busy is marked !),
# and `make bench-quotes` copies its tables into the chapters.
# make test builds the tools with gcc and clang under -Werror, and runs
# `make bench DIR=v0.7-select` for a moment (bench-smoke).

BENCH_DIR = $(BUILD)/bench
BENCH_SECONDS = 0.5
BENCH_RUNS = 3
BENCH_SCENARIOS = abcdef
CC_bench := gcc
FLAGS_bench :=
BENCH_CFLAGS = -std=c11 -Wall -Wextra -Wpedantic -O2 -g
# The floors answer with v0.7-select's own framing, list and replies.
FLOOR_STAGE = v0.7-select
FLOOR_LIBRARY = $(filter-out %/server.c,$(wildcard $(FLOOR_STAGE)/*.c))
FLOORS = floor floor-blocking
BENCH_STAGES = $(call with_feature,todo)
BENCH_ARGS = --bin-dir $(BENCH_DIR) --seconds $(BENCH_SECONDS) \
    --runs $(BENCH_RUNS) --scenarios $(BENCH_SCENARIOS) \
    $(if $(ONLY),--only '$(ONLY)') $(if $(DIR),--dir '$(DIR)') \
    $(if $(STAGE),--dir-stage $(STAGE)) $(if $(DESIGN),--dir-design $(DESIGN)) \
    $(if $(RENDER),--render '$(RENDER)')
BENCH_PYTHON = PYTHONPATH=tests$${PYTHONPATH:+:$$PYTHONPATH} /usr/bin/python3 -m bench

.PHONY: bench bench-results bench-quotes build-bench bench-smoke

# Redis is installed for a whole run only: a run of some rows skips it.
bench: $(BENCH_DIR)/loadgen $(addprefix $(BENCH_DIR)/,$(FLOORS)) \
       $(foreach s,$(BENCH_STAGES),$(BENCH_DIR)/$(s)/server)
	@$(if $(ONLY)$(RENDER),,tests/bench/deps.sh)
	$(BENCH_PYTHON) $(BENCH_ARGS) $(BENCH_FLAGS)

# For maintainers: every row and scenario, into the committed results;
# then bench-quotes copies results.md's tables into the chapters (check the
# numbers their text quotes by hand).
bench-results:
	@$(MAKE) --no-print-directory bench BENCH_FLAGS="--whole --out tests/bench $(BENCH_FLAGS)"

bench-quotes:
	$(BENCH_PYTHON).quotes

$(BENCH_DIR)/loadgen: tests/bench/loadgen.c
	@mkdir -p $(@D)
	$(CC_bench) $(BENCH_CFLAGS) -Werror -o $@ $<

$(BENCH_DIR)/floor: tests/bench/floor.c
$(BENCH_DIR)/floor-blocking: tests/bench/floor_blocking.c
$(addprefix $(BENCH_DIR)/,$(FLOORS)): $(FLOOR_LIBRARY) $(wildcard $(FLOOR_STAGE)/*.h)
	@mkdir -p $(@D)
	$(CC_bench) $(BENCH_CFLAGS) -Werror -I$(FLOOR_STAGE) -o $@ \
	    $(filter %.c,$^) -pthread

# In make test: the tools compile without a warning under gcc and clang.
build-bench: $(BENCH_DIR)/loadgen $(addprefix $(BENCH_DIR)/,$(FLOORS))
	clang $(BENCH_CFLAGS) -Werror -fsyntax-only tests/bench/loadgen.c
	clang $(BENCH_CFLAGS) -Werror -fsyntax-only -I$(FLOOR_STAGE) \
	    tests/bench/floor.c tests/bench/floor_blocking.c

# In make test: make bench with a stage folder as DIR, measured against
# every floor for a moment, once; any failed cell or error fails it. And
# the chapters quote results.md's tables as they are.
bench-smoke:
	@$(BENCH_PYTHON).quotes --check
	@echo "== make bench DIR=v0.7-select, for a moment"
	@mkdir -p $(BENCH_DIR)
	@$(MAKE) --no-print-directory bench DIR=v0.7-select ONLY='dir:* floor-*' \
	    BENCH_SECONDS=0.2 BENCH_RUNS=1 BENCH_SCENARIOS=be BENCH_FLAGS="--strict --retries 0" \
	    > $(BENCH_DIR)/smoke.log 2>&1 || { cat $(BENCH_DIR)/smoke.log; exit 1; }
	@tail -n 1 $(BENCH_DIR)/smoke.log

TEST_STEPS += build-bench bench-smoke
