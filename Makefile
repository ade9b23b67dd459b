# Socket servers in C, in eight stages. `make help` lists what is here.

STAGES := v0.1-blocking v0.2-loop v0.3-threads v0.4-todo v0.5-get \
          v0.6-post v0.7-select v0.8-fork
PRESENT := $(foreach s,$(STAGES),$(if $(wildcard $(s)/Makefile),$(s)))
TABLE := tests/stages.txt

STAGE_NUMBERS := $(shell seq $(words $(STAGES)))
# Stage number $(1)'s folder name; empty unless $(1) is one of the numbers.
stage = $(if $(filter $(1),$(STAGE_NUMBERS)),$(word $(1),$(STAGES)))
# The stage that stage $(1) is diffed against: FROM= if given, else the one
# before it ("none" for the first).
previous = $(if $(FROM),$(call stage,$(FROM)),$(if $(call stage,$(1)),$(word $(1),none $(STAGES))))
# The present stages whose row in tests/stages.txt has feature $(1).
with_feature = $(filter $(shell awk '!/^\#/ { for (i = 2; i <= NF; i++) \
    if ($$i == "$(1)") print $$1 }' $(TABLE)),$(PRESENT))
# -DFEATURE_x for each feature of stage $(1), for its unit tests.
feature_flags = $(shell awk '$$1 == "$(1)" { for (i = 2; i <= NF; i++) \
    printf " -DFEATURE_%s", $$i }' $(TABLE))
# Stops with a plain message unless stage number $(1) has a folder.
need_stage = if [ -z "$(call stage,$(1))" ]; then \
        echo "there is no stage $(1): the stages are 1 to $(words $(STAGES))"; exit 2; \
    elif [ ! -d "$(call stage,$(1))" ]; then \
        echo "stage $(1) ($(call stage,$(1))) does not exist yet"; exit 2; fi

.PHONY: all help clean test FORCE
.SECONDARY:
.SECONDEXPANSION:

all:
	@for s in $(PRESENT); do $(MAKE) --no-print-directory -C $$s || exit 1; done

help:
	@echo "make              builds every stage"
	@echo "make stage-N      builds stage N (1 to 8) and runs it: PORT=9000 ADDRESS=127.0.0.1"
	@echo "make diff-N       what stage N changed from stage N-1 (FROM=M: from stage M)"
	@echo "make test         installs what the tests need, then runs every test: unit and"
	@echo "                  socket tests plain and under the sanitizers, fuzz replay,"
	@echo "                  leak checks, mutants, the exercises' graders"
	@echo "make bench        the design comparison: each todo stage, exercises 7.1, 7.4, 7.5, 8.1,"
	@echo "                  Redis and Python against their design's floor (ONLY=, DIR=)"
	@echo "make start EX=N.M makes mine/N.M/, where exercise N.M is done"
	@echo "make grade        lists the exercises; make grade EX=N.M grades mine/N.M/ (DIR=path);"
	@echo "                  ALL=1 grades every exercise started, with points"
	@echo "make fuzz         runs each fuzz target FUZZ_SECONDS (60) s, keeps what it finds"
	@echo "make mutants      proves each bug planted in tests/mutants/ fails its stage's tests"
	@echo "make leak-check   the socket tests under Valgrind"
	@echo "make test-musl    the socket tests on every stage built with musl, not glibc"
	@echo "make timeline-N   draws stage N serving three clients, from strace, into"
	@echo "                  build/timeline/ (timelines: all; maintainers' timeline-pictures"
	@echo "                  redraws the pictures the chapters show)"
	@echo "make handout      a copy for students (no solutions, no git history), and one"
	@echo "                  GitHub Classroom template per session"
	@echo "make restore-N    puts stage N back as shipped (the folder is saved in build/saved/)"
	@echo "make grade-class  CLASS=folder: grades every student repository in it, into a CSV"
	@echo "make clean        removes what the build made"
	@echo "stages: $(PRESENT)"

stage-%: FORCE
	@$(call need_stage,$*)
	@$(MAKE) --no-print-directory -s -C $(call stage,$*)
	cd $(call stage,$*) && exec ./server $(or $(PORT),9000) $(ADDRESS)

# The chapters (README.md) are left out: each is written whole for its stage.
diff-%: FORCE
	@$(call need_stage,$*)
	@$(if $(FROM),$(call need_stage,$(FROM)))
	@if [ "$(call previous,$*)" = none ]; then \
	    echo "$(call stage,$*) is the first stage: read its server.c"; exit 0; fi; \
	diff -ruNp -x README.md -x timeline.svg -x server -x '*.o' \
	    $(call previous,$*) $(call stage,$*); [ $$? -ne 2 ]

