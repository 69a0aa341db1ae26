#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bench_mpi.sh -- `acdc sweep` over MPI ranks against one process (issue 18).
#
# The trained cascade (default examples/data/fashion-acdc.h5) compiled for `slm8`, a
# sweep of the masks' phase error over 6 points x 2 trials on the first ROWS (100) rows
# of the embedded Fashion-MNIST test rows: with 1 and 2 ranks of the MPI program
# (mpirun, one thread each) and, for comparison, the program without MPI on 2 threads.
# Prints the wall times and speed-ups side by side and whether the three files are
# identical but for their wall-clock /seconds.  Run by `make bench` when the MPI
# program (`make MPI=1`, MPI_BUILD=build-mpi) and mpirun exist; says so and skips
# otherwise.
#
# usage: bench/bench_mpi.sh [MODEL.h5 [DATA.h5]]
set -u
BUILD=${BUILD:-build}
MPI_BUILD=${MPI_BUILD:-build-mpi}
MODEL=${1:-examples/data/fashion-acdc.h5}
DATA=${2:-examples/data/fashion-test.h5}
ROWS=${ROWS:-100}
if ! command -v mpirun >/dev/null || [ ! -x "$MPI_BUILD/acdc" ]; then
    echo "bench_mpi: skipped: needs mpirun and the MPI program (make MPI=1 -> $MPI_BUILD/acdc)"
    exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d "${TMPDIR:-/tmp}/bench_mpi.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$BUILD/acdc" compile "$MODEL" -o "$T/sys.h5" --device slm8 >/dev/null 2>&1 ||
    { echo "bench_mpi: cannot compile '$MODEL'" >&2; exit 1; }
args=(sweep "$T/sys.h5" "$DATA" --vary phase-error=0:0.1:6 --trials 2 --rows "$ROWS" -q)

# seconds WHAT CMD...: runs CMD, prints its wall time in seconds
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$T/err" || { echo "bench_mpi: failed: $*" >&2; cat "$T/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}
load=$(cut -d' ' -f1 /proc/loadavg)
r1=$(seconds mpirun -n 1 "$MPI_BUILD/acdc" "${args[@]}" --threads 1 -o "$T/r1.h5")
r2=$(seconds mpirun -n 2 "$MPI_BUILD/acdc" "${args[@]}" --threads 1 -o "$T/r2.h5")
t2=$(seconds "$BUILD/acdc" "${args[@]}" --threads 2 -o "$T/t2.h5")
same=yes
for f in r2 t2; do
    h5diff -q --exclude-path /seconds "$T/r1.h5" "$T/$f.h5" >/dev/null 2>&1 || same=no
done
echo "bench_mpi: acdc sweep, 6 points x 2 trials x $ROWS rows of $(basename "$DATA"), $(basename "$MODEL") on slm8"
echo "  (load average $load at the start; $(nproc) cores)"
printf '  %-28s %8s s  %5sx\n' "mpirun -n 1, 1 thread" "$r1" "1.00"
printf '  %-28s %8s s  %5sx\n' "mpirun -n 2, 1 thread each" "$r2" "$(awk -v a="$r1" -v b="$r2" 'BEGIN{printf "%.2f", a / b}')"
printf '  %-28s %8s s  %5sx\n' "no MPI, 2 threads" "$t2" "$(awk -v a="$r1" -v b="$t2" 'BEGIN{printf "%.2f", a / b}')"
echo "  the three files identical but for /seconds: $same"
[ "$same" = yes ]
