# Shared by the bench scripts (sourced, from the repository root): a scratch
# directory removed on exit with the servers started into pids, and a free
# loopback port.
#   bench_init LABEL     sets work=<scratch dir>, pids=()
#   bench_binary         builds bin/cachectl.bench, or copies $CACHECTL_BIN
#   port                 prints a loopback TCP port that was free a moment ago
export PATH="/usr/local/go/bin:$PATH"
bench_init() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/cachectl-$1.XXXXXX")
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}
bench_binary() {
  # CACHECTL_BIN=path measures that binary instead (e.g. an older build).
  if [ -n "${CACHECTL_BIN:-}" ]; then
    mkdir -p bin && cp "$CACHECTL_BIN" bin/cachectl.bench
  else
    bash scripts/build.sh bin/cachectl.bench  # static, stripped, no man-page generator: the fastest start
  fi
}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
