#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/spdx.sh -- every source file the project tracks names its licence (TAP): an
# SPDX-License-Identifier line among its first three lines, GPL-3.0-or-later as LICENSE
# says (FFTW and GSL are GPL).
set -u
i=0
missing=()
while IFS= read -r f; do
    head -3 "$f" | grep -q 'SPDX-License-Identifier: GPL-3.0-or-later' || missing+=("$f")
done < <(git ls-files 2>/dev/null | grep -E '\.(c|h|py|sh|bash|mk)$|^Makefile$|^\.ci/run$')
if [ ${#missing[@]} -eq 0 ]; then
    echo "ok 1 - every tracked source names its licence (SPDX GPL-3.0-or-later)"
else
    echo "not ok 1 - ${#missing[@]} sources lack an SPDX line"
    printf '# %s\n' "${missing[@]}"
fi
if grep -q "GNU GENERAL PUBLIC LICENSE" LICENSE && grep -q "Version 3" LICENSE; then
    echo "ok 2 - LICENSE is the GPL, version 3"
else
    echo "not ok 2 - LICENSE is the GPL, version 3"
fi
