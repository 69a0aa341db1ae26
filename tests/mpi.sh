#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/mpi.sh -- `acdc sweep` and `acdc tolerance` over MPI ranks (issue 18; TAP).
#
# The program built with MPI=1 (MPI_BUILD, default build-mpi; made here if missing) runs
# under mpirun with 1, 2 and 3 ranks (--oversubscribe: the machine may have fewer
# cores), and every file must equal the one the single-process program ($BUILD/acdc,
# without MPI) writes with the same seed: every dataset and attribute bit for bit, except
# the wall-clock seconds (/seconds of a sweep, the seconds attribute of each tolerance
# search), which are times, not results.  A sweep whose worker rank, or rank 0 (the
# writer), is killed (SIGKILL) once the file holds a point is then run again and must
# end equal to the reference; one interrupted on rank 0 exits 3 and is finished by the
# single-process program; a tolerance study interrupted on 2 ranks is finished on 3.
# Skips, saying why, where mpirun or mpicc is missing.  MPI_SANITIZE (e.g.
# address,undefined, with MPI_BUILD=build-mpi-asan) builds the MPI program sanitized.
set -u
BUILD=${BUILD:-build}
MPI_BUILD=${MPI_BUILD:-build-mpi}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/mpi-tmp
PY=/usr/bin/python3
. tests/tap.bash
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
    echo "# SKIP: no mpirun or mpicc (Debian: openmpi-bin libopenmpi-dev): the MPI tests did not run"
    echo "ok 1 - MPI tests # SKIP no mpirun or mpicc"
    exit 0
fi
# the MPI program: made (or brought up to date) with its own flags, whatever make ran us
if ! MAKEFLAGS= make -s -j2 MPI=1 BUILD="$MPI_BUILD" SANITIZE="${MPI_SANITIZE:-}" WERROR=1 all \
        >/dev/null 2>&1; then
    echo "not ok 1 - make MPI=1 (the MPI program in $MPI_BUILD)"
    exit 0
fi
MPI_ACDC=$(cd "$MPI_BUILD" && pwd)/acdc
rm -rf "$T" && mkdir -p "$T"
# as root (CI) mpirun needs these; more ranks than cores needs --oversubscribe
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_base_warn_component_unused=0
run_mpi() { local n=$1; shift; mpirun --oversubscribe -n "$n" "$@"; }

