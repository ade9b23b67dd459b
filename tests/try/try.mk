# The chapters' sessions, played: each ```session block of a chapter
# (v0.N-name/README.md) is played by tests/try/sessions.py against a fresh
# server on a free port.
#
#   make try-N          builds stage N with its own Makefile, plays its
#                       chapter's sessions and prints them as the page does
#   make check-sessions (part of make test) plays every chapter's sessions
#                       on the gcc builds and fails, with FILE:LINE, where
#                       a page shows what its stage does not do; then plays
#                       copies of two chapters with a line changed, in
#                       $(BUILD)/try, which must fail (check_teeth.py): a
#                       few seconds in all
#   make check-commands (part of make test) no Markdown file finds a
#                       process by its name (pgrep, pkill, killall), and the
#                       chapters' commands name the port $PORT

TEST_STEPS += check-sessions check-commands
.PHONY: check-sessions check-commands

try-%: FORCE
	@$(call need_stage,$*)
	@$(MAKE) --no-print-directory -s -C $(call stage,$*)
	@$(PYTHON) tests/try/sessions.py play --server $(call stage,$*)/server \
	    $(call stage,$*)/README.md

check-sessions: $(foreach s,$(PRESENT),$(BUILD)/gcc/$(s)/server)
	@echo "== the chapters' sessions are what their stages do"
	@$(PYTHON) tests/try/sessions.py check --bin-dir $(BUILD)/gcc $(PRESENT)
	@echo "== and a page changed where its stage does not agree fails"
	@$(PYTHON) tests/try/check_teeth.py --bin-dir $(BUILD)/gcc --out $(BUILD)/try

check-commands:
	@echo "== no command in a document finds a process by its name; the chapters say \$$PORT"
	@$(PYTHON) tests/try/check_commands.py
