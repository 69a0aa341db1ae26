# SPDX-License-Identifier: GPL-3.0-or-later
# fuzz/fuzz.mk -- libFuzzer targets for what acdc-optics parses itself (clang from
# Debian: packages clang, libclang-rt-dev, libomp-dev).  Included by the Makefile.
#
#   make fuzz                    build every target, run each for FUZZ_SECONDS (60)
#   make fuzz FUZZ_SECONDS=600   longer
#   make fuzz-build              build only: $(FUZZ_BUILD)/fuzz_<target>
#
# Targets are fuzz/fuzz_<target>.c, seeds in fuzz/corpus/<target>/ (read only: inputs
# libFuzzer finds go to $(FUZZ_BUILD)/corpus/<target>/, crashes to
# $(FUZZ_BUILD)/crash-<target>-*).  Reproduce a crash: $(FUZZ_BUILD)/fuzz_<target> FILE.
# The library is rebuilt with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (every report fatal) in $(FUZZ_BUILD)/obj.

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -rss_limit_mb=2048 -timeout=10
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# -Wno-pass-failed: the sanitizers keep some "omp simd" loops from vectorising
FUZZ_CFLAGS   = $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $(PC_CFLAGS) \
                -Wno-pass-failed -fopenmp -O1 -g $(FUZZ_SAN)
FUZZ_NAMES    = $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS     = $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
# only what the targets parse: the profile reader needs the device types and
# acdc_compiler_profile_effective() (optics/device.c), the camera (optics/detector.c) and
# the lens (optics/lens.c)
FUZZ_LIB_SRC  = $(wildcard util/*.c models/*.c) compiler/profile.c optics/device.c \
                optics/detector.c optics/field.c optics/lens.c
FUZZ_LIB_OBJ  = $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB      = $(FUZZ_BUILD)/libacdc-optics-fuzz.a

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: %.c $(LIB_HDR) Makefile fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

# Each target runs for FUZZ_SECONDS; the last lines of its log (executions, coverage)
# are printed, and the first failure stops make with the crash file named.
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz_$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_BUILD)/fuzz_$$t.log 2>&1; \
	  rc=$$?; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/fuzz_$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; \
	    echo "fuzz_$$t failed (exit $$rc); log: $(FUZZ_BUILD)/fuzz_$$t.log"; exit 1; fi; \
	done
