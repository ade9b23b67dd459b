# make bench: the design comparison table and chart (tests/bench/bench.py).
#
# Every todo stage is built as a user's `make` builds it (its Makefile's
# -O2), with loadgen (the load generator) and the floors (floor: the
# minimal epoll server; floor-blocking: the minimal thread, process and
# pool servers) beside them in $(BUILD)/bench. The exercises' rows and
# DIR's are built by bench.py, each with its own Makefile.
#
#   make bench                       every row, BENCH_RUNS times each
#   make bench ONLY='v0.8* 8.1*'     some rows (and their designs' floors)
#   make bench DIR=~/mine            one more row: a stage folder elsewhere
#                                    (STAGE=v0.N-name if its server.c does
#                                    not say which; DESIGN=process-pool ...)
#   make bench BENCH_SCENARIOS=be    some scenarios
#
# A whole run writes tests/bench/results.md and results.svg; a run of some
# rows or scenarios, or with DIR, writes them in $(BUILD)/bench instead.
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
    $(if $(STAGE),--dir-stage $(STAGE)) $(if $(DESIGN),--dir-design $(DESIGN))

.PHONY: bench build-bench bench-smoke

# Redis is installed for a whole run only: a run of some rows skips it.
bench: $(BENCH_DIR)/loadgen $(addprefix $(BENCH_DIR)/,$(FLOORS)) \
       $(foreach s,$(BENCH_STAGES),$(BENCH_DIR)/$(s)/server)
	@$(if $(ONLY),,tests/bench/deps.sh)
	/usr/bin/python3 tests/bench/bench.py $(BENCH_ARGS) $(BENCH_FLAGS)

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
# every floor for a moment, once; any failed cell or error fails it.
bench-smoke:
	@echo "== make bench DIR=v0.7-select, for a moment"
	@mkdir -p $(BENCH_DIR)
	@$(MAKE) --no-print-directory bench DIR=v0.7-select ONLY='dir:* floor-*' \
	    BENCH_SECONDS=0.2 BENCH_RUNS=1 BENCH_SCENARIOS=be BENCH_FLAGS="--strict --retries 0" \
	    > $(BENCH_DIR)/smoke.log 2>&1 || { cat $(BENCH_DIR)/smoke.log; exit 1; }
	@tail -n 1 $(BENCH_DIR)/smoke.log

TEST_STEPS += build-bench bench-smoke
