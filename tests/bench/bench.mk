# make bench: the design comparison table and chart (tests/bench/bench.py).
#
# Every todo stage is built as a user's `make` builds it (its Makefile's
# -O2), with loadgen (the load generator) and floor (the minimal epoll
# server) beside them in $(BUILD)/bench. make test builds the two tools with
# gcc and clang under -Werror, so a warning in them fails it; the bench
# itself never runs in make test (tests/test_bench_smoke.py drives loadgen
# for a second).

BENCH_DIR = $(BUILD)/bench
BENCH_SECONDS = 2
CC_bench := gcc
FLAGS_bench :=
BENCH_CFLAGS = -std=c11 -Wall -Wextra -Wpedantic -O2 -g
# floor answers with v0.7-select's own framing, list and replies.
FLOOR_STAGE = v0.7-select
FLOOR_SOURCES = tests/bench/floor.c $(filter-out %/server.c,$(wildcard $(FLOOR_STAGE)/*.c))
BENCH_STAGES = $(call with_feature,todo)

.PHONY: bench build-bench

bench: $(BENCH_DIR)/loadgen $(BENCH_DIR)/floor \
       $(foreach s,$(BENCH_STAGES),$(BENCH_DIR)/$(s)/server)
	@tests/bench/deps.sh
	/usr/bin/python3 tests/bench/bench.py --bin-dir $(BENCH_DIR) --seconds $(BENCH_SECONDS)

$(BENCH_DIR)/loadgen: tests/bench/loadgen.c
	@mkdir -p $(@D)
	$(CC_bench) $(BENCH_CFLAGS) -Werror -o $@ $<

$(BENCH_DIR)/floor: $(FLOOR_SOURCES) $(wildcard $(FLOOR_STAGE)/*.h)
	@mkdir -p $(@D)
	$(CC_bench) $(BENCH_CFLAGS) -Werror -I$(FLOOR_STAGE) -o $@ $(FLOOR_SOURCES)

# In make test: both tools compile without a warning under gcc and clang.
build-bench: $(BENCH_DIR)/loadgen $(BENCH_DIR)/floor
	clang $(BENCH_CFLAGS) -Werror -fsyntax-only tests/bench/loadgen.c
	clang $(BENCH_CFLAGS) -Werror -fsyntax-only -I$(FLOOR_STAGE) tests/bench/floor.c

TEST_STEPS += build-bench
