# Fuzzing: one libFuzzer harness per parser (tests/fuzz/fuzz-<name>.c),
# seed corpora in tests/fuzz/corpus/<name>/.
#
#   make fuzz                 build with clang (-fsanitize=fuzzer,address,
#                             undefined) into build/fuzz/ and run each
#                             harness FUZZ_SECONDS (default 60) over its
#                             corpus; new inputs go to build/fuzz/new/<name>,
#                             crashes to build/fuzz/crash/<name>/
#   make fuzz FUZZ_ONLY=mime  only the named harnesses
#   make fuzz-replay          build the replay programs (no libFuzzer: each
#                             harness linked with tests/fuzz/replay-main.c)
#                             into $(BUILD)/fuzz/; tests/fuzz.bats runs them
#                             over the corpora (`make unit` builds them).
#
# This file is included by the top Makefile after LIBA, CFLAGS_ALL and
# LDFLAGS_ALL are defined; it adds its replay programs to `unit`.

# Do not become the default goal, wherever the include sits.
fuzz_saved_goal := $(.DEFAULT_GOAL)

FUZZ_NAMES := $(sort $(patsubst tests/fuzz/fuzz-%.c,%,$(filter-out tests/fuzz/fuzz-util.c,$(wildcard tests/fuzz/fuzz-*.c))))
FUZZ_ONLY ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR ?= build/fuzz
# one plain process (-jobs would write fuzz-N.log into the current directory)
FUZZ_FLAGS ?= -max_len=65536 -timeout=20 -rss_limit_mb=2048
# extra objects a harness links besides the library
FUZZ_EXTRA_pop3-parse := handlers/pop3/parse

# --- the replay programs, built like everything else in $(BUILD) ---
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay-%)

define FUZZ_REPLAY_template
$(BUILD)/fuzz/replay-$(1): $(BUILD)/tests/fuzz/fuzz-$(1).o $(BUILD)/tests/fuzz/fuzz-util.o \
		$(BUILD)/tests/fuzz/replay-main.o $(FUZZ_EXTRA_$(1):%=$(BUILD)/%.o) $(LIBA)
	@mkdir -p $$(dir $$@)
	$$(CC) -o $$@ $$^ $(LDFLAGS_ALL) $(PKG_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_REPLAY_template,$(n))))

.PHONY: fuzz fuzz-build fuzz-replay
fuzz-replay: $(FUZZ_REPLAY_BINS)
unit: $(FUZZ_REPLAY_BINS)

# --- the libFuzzer build: its own objects, compiled by clang ---
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) \
	$(filter-out -Werror,$(WARN)) -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz-%)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libpostern.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

define FUZZ_BIN_template
$(FUZZ_DIR)/fuzz-$(1): $(FUZZ_DIR)/obj/tests/fuzz/fuzz-$(1).o $(FUZZ_DIR)/obj/tests/fuzz/fuzz-util.o \
		$(FUZZ_EXTRA_$(1):%=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/libpostern.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $(PKG_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_BIN_template,$(n))))

fuzz-build: $(FUZZ_BINS)

# Each harness: corpus read from the repo, new inputs written to a scratch
# directory (merged into the corpus only by hand, minimised), artifacts
# (crash-*, timeout-*, oom-*) to build/fuzz/crash/<name>/. Harnesses that
# need files make them under TMPDIR: build/fuzz/tmp (libFuzzer may end a
# run without the atexit clean-up).
fuzz: $(FUZZ_ONLY:%=$(FUZZ_DIR)/fuzz-%)
	@set -e; for n in $(FUZZ_ONLY); do \
		mkdir -p $(FUZZ_DIR)/new/$$n $(FUZZ_DIR)/crash/$$n $(FUZZ_DIR)/tmp; \
		echo "== fuzz-$$n for $(FUZZ_SECONDS)s"; \
		TMPDIR=$(abspath $(FUZZ_DIR)/tmp) $(FUZZ_DIR)/fuzz-$$n $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/crash/$$n/ \
			$(FUZZ_DIR)/new/$$n tests/fuzz/corpus/$$n \
			2>&1 | tee $(FUZZ_DIR)/fuzz-$$n.log | grep -E '^(stat::|==[0-9]+==|SUMMARY|#[0-9]+ +DONE)' || true; \
		if ls $(FUZZ_DIR)/crash/$$n/* >/dev/null 2>&1; then \
			echo "fuzz-$$n: findings in $(FUZZ_DIR)/crash/$$n/"; fail=1; fi; \
	done; [ -z "$$fail" ]

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz/fuzz-%.d) \
	$(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/fuzz-%.d) $(BUILD)/tests/fuzz/replay-main.d \
	$(BUILD)/tests/fuzz/fuzz-util.d

.DEFAULT_GOAL := $(fuzz_saved_goal)
