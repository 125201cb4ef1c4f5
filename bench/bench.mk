# make bench: Postern side by side with Postfix and Dovecot (bench/README.md).
# Included by the top Makefile; not part of `make check`. Builds everything
# into its own directory (BENCH_BUILD, normal -O2 flags), installs the peers
# when missing, runs bench/bench.py (as root). BENCH_QUICK=1: small sizes.
# Safe to include anywhere: it never becomes the default goal.
bench_saved_goal := $(.DEFAULT_GOAL)
BENCH_BUILD ?= build/bench
BENCH_CC ?= cc
BENCH_TOOLS := connrate loadgen greeter

.PHONY: bench
bench:
	sh bench/install-peers.sh
	-$(MAKE) -k BUILD=$(BENCH_BUILD) all
	@mkdir -p $(BENCH_BUILD)/bench
	for t in $(BENCH_TOOLS); do \
		$(BENCH_CC) -std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -pthread \
			-o $(BENCH_BUILD)/bench/$$t bench/$$t.c || exit 1; \
	done
	BENCH_BUILD=$(BENCH_BUILD) python3 bench/bench.py

ifeq ($(bench_saved_goal),)
.DEFAULT_GOAL :=
endif