"$PY" - "$T" <<'EOF' || { echo "not ok 1 - fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np
rng = np.random.default_rng(1811)
with h5py.File(sys.argv[1] + "/data.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (120, 16))
    f["labels"] = rng.integers(0, 4, 120)
EOF
"$ACDC" init -o "$T/model.h5" --n 16 --layers 2 --relu --perm --bias d --n-out 4 \
    --seed 7 >/dev/null &&
    "$ACDC" compile "$T/model.h5" -o "$T/sys.h5" --device slm8 >/dev/null 2>&1 ||
    { echo "not ok 1 - init and compile the test system"; exit 0; }
S=$T/sys.h5 D=$T/data.h5

# same A B: every dataset and attribute of A equals B's (NaN equal to NaN, strings
# byte for byte), the wall-clock seconds excepted; the differences are printed.
same() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
bad = []
def eq(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind in "fc" and y.dtype.kind in "fc":
        return x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y)
def attrs(name, oa, ob):
    if sorted(oa.attrs) != sorted(ob.attrs):
        bad.append(f"{name}: attributes {sorted(oa.attrs)} vs {sorted(ob.attrs)}")
        return
    for k in oa.attrs:
        if k == "seconds":
            continue   # wall time of a tolerance search
        if not eq(oa.attrs[k], ob.attrs[k]):
            bad.append(f"{name} @{k}: {oa.attrs[k]!r} vs {ob.attrs[k]!r}")
names = []
a.visit(names.append)
other = []
b.visit(other.append)
if sorted(names) != sorted(other):
    bad.append(f"objects differ: {sorted(set(names) ^ set(other))}")
attrs("/", a, b)
for n in names:
    if n not in b:
        continue
    attrs(n, a[n], b[n])
    if isinstance(a[n], h5py.Dataset) and n != "seconds":   # /seconds: wall time per point
        if not eq(a[n][()], b[n][()]):
            bad.append(f"/{n}: values differ")
for line in bad[:10]:
    print("# " + line)
sys.exit(1 if bad else 0)
EOF
}
# points_done F: the finished points of sweep F (0 if none can be read).
points_done() {
    "$PY" -c "import sys, h5py
try: print(int(h5py.File(sys.argv[1], 'r').attrs['points_done']))
except Exception: print(0)" "$1"
}

# --- which program ------------------------------------------------------------------
out=$("$MPI_ACDC" --version)
check "acdc --version of the MPI build names the library: $out" \
    grep -q '^acdc 0.1.0 (MPI: Open MPI v[0-9]' <<<"$out"
out=$("$ACDC" --version)
if [ "$out" != "acdc 0.1.0 (MPI: no)" ]; then
    # `make MPI=1 check`: $BUILD/acdc is the MPI program, the reference one process
    echo "ok $((i += 1)) - a build without MPI under mpirun # SKIP $BUILD/acdc has MPI: $out"
else
    ok "acdc --version without MPI says so: $out"
    out=$(run_mpi 2 "$ACDC" sweep "$S" "$D" -o "$T/refused.h5" --vary photons=1e2:1e4:2 2>&1)
    rc=$?
    check "a build without MPI under mpirun -n 2 refuses (exit $rc)" \
        test "$rc" -ne 0 -a ! -e "$T/refused.h5"
    check "... saying why, in one line a rank" \
        grep -q "^acdc sweep: error: this acdc is built without MPI but was started as one of 2 ranks.*make MPI=1" <<<"$out"
fi

# --- a sweep: 2 x 2 points, 3 trials ----------------------------------------------------
sw=(sweep "$S" "$D" --vary photons=1e2:1e5:2 --vary phase-error=0:0.2:2 --trials 3
    --threads 1 --seed 5)
"$ACDC" "${sw[@]}" -o "$T/sweep-ref.h5" -q >/dev/null 2>&1 || notok "the single-process sweep"
# 1 rank: one process; 2 ranks: whole points (4 points, 2 a rank); 3 ranks: fewer than 2
# points a rank, so the trials of a point are shared out
for n in 1 2 3; do
    out=$(run_mpi $n "$MPI_ACDC" "${sw[@]}" -o "$T/sweep-$n.h5" 2>&1); rc=$?
    check "mpirun -n $n acdc sweep: exit $rc" test "$rc" = 0
    check "... the file equals the single-process one but for wall times" \
        same "$T/sweep-$n.h5" "$T/sweep-ref.h5"
    check "... one rank prints: one 'wrote' line, 4 point lines" \
        test "$(grep -c "^wrote '$T/sweep-$n.h5': 4 points" <<<"$out")" = 1 -a \
             "$(grep -c '^  photons=' <<<"$out")" = 4
done
# a failure on rank 0 alone (the file holds a sweep with other settings): every rank
# stops, rank 0 says why, once
cp "$T/sweep-ref.h5" "$T/other.h5"
out=$(run_mpi 3 "$MPI_ACDC" "${sw[@]}" --trials 2 -o "$T/other.h5" 2>&1); rc=$?
check "mpirun -n 3 with a sweep of other settings at -o: exit 1 (got $rc), said once" \
    test "$rc" = 1 -a "$(grep -c "^acdc sweep: error: .*other settings ('trials=3' there, 'trials=2' here)" <<<"$out")" = 1
check "... the file untouched" cmp -s "$T/other.h5" "$T/sweep-ref.h5"
# a device parameter: the system recompiled for each point, on each rank running it
dv=(sweep "$S" "$D" --vary phase-bits=3:4 --trials 3 --threads 1 -q)
"$ACDC" "${dv[@]}" -o "$T/bits-ref.h5" >/dev/null 2>&1 || notok "the single-process bits sweep"
run_mpi 3 "$MPI_ACDC" "${dv[@]}" -o "$T/bits-3.h5" >/dev/null 2>&1
check "mpirun -n 3: a recompiling sweep (phase-bits, trials shared) equals the single-process one" \
    same "$T/bits-3.h5" "$T/bits-ref.h5"

# --- a tolerance study: 3 perturbations ------------------------------------------------
tol=(tolerance "$S" "$D" --only ref-phase,ref-amplitude,focal --budget-rel-rms 0.05
     --trials 3 --threads 1)
"$ACDC" "${tol[@]}" -q -o "$T/tol-ref.h5" >/dev/null 2>&1 || notok "the single-process tolerance study"
for n in 2 3; do
    run_mpi $n "$MPI_ACDC" "${tol[@]}" -q -o "$T/tol-$n.h5" >/dev/null 2>&1; rc=$?
    check "mpirun -n $n acdc tolerance: exit $rc" test "$rc" = 0
    check "... the file equals the single-process one but for wall times" \
        same "$T/tol-$n.h5" "$T/tol-ref.h5"
done

# --- a rank killed, then the same command again -----------------------------------------
long=(sweep "$S" "$D" --vary photons=1e2:1e5:16 --trials 3 --threads 1 -q)
"$ACDC" "${long[@]}" -o "$T/long-ref.h5" >/dev/null 2>&1 || notok "the single-process long sweep"
# kill_rank R FILE: starts the long sweep on 2 ranks into FILE, kills rank R with
# SIGKILL once FILE holds a point; sets rc (mpirun's exit) and victim (the PID killed)
kill_rank() {
    local p mp
    mpirun --oversubscribe -n 2 "$MPI_ACDC" "${long[@]}" -o "$2" >"$T/kill.log" 2>&1 &
    mp=$!   # mpirun itself: the ranks are its children
    for _ in $(seq 300); do
        [ "$(points_done "$2")" -ge 1 ] && break
        sleep 0.05
    done
    victim=
    for p in $(pgrep -P "$mp"); do
        [ "$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null |
             sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$1" ] && victim=$p
    done
    [ -n "$victim" ] && kill -9 "$victim"
    wait "$mp"; rc=$?
}
K=$T/long-killed.h5
kill_rank 1 "$K"
done_then=$(points_done "$K")
check "rank 1 (PID ${victim:-none}) killed with SIGKILL: mpirun fails (exit $rc)" \
    test -n "$victim" -a "$rc" -ne 0
check "... the file holds the $done_then points finished before (1 to 15 of 16)" \
    test "$done_then" -ge 1 -a "$done_then" -lt 16
check "... rank 0 left no temporary or lock file beside it" \
    test -z "$(ls -a "$T" | grep -e '^\.' -e '\.tmp' -e '\.lock' | grep -vx -e . -e ..)"
out=$(run_mpi 2 "$MPI_ACDC" "${long[@]}" -o "$K" 2>&1); rc=$?
check "the same mpirun command again resumes (exit $rc)" \
    grep -q "^resuming '$K': $done_then of 16 points already done" <<<"$out"
check "... and ends with the single-process file" same "$K" "$T/long-ref.h5"
# rank 0, the writer, killed: its last rewrite is whole (or the one before it)
K0=$T/long-killed0.h5
kill_rank 0 "$K0"
done_then=$(points_done "$K0")
check "rank 0 (PID ${victim:-none}) killed with SIGKILL: mpirun fails (exit $rc), the file holds $done_then points" \
    test -n "$victim" -a "$rc" -ne 0 -a "$done_then" -ge 1
out=$(run_mpi 3 "$MPI_ACDC" "${long[@]}" -o "$K0" 2>&1); rc=$?
check "mpirun -n 3 resumes it (exit $rc) and ends with the single-process file" \
    same "$K0" "$T/long-ref.h5"
check "... no temporary or lock file left" \
    test -z "$(ls -a "$T" | grep -e '^\.' -e '\.tmp' -e '\.lock' | grep -vx -e . -e ..)"

# --- a tolerance study interrupted after one search, resumed on 3 ranks -------------------
TI=$T/tol-int.h5
out=$(ACDC_TOLERANCE_INTERRUPT_AFTER=1 run_mpi 2 "$MPI_ACDC" "${tol[@]}" -q -o "$TI" 2>&1); rc=$?
check "a tolerance study interrupted on rank 0 after one search: exit 3 (got $rc)" test "$rc" = 3
out=$(run_mpi 3 "$MPI_ACDC" "${tol[@]}" -o "$TI" 2>&1); rc=$?
check "... mpirun -n 3 resumes it (exit $rc, the finished ones from the file)" \
    grep -q "(from the file)" <<<"$out"
check "... and ends with the single-process file" same "$TI" "$T/tol-ref.h5"

# --- interrupted on rank 0 (SIGINT there after 2 points), finished by one process -------
I=$T/long-int.h5
out=$(ACDC_SWEEP_INTERRUPT_AFTER=2 run_mpi 3 "$MPI_ACDC" "${long[@]}" -o "$I" 2>&1); rc=$?
check "interrupted on rank 0: exit 3 (got $rc), said once" \
    test "$rc" = 3 -a "$(grep -c "acdc sweep: error: interrupted: '$I' holds" <<<"$out")" = 1
done_then=$(points_done "$I")
check "... the file holds the points finished ($done_then, at least 2)" test "$done_then" -ge 2
"$ACDC" "${long[@]}" -o "$I" >/dev/null 2>&1
check "... the single-process command finishes it, equal to its own run" same "$I" "$T/long-ref.h5"

echo "1..$i"
