#!/usr/bin/env bash
# Builds bin/cachectl the way it starts fastest (docs/performance.md): a
# static binary (no dynamic loader, no libc symbol binding at start; the
# netgo and osusergo tags keep glibc's NSS, which a static binary cannot
# load, out of name and user lookups), stripped, without urfave/cli's
# man-page generator. Where the C toolchain cannot link statically (no
# libc.a), it builds the dynamically linked binary instead, which works the
# same and only starts about 1 ms slower. A compile error is just that.
#   bash scripts/build.sh [OUTPUT]      # default bin/cachectl
set -euo pipefail
out="${1:-bin/cachectl}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac  # relative to the caller's directory
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=netgo,osusergo,urfave_cli_no_docs
libc=$(gcc -print-file-name=libc.a 2>/dev/null || true)  # the bare name when gcc has none
if [ -f "$libc" ]; then
  log=$(mktemp "${TMPDIR:-/tmp}/cachectl-build.XXXXXX")
  trap 'rm -f "$log"' EXIT
  status=0
  go build -tags "$tags" -trimpath -ldflags '-s -w -linkmode external -extldflags -static' -o "$out" . 2>"$log" || status=$?
  # The linker warns that sqlite's loadable-extension support (dlopen) would
  # need glibc's shared objects at run time; cachectl never loads extensions,
  # so only that warning is left out.
  grep -v -e "warning: Using 'dlopen' in statically linked" -e 'in function `unixDlOpen' -e '^# github.com/cachectl/cachectl$' "$log" >&2 || true
  exit "$status"
fi
echo "scripts/build.sh: no static libc (libc.a) for the C toolchain; building a dynamically linked binary" >&2
go build -tags urfave_cli_no_docs -ldflags="-s -w" -trimpath -o "$out" .
