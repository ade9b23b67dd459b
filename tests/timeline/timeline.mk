# Timelines: one scenario (tests/timeline/scenario.py) played against a
# stage's gcc build under strace, drawn as a swimlane chart.
#
#   make timeline-N    stage N: draws $(BUILD)/timeline/STAGE.svg and prints
#                      the text view (kept beside it with the raw trace)
#   make timelines     every stage, the same way
#   make check-timelines   (part of make test) the strace parser's and the
#                      drawing's unit tests, each stage's facts from a run
#                      of its own, and the pictures the chapters show
#   make timeline-pictures   for maintainers: records every stage and
#                      copies each picture into its folder, STAGE/timeline.svg,
#                      the one its chapter shows. Run it on a quiet machine.
#
# Nothing a reader runs writes outside $(BUILD). A stage whose threads share
# the list under a lock (v0.6) is recorded from a build of its own,
# $(BUILD)/held/STAGE/server, with tests/timeline/hold_lock.c linked in:
# a thread that stores a POST keeps the lock until another waits for it.
# The stage's own make, the tests and the graders never see that file.
#
# The checks are check_*.py, not test_*.py, so the socket-test runs of
# make test (pytest tests, on every build) do not pick them up.

TIMELINE_STAGES = $(PRESENT)
HELD_STAGES = $(filter $(call with_feature,post),$(call with_feature,threads))
TIMELINE_OUT = $(BUILD)/timeline
TIMELINE = $(PYTHON) tests/timeline/timeline.py --bin-dir $(BUILD)/gcc --out $(TIMELINE_OUT)
timeline_servers = $(foreach s,$(1),$(BUILD)/gcc/$(s)/server \
    $(if $(filter $(s),$(HELD_STAGES)),$(BUILD)/held/$(s)/server))
TIMELINE_CHECKS = $(addprefix tests/timeline/,check_strace_log.py check_drawing.py \
    check_stages.py check_pictures.py)
HOLD_LOCK = tests/timeline/hold_lock.c
HOLD_FLAGS = -Werror -Wl,--wrap=todo_put,--wrap=pthread_mutex_lock $(abspath $(HOLD_LOCK))

TEST_STEPS += check-timelines
.PHONY: timelines check-timelines timeline-pictures

# The stage's own Makefile does not know of hold_lock.c: a binary older
# than it is removed, so that the stage's make builds it again.
$(BUILD)/held/%/server: $(HOLD_LOCK) FORCE
	@mkdir -p $(@D)
	@if [ $(HOLD_LOCK) -nt $@ ]; then rm -f $@; fi
	@$(MAKE) --no-print-directory -s -C $* OUT=$(abspath $(@D)) CC=gcc \
	    EXTRA_CFLAGS="$(HOLD_FLAGS)"

timelines: $(call timeline_servers,$(TIMELINE_STAGES))
	@tests/timeline/deps.sh
	@$(TIMELINE) $(TIMELINE_STAGES)

timeline-%: FORCE
	@$(call need_stage,$*)
	@$(MAKE) --no-print-directory $(call timeline_servers,$(call stage,$*))
	@tests/timeline/deps.sh
	@$(TIMELINE) $(call stage,$*)

timeline-pictures: timelines
	@for s in $(TIMELINE_STAGES); do \
	    cp $(TIMELINE_OUT)/$$s.svg $$s/timeline.svg && echo "$$s/timeline.svg"; done

check-timelines: $(call timeline_servers,$(TIMELINE_STAGES))
	@tests/timeline/deps.sh
	@echo "== timelines (gcc build): the strace parser, the drawing, every stage's scenario"
	@$(PYTHON) -m pytest -q -p no:cacheprovider $(TIMELINE_CHECKS) \
	    --bin-dir $(BUILD)/gcc $(addprefix --stage ,$(TIMELINE_STAGES))
