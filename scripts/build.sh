#!/usr/bin/env bash
# Builds bin/cachectl the way it starts fastest (docs/performance.md): a
# static binary (no dynamic loader, no libc symbol binding at start; the
# netgo and osusergo tags keep glibc's NSS, which a static binary cannot
# load, out of name and user lookups), stripped, without urfave/cli's
# man-page generator. If the C toolchain cannot link statically (no libc.a),
# it falls back to the dynamic build, which works the same, only starts
# about 1 ms slower.
#   bash scripts/build.sh [OUTPUT]      # default bin/cachectl
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
out="${1:-bin/cachectl}"
log=$(mktemp "${TMPDIR:-/tmp}/cachectl-build.XXXXXX")
trap 'rm -f "$log"' EXIT
if go build -tags netgo,osusergo,urfave_cli_no_docs -trimpath \
    -ldflags '-s -w -linkmode external -extldflags -static' -o "$out" . 2>"$log"; then
  # The linker warns that sqlite's loadable-extension support (dlopen) would
  # need glibc's shared objects at run time; cachectl never loads extensions,
  # so only that warning is left out.
  grep -v -e "warning: Using 'dlopen' in statically linked" -e 'in function `unixDlOpen' -e '^# github.com/cachectl/cachectl$' "$log" >&2 || true
else
  cat "$log" >&2
  echo "scripts/build.sh: static link failed; building a dynamically linked binary instead" >&2
  go build -tags urfave_cli_no_docs -ldflags="-s -w" -trimpath -o "$out" .
fi
