# Fuzz targets (libFuzzer): the line framing and the request parser of
# every todo stage, each built from the stage's own sources with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   make fuzz [FUZZ_SECONDS=60]   fuzzes each target, then keeps what it
#                                 found in tests/fuzz/corpus/TARGET/
#   make fuzz-replay              (part of make test) runs each target on
#                                 its seeds and corpus, then fuzzes it
#                                 for FUZZ_TEST_SECONDS
#
# A crash leaves its input in $(BUILD)/fuzz/STAGE/TARGET-crash-*: fix the
# bug in every stage that shares the code, then put the input in
# tests/fuzz/seeds/TARGET/ so that every later run replays it.

FUZZ_TARGETS := line request
FUZZ_STAGES = $(call with_feature,todo)
FUZZ_SECONDS = 60
FUZZ_TEST_SECONDS = 3
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FUZZ_NAMES = $(foreach s,$(FUZZ_STAGES),$(addprefix $(s)/,$(FUZZ_TARGETS)))

TEST_STEPS += fuzz-replay
.PHONY: fuzz fuzz-run fuzz-replay

# $(BUILD)/fuzz/STAGE/TARGET: tests/fuzz/fuzz_TARGET.c with the stage's
# sources, all but server.c (which has main), and -DFEATURE_x for each of
# the stage's features.
$(BUILD)/fuzz/%: tests/fuzz/fuzz_$$(notdir $$*).c \
              $$(wildcard $$(dir $$*)*.[ch]) $(TABLE)
	@mkdir -p $(@D)
	@echo "clang -fsanitize=fuzzer,address,undefined ... -o $@"
	@clang $(FUZZ_CFLAGS) -I$(dir $*) \
	    $(call feature_flags,$(patsubst %/,%,$(dir $*))) -o $@ $< \
	    $(filter-out %/server.c,$(wildcard $(dir $*)*.c))

fuzz:
	@tests/deps.sh >/dev/null
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
	@tests/fuzz/fuzz.sh grow $(FUZZ_SECONDS) $(BUILD) $(FUZZ_NAMES)

fuzz-replay: $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
	@echo "== fuzz targets: seeds, corpus, $(FUZZ_TEST_SECONDS) s of fuzzing each"
	@tests/fuzz/fuzz.sh replay $(FUZZ_TEST_SECONDS) $(BUILD) $(FUZZ_NAMES)