# ------------------------------------------------------------------- tests
#
# Every stage is built four ways under $(BUILD): gcc and clang with -Werror
# (no warnings allowed), clang with AddressSanitizer and UndefinedBehavior-
# Sanitizer, and clang with ThreadSanitizer. The unit tests and socket tests
# run on the gcc build, the asan build and, for the threaded stages, the tsan
# build.

BUILD = build
CC_gcc := gcc
CC_clang := clang
CC_asan := clang
CC_tsan := clang
FLAGS_gcc := -Werror
FLAGS_clang := -Werror
FLAGS_asan := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FLAGS_tsan := -fsanitize=thread
# A ThreadSanitizer build runs under setarch -R where the kernel randomises
# addresses more than it allows (tests/tsan.py); the socket tests' harness
# does the same for every server it starts.
RUN_tsan = $(PYTHON) tests/tsan.py
TESTED_gcc = $(PRESENT)
TESTED_asan = $(PRESENT)
TESTED_tsan = $(call with_feature,threads)

# The Python that has pytest: tests/deps.sh finds it (Debian's
# /usr/bin/python3 when another python3 comes first on PATH).
PYTHON = /usr/bin/python3
UNIT_SOURCES := $(wildcard tests/unit/*.c)
UNIT_CFLAGS = -std=c11 -Wall -Wextra -g -Itests/unit

build_kind = $(word 1,$(subst /, ,$(patsubst $(BUILD)/%,%,$(1))))

# The steps of make test; each tests/*/*.mk adds its own.
TEST_STEPS = test-gcc test-asan test-tsan
include $(wildcard tests/*/*.mk)

# make test first makes the builds several steps share (test-builds: every
# stage built the four ways, with its unit tests), then runs every step,
# TEST_JOBS at a time, the longest first, whatever fails: most of a socket
# test's time is spent waiting for a reply or a timeout, so three steps
# share two cores well (two make tests side by side, four steps at a time
# on 2 cores, each passed in 35 minutes where one alone took 27 under like
# other load). tests/steps.py shows each step's output whole when it
# ends (and keeps it in $(BUILD)/test-logs/), then one line a step: passed
# or failed, and its time. It fails if any step failed.
TEST_JOBS = 3
SLOW_STEPS = leak-check prove-handout test-asan prove-graders prove-test-exercises \
             test-tsan test-gcc mutants
TEST_ORDER = $(filter $(TEST_STEPS),$(SLOW_STEPS)) $(filter-out $(SLOW_STEPS),$(TEST_STEPS))
TEST_BUILDS = $(foreach k,gcc asan tsan,$(foreach s,$(TESTED_$(k)),\
                  $(BUILD)/$(k)/$(s)/server $(BUILD)/$(k)/$(s)/unit)) \
              $(foreach s,$(PRESENT),$(BUILD)/clang/$(s)/server)

.PHONY: test-builds
test:
	@python=$$(tests/deps.sh) || exit 1; \
	$$python tests/steps.py --make "$(MAKE)" --jobs $(TEST_JOBS) \
	    --logs $(BUILD)/test-logs test-builds $(TEST_ORDER)

test-builds: $(TEST_BUILDS)

$(BUILD)/%/server: FORCE
	@mkdir -p $(@D)
	@$(MAKE) --no-print-directory -s -C $(notdir $(@D)) OUT=$(abspath $(@D)) \
	    CC=$(CC_$(call build_kind,$@)) EXTRA_CFLAGS="$(FLAGS_$(call build_kind,$@))"

# A stage's unit tests link tests/unit/*.c with the stage's own sources,
# all but server.c (which has main).
$(BUILD)/%/unit: $(UNIT_SOURCES) $(wildcard tests/unit/*.h) \
              $$(wildcard $$(notdir $$(@D))/*.[ch]) $(TABLE)
	@mkdir -p $(@D)
	$(CC_$(call build_kind,$@)) $(UNIT_CFLAGS) $(FLAGS_$(call build_kind,$@)) \
	    -I$(notdir $(@D)) $(call feature_flags,$(notdir $(@D))) -o $@ \
	    $(UNIT_SOURCES) $(filter-out %/server.c,$(wildcard $(notdir $(@D))/*.c)) \
	    $$(pkg-config --cflags --libs check) -pthread

test-%: $$(foreach s,$$(TESTED_$$*),$(BUILD)/$$*/$$(s)/server $(BUILD)/$$*/$$(s)/unit)
	@for s in $(TESTED_$*); do \
	    echo "== unit tests: $$s ($* build)"; $(RUN_$*) $(BUILD)/$*/$$s/unit || exit 1; done
	@if [ -n "$(TESTED_$*)" ]; then \
	    echo "== socket tests ($* build): $(TESTED_$*)"; \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests --bin-dir $(BUILD)/$* \
	        $(addprefix --stage ,$(TESTED_$*)); fi

clean:
	rm -rf $(BUILD)
	@for s in $(PRESENT); do $(MAKE) --no-print-directory -C $$s clean; done
	rm -f mine/*/server
