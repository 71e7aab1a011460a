# Shared by the bench scripts (sourced, from the repository root): a scratch
# directory removed on exit with the servers started into pids, and a free
# loopback port.
#   bench_init LABEL     sets work=<scratch dir>, pids=(); on exit kills pids,
#                        runs every command added with on_exit, removes work
#   on_exit CMD          a clean-up command (e.g. dropping a scratch database)
#   bench_binary         builds bin/cachectl.bench, or copies $CACHECTL_BIN
#   port                 prints a loopback TCP port that was free a moment ago
#   timed IN CMD...      seconds one run of CMD takes, stdin from IN, stdout to
#                        $OUTFILE (default /dev/null: set it to check the output)
#   rtimed IN CMD...     the same, and the process's max RSS: "SECS rss_kb=K"
#   lat_start ARGS...    starts bench/latency.py ARGS (a concurrent client)
#   lat_stop             stops it and prints "samples=N p50_ms=.. p99_ms=.. max_ms=.."
export PATH="/usr/local/go/bin:$PATH"
bench_init() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/cachectl-$1.XXXXXX")
  pids=()
  exits=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for c in "${exits[@]}"; do eval "$c" || true; done; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
}
on_exit() { exits+=("$1"); }
bench_binary() {
  # CACHECTL_BIN=path measures that binary instead (e.g. an older build).
  if [ -n "${CACHECTL_BIN:-}" ]; then
    mkdir -p bin && cp "$CACHECTL_BIN" bin/cachectl.bench
  else
    bash scripts/build.sh bin/cachectl.bench  # static, stripped, no man-page generator: the fastest start
  fi
}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# Times from bash's own clock: no process is started to read it.
now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "print(round($2 - $1, 4))"; }
# A command that fails adds "exit=CODE" (bench/report.py marks the case).
timed() {
  local in=$1 t0 t1 rc=0; shift
  t0=$EPOCHREALTIME; "$@" < "$in" >"${OUTFILE:-/dev/null}" 2>"$work/err" || rc=$?; t1=$EPOCHREALTIME
  echo "$(elapsed "$t0" "$t1")$( [ "$rc" = 0 ] || echo " exit=$rc")"
  [ "$rc" = 0 ] || sed 's/^/bench: /' "$work/err" | head -3 >&2
}
rtimed() {
  local in=$1 t0 t1 rc=0; shift
  t0=$EPOCHREALTIME; /usr/bin/time -f "%M" -o "$work/rss" "$@" < "$in" >"${OUTFILE:-/dev/null}" 2>"$work/err" || rc=$?; t1=$EPOCHREALTIME
  echo "$(elapsed "$t0" "$t1") rss_kb=$(tail -1 "$work/rss")$( [ "$rc" = 0 ] || echo " exit=$rc")"
  [ "$rc" = 0 ] || sed 's/^/bench: /' "$work/err" | head -3 >&2
}
lat_start() {
  lat_file="$work/lat.$BASHPID"
  rm -f "$lat_file.stop" "$lat_file.stop.ready"
  /usr/bin/python3 bench/latency.py "$@" "$lat_file.stop" > "$lat_file" &
  lat_pid=$!
  local i
  for ((i = 0; i < 1000; i++)); do [ -e "$lat_file.stop.ready" ] && break; sleep 0.01; done
  [ -e "$lat_file.stop.ready" ] || { echo "bench: latency client did not start: $*" >&2; return 1; }
  sleep 0.05  # a few samples before the case starts
}
lat_stop() { touch "$lat_file.stop"; wait "$lat_pid" || true; cat "$lat_file"; rm -f "$lat_file" "$lat_file.stop" "$lat_file.stop.ready"; }  # in the shell that started it, not in $(...)
