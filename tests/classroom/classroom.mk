# The course's side of the repository (TEACHING.md tells a teacher how to
# use it):
#
#   make handout           a copy for students: the last commit, without
#                          tests/exercises/solutions/, teachers/ and git
#                          history, and without the names of the tests
#                          that catch the mutants (tests/classroom/
#                          answers.py), as a folder and a tarball in
#                          $(HANDOUT_DIR); its autograding workflow moved
#                          to .github/workflows/; the stages as shipped
#                          kept in tests/classroom/stages.tar.gz
#   make check-handout     (part of make test) a fresh handout holds no
#                          test a mutant's header names and no teachers'
#                          note (answers.py check says what it looks for)
#   make restore-N         puts stage N back as shipped, after saving the
#                          folder as it is to v0.N-name-saved-DATE.tar.gz;
#                          from tests/classroom/stages.tar.gz in a handout,
#                          from the last commit in the git repository
#   make classroom-workflow  rewrites .github/classroom/classroom.yml from
#                          tests/exercises/exercises.txt
#   make check-classroom   (part of make test) the autograding workflow
#                          matches the exercises, the workflows run only
#                          commands the README and TEACHING.md give, and
#                          every workflow passes a schema validator
#                          (@action-validator/cli, installed with npm into
#                          $(BUILD)/npm; skipped, saying so, without npm)

HANDOUT_NAME = socket-servers
HANDOUT_DIR = $(BUILD)/handout
HANDOUT = $(HANDOUT_DIR)/$(HANDOUT_NAME)
PRISTINE = tests/classroom/stages.tar.gz
CLASSROOM_WORKFLOW = .github/classroom/classroom.yml
ACTION_VALIDATOR = @action-validator/cli@0.6.0
NPM_DIR = $(BUILD)/npm

.PHONY: handout classroom-workflow check-classroom check-handout
TEST_STEPS += check-classroom check-handout

handout:
	@git rev-parse --verify -q HEAD >/dev/null || { \
	    echo "make handout copies the last commit: run it in the git repository"; exit 2; }
	@[ -z "$$(git status --porcelain)" ] || echo "make handout: the uncommitted" \
	    "changes are left out: the handout is the last commit, $$(git rev-parse --short HEAD)"
	@rm -rf $(HANDOUT) $(HANDOUT).tar.gz && mkdir -p $(HANDOUT)
	@git archive HEAD | tar -x -C $(HANDOUT)
	@rm -rf $(HANDOUT)/tests/exercises/solutions $(HANDOUT)/teachers
	@$(PYTHON) tests/classroom/answers.py strip $(HANDOUT) >/dev/null
	@mv $(HANDOUT)/$(CLASSROOM_WORKFLOW) $(HANDOUT)/.github/workflows/
	@rmdir $(HANDOUT)/$(dir $(CLASSROOM_WORKFLOW))
	@git archive HEAD $(STAGES) | gzip -n > $(HANDOUT)/$(PRISTINE)
	@tar -czf $(HANDOUT).tar.gz -C $(HANDOUT_DIR) $(HANDOUT_NAME)
	@echo "make handout: $(HANDOUT)/ and $(HANDOUT).tar.gz"
	@echo "  the last commit without tests/exercises/solutions/ and without git history;"
	@echo "  TEACHING.md says how to hand it out"

restore-%: FORCE
	@$(call need_stage,$*)
	@stage=$(call stage,$*); saved=$$stage-saved-$$(date +%Y%m%d-%H%M%S).tar.gz; \
	if [ -f $(PRISTINE) ]; then shipped="tar -xzf $(PRISTINE) $$stage"; \
	elif git rev-parse --verify -q HEAD >/dev/null 2>&1; then \
	    shipped="git archive HEAD $$stage | tar -x"; \
	else echo "make restore-$*: no $(PRISTINE) and no git repository:" \
	    "nothing to restore $$stage from"; exit 2; fi; \
	tar -czf $$saved $$stage && rm -rf $$stage && eval "$$shipped" && \
	echo "make restore-$*: $$stage is back as shipped; the folder as it was is in $$saved"

check-handout:
	@echo "== handout: no test a mutant's header names, no teachers' note"
	@if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then \
	    echo "check-handout: skipped, there is no git repository to make a handout from"; \
	elif [ ! -d tests/exercises/solutions ]; then \
	    echo "check-handout: skipped, there is no tests/exercises/solutions/ (a copy handed to students has none)"; \
	else \
	    $(MAKE) --no-print-directory -s handout HANDOUT_DIR=$(abspath $(BUILD))/handout-check >/dev/null && \
	    $(PYTHON) tests/classroom/answers.py check $(BUILD)/handout-check/$(HANDOUT_NAME) && \
	    if $(PYTHON) tests/classroom/answers.py check . >/dev/null; then \
	        echo "check-handout: the check finds nothing in the repository itself, which holds them all"; exit 1; \
	    else echo "answers: and it finds them in the repository itself"; fi; \
	fi

classroom-workflow:
	$(PYTHON) tests/classroom/classroom.py workflow > $(CLASSROOM_WORKFLOW)

check-classroom:
	@echo "== classroom: the autograding workflow, the workflows' commands and schema"
	@$(PYTHON) tests/classroom/classroom.py check
	@if ! command -v npm >/dev/null; then \
	    echo "classroom: the workflows' schema check skipped: there is no npm (Debian: apt-get install npm)"; \
	else \
	    [ -x $(NPM_DIR)/node_modules/.bin/action-validator ] || \
	        npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent $(ACTION_VALIDATOR) || { \
	        echo "classroom: npm could not install $(ACTION_VALIDATOR) into $(NPM_DIR)"; exit 1; }; \
	    for f in .github/workflows/*.yml $(wildcard $(CLASSROOM_WORKFLOW)); do \
	        $(NPM_DIR)/node_modules/.bin/action-validator $$f || exit 1; done; \
	    echo "classroom: every workflow passes action-validator's schema check"; \
	fi
