# The course's side of the repository (TEACHING.md tells a teacher how to
# use it). Everything these targets write goes under $(BUILD), but for
# restore-N, whose work is to put a stage folder back.
#
#   make handout           the copy for students, from the last commit,
#                          without tests/exercises/solutions/, teachers/,
#                          this repository's CI and git history, and
#                          without the names of the tests that catch the
#                          mutants (tests/classroom/answers.py), as a
#                          folder and a tarball in $(HANDOUT_DIR); with
#                          it, one GitHub Classroom template per session,
#                          $(HANDOUT_NAME)-session-N/, whose autograding
#                          grades that session's exercises; the stages as
#                          handed out kept in tests/classroom/stages.tar.gz
#   make check-handout     (part of make test) a fresh handout holds no
#                          test a mutant's header names and no teachers'
#                          note (answers.py check says what it looks for)
#   make restore-N         puts stage N back as handed out, after saving
#                          the folder in $(BUILD)/saved/ (nothing is saved
#                          or changed if it is as handed out); from
#                          tests/classroom/stages.tar.gz in a handout, from
#                          the last commit in the git repository
#   make check-work        what a student's repository must pass, whatever
#                          exercise is done (its Check workflow runs it):
#                          the stages as handed out, and built; each
#                          exercise started in mine/ built or compiled
#   make classroom-workflows  writes every workflow the handouts carry
#                          into $(BUILD)/classroom/, to read
#   make check-classroom   (part of make test) the workflows run only
#                          commands the README and TEACHING.md give, and
#                          every one, this repository's and the handouts',
#                          passes a schema validator (@action-validator/cli,
#                          installed with npm into $(BUILD)/npm; skipped,
#                          saying so, without npm)
#   make grade-class CLASS=folder [CSV=file] [SESSION=N or N-extra] [ONLY="a b"]
#                          grades a class: every student repository in
#                          folder (as `gh classroom clone student-repos`
#                          lays them out), each student's mine/N.M/ laid
#                          over a trusted copy of this repository, into a
#                          CSV (default $(BUILD)/class/grades.csv) and a
#                          summary; STUDENTS_AT_ONCE students at once (as
#                          many as there are cores, two at least), each
#                          stopped whole after STUDENT_TIMEOUT seconds, each
#                          exercise after EXERCISE_TIMEOUT
#   make prove-handout     (part of make test) in a handout made from the
#                          files git tracks, every reference solution
#                          applied in mine/N.M/: make grade ALL=1 passes
#                          every exercise with full points, after every
#                          make timeline-N, and neither changes git status
#   make prove-class       (part of make test) make grade-class on a
#                          handful of synthetic students, one an outcome:
#                          right, wrong, not started, a test that hangs
#                          its grade, one that tampers with its own
#                          graders and Makefiles
#   make class-of-60       builds 60 synthetic students from the reference
#                          and wrong solutions in $(BUILD)/class-of-60/,
#                          grades them with make grade-class, checks every
#                          grade against what was planted, and says how
#                          long it took (an hour or more on 2 cores)

HANDOUT_NAME = socket-servers
HANDOUT_DIR = $(BUILD)/handout
ACTION_VALIDATOR = @action-validator/cli@0.6.0
NPM_DIR = $(BUILD)/npm
STUDENT_TIMEOUT = 1800
STUDENTS_AT_ONCE =
CLASS_GRADE_JOBS = 6
CLASS_ENV = $(BUILD_KINDS_ENV) STUDENT_TIMEOUT=$(STUDENT_TIMEOUT) \
    EXERCISE_TIMEOUT=$(EXERCISE_TIMEOUT) STUDENTS_AT_ONCE=$(STUDENTS_AT_ONCE) \
    CLASS_GRADE_JOBS=$(CLASS_GRADE_JOBS)

.PHONY: handout classroom-workflows check-classroom check-handout check-work \
        grade-class prove-handout prove-class class-of-60
TEST_STEPS += check-classroom check-handout prove-handout prove-class

handout:
	@$(PYTHON) tests/classroom/classroom.py handout $(HANDOUT_DIR) $(HANDOUT_NAME)

restore-%: FORCE
	@$(call need_stage,$*)
	@$(PYTHON) tests/classroom/classroom.py restore $(call stage,$*) $(BUILD)

check-work:
	@$(PYTHON) tests/classroom/classroom.py check-work $(BUILD)

classroom-workflows:
	@$(PYTHON) tests/classroom/classroom.py workflows $(BUILD)/classroom

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

check-classroom:
	@echo "== classroom: the workflows' commands and schema"
	@$(PYTHON) tests/classroom/classroom.py workflows $(BUILD)/classroom >/dev/null
	@$(PYTHON) tests/classroom/classroom.py check $(BUILD)/classroom
	@if ! command -v npm >/dev/null; then \
	    echo "classroom: the workflows' schema check skipped: there is no npm (Debian: apt-get install npm)"; \
	else \
	    [ -x $(NPM_DIR)/node_modules/.bin/action-validator ] || \
	        npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent $(ACTION_VALIDATOR) || { \
	        echo "classroom: npm could not install $(ACTION_VALIDATOR) into $(NPM_DIR)"; exit 1; }; \
	    for f in .github/workflows/*.yml $(BUILD)/classroom/*.yml; do \
	        $(NPM_DIR)/node_modules/.bin/action-validator $$f || { \
	            echo "classroom: $$f fails action-validator's schema check"; exit 1; }; done; \
	    echo "classroom: every workflow passes action-validator's schema check"; \
	fi

grade-class:
	@if [ -z "$(CLASS)" ]; then echo "make grade-class CLASS=folder: the folder of" \
	    "student repositories (gh classroom clone student-repos makes it); TEACHING.md says more"; exit 2; fi
	@python=$$(tests/deps.sh) || exit 1; \
	$(CLASS_ENV) $$python tests/classroom/gradeclass.py grade "$(CLASS)" \
	    --csv "$(or $(CSV),$(BUILD)/class/grades.csv)" --work $(BUILD)/class \
	    $(if $(SESSION),--session $(SESSION)) $(if $(ONLY),--only $(ONLY))

prove-handout:
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/classroom/proofs.py handout $(BUILD)/prove-handout

prove-class:
	@$(BUILD_KINDS_ENV) $(PYTHON) tests/classroom/proofs.py class $(BUILD)/prove-class

class-of-60:
	@python=$$(tests/deps.sh) || exit 1; \
	$(CLASS_ENV) $$python tests/classroom/proofs.py class-of-60 $(BUILD)/class-of-60 $(or $(STUDENTS),60)
