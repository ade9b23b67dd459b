# The stages are C11 and POSIX.1-2008, not glibc: test-musl builds every
# stage with musl, another C library (musl-gcc, linked statically, warnings
# as errors), and runs the socket tests on it. musl decides otherwise where
# POSIX leaves a choice: SOMAXCONN is 128 (glibc's is 4096), a thread's
# stack about 128 KiB (glibc's follows ulimit -s: 8 MiB here), strerror's
# words differ. No unit tests here: Check, their library, is built for
# glibc.
#
# Not a step of make test: it runs as many socket tests as test-gcc, and
# takes as long (about 9 minutes each with a load average of 100 here),
# which would push make test past its 15 minutes on a busy 2-core machine.

CC_musl := musl-gcc
FLAGS_musl := -Werror -static -DCRASH_POINTS
TESTED_musl = $(PRESENT)

.PHONY: test-musl

test-musl:
	@command -v musl-gcc >/dev/null || tests/apt_install.sh "make test-musl" musl-tools || \
	    { echo "test-musl needs musl-gcc (Debian: apt-get install musl-tools)"; exit 1; }
	@$(MAKE) --no-print-directory $(foreach s,$(TESTED_musl),$(BUILD)/musl/$(s)/server)
	@echo "== socket tests (musl build): $(TESTED_musl)"
	@$(PYTHON) -m pytest -q -p no:cacheprovider tests --bin-dir $(BUILD)/musl \
	    $(addprefix --stage ,$(TESTED_musl))
