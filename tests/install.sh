#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/install.sh -- `make install` into a staging folder installs the public headers
# only, each of them compiles on its own from the staged prefix, and a program links
# against the installed library.  Prints TAP; exits 0 (tests/run.sh counts the lines).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
# The build's own flags (make check passes SANITIZE on), so that `make install` finds the
# objects up to date instead of rebuilding them without the sanitizers.
SANITIZE=${SANITIZE:-}
i=0
ok() { i=$((i + 1)); echo "ok $i - $1"; }
notok() { i=$((i + 1)); echo "not ok $i - $1"; shift; for l in "$@"; do echo "# $l"; done; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
if ! out=$(make -C "$top" -s BUILD="$BUILD" SANITIZE="$SANITIZE" PREFIX=/usr DESTDIR="$stage" install 2>&1); then
    notok "make install DESTDIR=$stage failed" "$(tail -3 <<<"$out")"
    exit 0
fi
# a second install with another prefix names its own prefix in the .pc
stage2=$(mktemp -d)
trap 'rm -rf "$stage" "$stage2"' EXIT
if out=$(make -C "$top" -s BUILD="$BUILD" SANITIZE="$SANITIZE" PREFIX=/opt/acdc DESTDIR="$stage2" install 2>&1) &&
        grep -qx 'prefix=/usr' "$stage/usr/lib/pkgconfig/acdc-optics.pc" &&
        grep -qx 'prefix=/opt/acdc' "$stage2/opt/acdc/lib/pkgconfig/acdc-optics.pc"; then
    ok "two installs, PREFIX=/usr then /opt/acdc: each .pc names its own prefix"
else
    notok "two installs, PREFIX=/usr then /opt/acdc: each .pc names its own prefix" \
        "$(grep prefix= "$stage"/usr/lib/pkgconfig/acdc-optics.pc "$stage2"/opt/acdc/lib/pkgconfig/acdc-optics.pc 2>&1)" "$(tail -2 <<<"$out")"
fi
inc=$stage/usr/include/acdc-optics
internal=$(make -C "$top" -s --no-print-directory -f - print-internal <<'EOF' 2>/dev/null
include Makefile
print-internal:
	@echo $(INTERNAL_HDR)
EOF
)
[ -n "$internal" ] || internal="util/h5.h util/mem.h util/parse.h"
leaked=()
for h in $internal; do [ -e "$inc/$h" ] && leaked+=("$h"); done
if [ ${#leaked[@]} -eq 0 ]; then
    ok "no internal header installed ($internal)"
else
    notok "internal headers installed: ${leaked[*]}"
fi

CC=${CC:-cc}
flags=$(pkg-config --cflags hdf5 fftw3 gsl 2>/dev/null)
bad=()
n=0
while IFS= read -r h; do
    rel=${h#"$inc"/}
    n=$((n + 1))
    if ! err=$(printf '#include "%s"\nint main(void) { return 0; }\n' "$rel" |
                   $CC -std=c11 -Wall -Wextra -Werror -I"$inc" $flags -x c -fsyntax-only - 2>&1); then
        bad+=("$rel: $(head -1 <<<"$err")")
    fi
done < <(find "$inc" -name '*.h' | sort)
if [ ${#bad[@]} -eq 0 ] && [ "$n" -gt 0 ]; then
    ok "each of the $n installed headers compiles on its own from the staged prefix"
else
    notok "${#bad[@]} of $n installed headers do not compile on their own" "${bad[@]}"
fi

prog=$stage/prog
# A library built with SANITIZE=... needs the sanitizer runtimes when a program links it.
sanflag=
[ -n "$SANITIZE" ] && sanflag=-fsanitize=$SANITIZE
if printf '#include "util/error.h"\n#include "optics/device.h"\nint main(void) {\n  acdc_optics_modulator m = {.modulation = ACDC_OPTICS_MOD_PHASE, .pitch_m = 8e-6, .fill = 1};\n  return acdc_optics_modulator_pixels_per_sample(&m) == 2 && acdc_util_error(ACDC_UTIL_EDATA, "x") == ACDC_UTIL_EDATA ? 0 : 1;\n}\n' |
       $CC -std=c11 $sanflag -I"$inc" $flags -x c - -x none -o "$prog" \
           "$stage/usr/lib/libacdc-optics.a" \
           $(pkg-config --libs hdf5 fftw3 gsl zlib inih 2>/dev/null) -lfftw3_threads -lfftw3 \
           -lpthread -fopenmp -lm 2>"$stage/link.err" && "$prog"; then
    ok "a program built against the staged headers and static library runs"
else
    notok "a program against the staged install does not build or run" "$(head -3 "$stage/link.err")"
fi

# The umbrella header and pkg-config alone: a program against the whole API, built with
# `pkg-config --cflags --libs acdc-optics` (the staged prefix as the sysroot) and run
# against the staged shared library.
cat > "$stage/umbrella.c" <<'PROG'
#include <acdc-optics.h>
#include <stdio.h>

int main(void)
{
    acdc_compiler_profile p;
    if (acdc_compiler_profile_builtin("slm8", &p))
        return 1;
    acdc_model *m;
    if (acdc_model_alloc(&m, 16, 16, 16, 2, 0))
        return 2;
    acdc_compiler_system *s;
    if (acdc_compiler_compile(m, &p, &s))
        return 3;
    const size_t chains = s->n_chains;
    acdc_compiler_system_free(s);
    acdc_model_free(m);
    printf("%zu\n", chains);
    return chains >= 1 ? 0 : 4;
}
PROG
# (installed to a real prefix, PREFIX=$stage3 without DESTDIR, so that the .pc's paths
# are where the files are)
stage3=$(mktemp -d)
trap 'rm -rf "$stage" "$stage2" "$stage3"' EXIT
pc() { PKG_CONFIG_PATH="$stage3/lib/pkgconfig" pkg-config "$@"; }
if make -C "$top" -s BUILD="$BUILD" SANITIZE="$SANITIZE" PREFIX="$stage3" install \
        >"$stage/umbrella.err" 2>&1 &&
        $CC -std=c11 $sanflag "$stage/umbrella.c" -o "$stage/umbrella" $(pc --cflags --libs acdc-optics) \
        2>"$stage/umbrella.err" && LD_LIBRARY_PATH="$stage3/lib" "$stage/umbrella" >/dev/null; then
    ok "a program using <acdc-optics.h> builds with pkg-config --cflags --libs acdc-optics alone and runs"
else
    notok "a program using <acdc-optics.h> with pkg-config alone" "$(head -3 "$stage/umbrella.err")"
fi
[ -s "$stage/usr/share/doc/acdc-optics/compiler/FORMAT.md" ] && [ -s "$stage/usr/share/doc/acdc-optics/LICENSE" ] &&
    ok "the docs are installed under share/doc/acdc-optics" ||
    notok "the docs are installed under share/doc/acdc-optics"

# Man pages: acdc(1) and one per command, each naming every option its --help names
# (help2man made them from the --help texts); man finds them in the staged prefix.
man1=$stage/usr/share/man/man1
cmds=$("$top/$BUILD/acdc" --help | sed -n '/^commands:/,/^$/p' | awk '/^  /{print $1}')
bad=()
for c in $cmds; do
    page=$man1/acdc-$c.1
    [ -s "$page" ] || { bad+=("acdc-$c.1 missing"); continue; }
    text=$(sed 's/\\-/-/g' "$page")
    for o in $("$top/$BUILD/acdc" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -q -- "$o" <<<"$text" || bad+=("acdc-$c.1 lacks $o")
    done
done
if [ -s "$man1/acdc.1" ] && [ ${#bad[@]} -eq 0 ] && [ -n "$cmds" ]; then
    ok "man pages for acdc and its $(wc -w <<<"$cmds") commands, every option of each --help in them"
else
    notok "man pages in step with --help" "${bad[@]:0:5}"
fi
if command -v man >/dev/null; then
    if MANPATH=$stage/usr/share/man man -w acdc-simulate >/dev/null 2>&1; then
        ok "man acdc-simulate finds the page in the staged prefix"
    else
        notok "man acdc-simulate finds the page in the staged prefix"
    fi
else
    ok "# SKIP man is not installed: man acdc-simulate not tried (the pages are checked above)"
fi
