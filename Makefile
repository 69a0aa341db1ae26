# SPDX-License-Identifier: GPL-3.0-or-later
# acdc-optics -- build, test, install.
#
#   make            library (static + shared) and build/acdc
#   make check      build and run every test (tests/run.sh prints "N passed, N failed")
#   make bench      benchmarks, comparisons printed side by side
#   make MPI=1      the same with MPI (mpicc) in build-mpi/: sweeps and tolerance studies
#                   shared out over mpirun's ranks (sim/mpi.h)
#   make bench-peers  the layer, training and 4096² propagation beside PyTorch (CPU)
#                   and numpy/scipy, ratios in one run (bench/peers.py; not in check)
#   make demo       the end-to-end story on the embedded data
#   make deps       install the Debian packages the project needs (as root)
#   make wisdom     FFTW's system wisdom for the shipped models' DCTs (as root; faster
#                   training and inference, models/README.md "FFTW's plans")
#   make install    PREFIX=/usr/local DESTDIR=
#
# Override anything: CC, CFLAGS, PREFIX, DESTDIR, SANITIZE=address,undefined, WERROR=1.

VERSION   = 0.1.0
# MPI=1: the program that shares sweeps and tolerance studies over MPI ranks (sim/mpi.h),
# built with the compiler wrapper into its own directory
ifeq ($(MPI),1)
ifeq ($(origin CC),default)
CC        = mpicc
endif
BUILD    ?= build-mpi
MPI_CFLAGS = -DACDC_MPI
endif
CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
PKG_CONFIG ?= pkg-config

OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
WARN      = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN     += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS  = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif

DEPS_PC   = hdf5 fftw3 fftw3f gsl zlib inih libpng
# Targets that need no libraries; any other stops at once, saying what pkg-config lacks.
NO_LIB_GOALS = deps deps-ci clean uninstall
ifneq ($(filter-out $(NO_LIB_GOALS),$(or $(MAKECMDGOALS),all)),)
PC_MISSING := $(shell for p in $(DEPS_PC); do $(PKG_CONFIG) --exists $$p || echo $$p; done)
ifneq ($(strip $(PC_MISSING)),)
$(error pkg-config finds no $(strip $(PC_MISSING)): install the Debian packages with 'make deps' (as root))
endif
endif
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PC))
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS_PC))
ALL_CFLAGS = $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $(PC_CFLAGS) \
             -fopenmp -fPIC -DACDC_VERSION='"$(VERSION)"' $(MPI_CFLAGS) $(SANFLAGS) $(CFLAGS)
LIBS      = $(PC_LIBS) -lfftw3_threads -lfftw3 -lfftw3f -lpthread -fopenmp -lm
LDFLAGS  ?=
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_DIRS  = util models optics compiler sim
LIB_SRC   = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_HDR   = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h))
# Headers of the library's own machinery, not its API: not installed.
INTERNAL_HDR = util/h5.h util/mem.h util/parse.h util/signal.h util/gnuplot.h util/file.h \
               util/fingerprint.h util/output.h \
               util/png.h
