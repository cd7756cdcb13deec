#!/usr/bin/env bash
# hack/fuzz.sh: runs every Go fuzz target in the tree (func FuzzX in a
# _test.go file) for FUZZTIME each (default 30s), one after the other:
#   make fuzz FUZZTIME=5m
# New failing inputs are written to the package's testdata/fuzz/FuzzX/; add
# them to the commit that fixes what they found. hack/test.sh runs this with
# a short FUZZTIME as part of the unit tests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

fuzztime=${FUZZTIME:-30s}
cd "$REPO_ROOT"

# targets prints "PACKAGE_DIR TARGET" for every fuzz target.
targets() {
  git ls-files --cached --others --exclude-standard '*_test.go' | xargs grep -oE '^func Fuzz[A-Za-z0-9_]*\(' |
    sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u
}

list=$(targets)
[ -n "$list" ] || die "no fuzz targets found"
while read -r dir target; do
  step "fuzz $target in ./$dir for $fuzztime"
  CGO_ENABLED=0 go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$dir"
done <<<"$list"
