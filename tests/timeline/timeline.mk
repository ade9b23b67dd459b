# Timelines: one scenario (tests/timeline/scenario.py) played against a
# stage's gcc build under strace, drawn as a swimlane chart.
#
#   make timeline-N    stage N: writes v0.N-*/timeline.svg, prints the text
#                      view (kept with the raw trace in $(BUILD)/timeline/)
#   make timelines     every stage
#   make check-timelines   (part of make test) the strace parser's and the
#                      drawing's unit tests, and each stage's facts from a
#                      run of its own
#
# The checks are check_*.py, not test_*.py, so the socket-test runs of
# make test (pytest tests, on every build) do not pick them up.

TIMELINE_STAGES = $(PRESENT)
TIMELINE = $(PYTHON) tests/timeline/timeline.py --bin-dir $(BUILD)/gcc --out $(BUILD)/timeline
TIMELINE_SERVERS = $(foreach s,$(TIMELINE_STAGES),$(BUILD)/gcc/$(s)/server)
TIMELINE_CHECKS = $(addprefix tests/timeline/,check_strace_log.py check_drawing.py check_stages.py)

TEST_STEPS += check-timelines
.PHONY: timelines check-timelines

timelines: $(TIMELINE_SERVERS)
	@tests/timeline/deps.sh
	@$(TIMELINE) $(TIMELINE_STAGES)

timeline-%: FORCE
	@$(call need_stage,$*)
	@$(MAKE) --no-print-directory $(BUILD)/gcc/$(call stage,$*)/server
	@tests/timeline/deps.sh
	@$(TIMELINE) $(call stage,$*)

check-timelines: $(TIMELINE_SERVERS)
	@tests/timeline/deps.sh
	@echo "== timelines (gcc build): the strace parser, the drawing, every stage's scenario"
	@$(PYTHON) -m pytest -q -p no:cacheprovider $(TIMELINE_CHECKS) \
	    --bin-dir $(BUILD)/gcc $(addprefix --stage ,$(TIMELINE_STAGES))