PUBLIC_HDR   = $(filter-out $(INTERNAL_HDR),$(LIB_HDR))
CLI_SRC   = $(wildcard cli/*.c)
CLI_OBJ   = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BIN  = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EX_SRC    = $(wildcard examples/*.c)
EX_BIN    = $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

STATIC    = $(BUILD)/libacdc-optics.a
SHARED    = $(BUILD)/libacdc-optics.so
PROG      = $(BUILD)/acdc

.PHONY: all check bench bench-peers demo deps deps-ci install uninstall clean examples man wisdom
all: $(STATIC) $(SHARED) $(PROG)

# Each object depends on the headers it includes (-MMD -MP writes them beside it).
$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libacdc-optics.so.0 -o $@ $^ $(LIBS)

# cli/gds.py, the GDSII writer `acdc export` runs, compiled in as a C string
$(BUILD)/gen/gds_py.h: cli/gds.py Makefile
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@
$(BUILD)/obj/cli/cmd_export.o: $(BUILD)/gen/gds_py.h
$(BUILD)/obj/cli/cmd_export.o: ALL_CFLAGS += -I$(BUILD)/gen

$(PROG): $(CLI_OBJ) $(STATIC)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(LIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC) $(LIB_HDR) tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIBS) -lcmocka

# Tests of the command line's own modules link its objects, but not main.o (the test
# brings its own cli_fail() and friends).
CLI_TEST_OBJ = $(filter-out $(BUILD)/obj/cli/main.o $(BUILD)/obj/cli/cmd_%,$(CLI_OBJ))
$(BUILD)/tests/test_cli_%: tests/test_cli_%.c $(CLI_TEST_OBJ) $(STATIC) $(LIB_HDR) tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CLI_TEST_OBJ) $(STATIC) $(LIBS) -lcmocka

# OpenBLAS before GSL's reference CBLAS (in $(LIBS)): the dynamic linker binds
# cblas_dgemm to the first library that defines it, and the dense baseline is the BLAS a
# user would use (bench_layer prints which library it bound)
$(BUILD)/bench/%: bench/%.c $(STATIC) $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) -lopenblas $(LIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC) $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LIBS)

examples: $(EX_BIN)

check: all $(TEST_BIN) $(EX_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) bash tests/run.sh $(TEST_BIN)

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done
	@BUILD=$(BUILD) bash bench/bench_mpi.sh

# Our benchmarks and their peers in one run, so that both saw the same machine; a peer
# that is not installed is skipped with a notice.  Not part of bench or check.
PYTHON ?= /usr/bin/python3
bench-peers: $(BUILD)/bench/bench_layer $(BUILD)/bench/bench_train $(BUILD)/bench/bench_optics
	$(PYTHON) bench/peers.py --build $(BUILD)

# FFTW's system wisdom (models/dct.h, models/README.md "FFTW's plans"): FFTW's own
# fftw-wisdom and fftwf-wisdom plan the shipped models' transforms FFTW_PATIENT -- the
# 1D layers' r2c and c2r of 784 points, the 2D layers' 32 x 32 REDFT10 and REDFT01 --
# and write /etc/fftw/wisdom and /etc/fftw/wisdomf (as root), which every acdc program
# imports before its first DCT plan.  Other sizes: WISDOM_SIZES in fftw-wisdom's syntax
# (rof1024 rob1024 for n = 1024).  What the files held is kept and added to.
WISDOM_SIZES = rof784 rob784 ki32e10x32e10 ki32e01x32e01
wisdom:
	mkdir -p /etc/fftw
	fftw-wisdom -o /etc/fftw/wisdom.new $(WISDOM_SIZES) && mv /etc/fftw/wisdom.new /etc/fftw/wisdom
	fftwf-wisdom -o /etc/fftw/wisdomf.new $(WISDOM_SIZES) && mv /etc/fftw/wisdomf.new /etc/fftw/wisdomf

demo: all $(EX_BIN)
	@BUILD=$(BUILD) bash examples/demo.sh

# What a user needs to build, run the demo, the tests and the benchmarks, and export
# layouts; deps-ci adds what only CI's reliability checks use (valgrind, clang with
# libFuzzer and the sanitizers' runtimes).
DEPS_DEB = build-essential pkg-config libfftw3-dev libfftw3-bin libhdf5-dev libgsl-dev zlib1g-dev \
	  libinih-dev libpng-dev libcmocka-dev libopenblas-dev gnuplot-nox hdf5-tools \
	  python3-h5py python3-numpy python3-scipy python3-pil python3-gdspy gdsiiconvert \
	  help2man dataset-fashion-mnist
# CI alone: the sanitizers' and valgrind's runtimes, and PyTorch for the round trip of
# tests/test_torch_roundtrip.py (without it that test says it skipped), and OpenMPI for
# the MPI program and tests/mpi.sh (`make MPI=1`; without it that test says it skipped)
DEPS_CI_DEB = valgrind clang libclang-rt-dev libomp-dev python3-torch openmpi-bin libopenmpi-dev
deps:
	apt-get update
	apt-get install -y --no-install-recommends $(DEPS_DEB)

deps-ci:
	apt-get update
	apt-get install -y --no-install-recommends $(DEPS_DEB) $(DEPS_CI_DEB)

# The prefix the .pc file names: the stamp changes whenever PREFIX does, so a second
# `make install PREFIX=...` remakes the .pc for its own prefix.
.PHONY: FORCE
$(BUILD)/prefix.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@

$(BUILD)/acdc-optics.pc: Makefile $(BUILD)/prefix.stamp
	@mkdir -p $(dir $@)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include/acdc-optics\n\nName: acdc-optics\nDescription: compile ACDC layers into optical hardware and simulate the light\nVersion: %s\nRequires.private: hdf5 fftw3 fftw3f gsl zlib inih libpng\nLibs: -L$${libdir} -lacdc-optics\nLibs.private: -lfftw3_threads -lpthread -fopenmp -lm\nCflags: -I$${includedir}\n' '$(PREFIX)' '$(VERSION)' > $@

# The umbrella header: every public header, so that one #include <acdc-optics.h> with
# `pkg-config --cflags acdc-optics` gives the whole API.
$(BUILD)/acdc-optics.h: Makefile
	@mkdir -p $(dir $@)
	{ printf '/* acdc-optics.h -- the public API of acdc-optics %s, every header. */\n' '$(VERSION)'; \
	  printf '#ifndef ACDC_OPTICS_H\n#define ACDC_OPTICS_H\n'; \
	  for h in $(sort $(PUBLIC_HDR)); do printf '#include "%s"\n' $$h; done; \
	  printf '#endif\n'; } > $@

# Man pages from the --help texts (help2man): acdc(1) and acdc-COMMAND(1) for every
# command `acdc --help` lists, so that they cannot drift from the program.
MAN_DIR = $(BUILD)/man
man: $(PROG)
	@mkdir -p $(MAN_DIR)
	help2man -N --no-discard-stderr --version-string=$(VERSION) \
	  -n "compile ACDC layers into optical 4f systems and simulate the light" \
	  -o $(MAN_DIR)/acdc.1 $(PROG)
	@$(PROG) --help | sed -n '/^commands:/,/^$$/p' | grep '^  ' | while read -r cmd summary; do \
	  printf '#!/bin/sh\nexec "%s" %s "$$@"\n' "$(abspath $(PROG))" "$$cmd" > $(MAN_DIR)/acdc-$$cmd; \
	  chmod +x $(MAN_DIR)/acdc-$$cmd; \
	  help2man -N --no-discard-stderr --version-string=$(VERSION) -n "$$summary" \
	    -o $(MAN_DIR)/acdc-$$cmd.1 $(MAN_DIR)/acdc-$$cmd || exit 1; \
	  rm -f $(MAN_DIR)/acdc-$$cmd; \
	done

DOCS = README.md models/FORMAT.md compiler/FORMAT.md compiler/EXPORT.md \
       compiler/PROFILES.md compiler/README.md sim/README.md LICENSE

install: all man $(BUILD)/acdc-optics.pc $(BUILD)/acdc-optics.h
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(PROG) $(DESTDIR)$(PREFIX)/bin/acdc
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/libacdc-optics.so.0
	ln -sf libacdc-optics.so.0 $(DESTDIR)$(PREFIX)/lib/libacdc-optics.so
	install -m 644 $(BUILD)/acdc-optics.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	for h in $(PUBLIC_HDR); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/acdc-optics/$$h; done
	install -m 644 $(BUILD)/acdc-optics.h $(DESTDIR)$(PREFIX)/include/acdc-optics/
	for d in $(DOCS); do install -D -m 644 $$d $(DESTDIR)$(PREFIX)/share/doc/acdc-optics/$$d; done
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(MAN_DIR)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/acdc $(DESTDIR)$(PREFIX)/lib/libacdc-optics.* \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/acdc-optics.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/acdc-optics $(DESTDIR)$(PREFIX)/share/doc/acdc-optics
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/acdc.1 $(DESTDIR)$(PREFIX)/share/man/man1/acdc-*.1

clean:
	rm -rf $(BUILD)

# libFuzzer targets (clang): make fuzz FUZZ_SECONDS=60
include fuzz/fuzz.mk
