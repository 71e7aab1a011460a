#!/usr/bin/env bash
# Shows that `cachectl clear --prefix` on a large Redis database does not
# block other clients: it loads N keys (default 1,000,000) under a prefix
# into a private redis-server, runs the prefix clear, and meanwhile a second
# client measures GET latency; prints p50/p99/max and the clear's time, and
# appends the result to bench/results-redis-prefix.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
N="${N:-1000000}"
bash scripts/build.sh  # static, stripped, no man-page generator: the fastest start
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
# Keys of this cache and of another one (which must survive).
python3 - "$N" <<'PY' | redis-cli -p "$port" --pipe >/dev/null
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    k = "site:1:k%d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k))
for i in range(1000):
    k = "other:1:k%d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k))
PY
echo "loaded $(redis-cli -p "$port" dbsize) keys"
redis-cli -p "$port" set probe x >/dev/null
lat=$(mktemp)
python3 - "$port" "$lat" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
samples = []
end = time.time() + 600
stop = out + ".stop"
import os
while time.time() < end and not os.path.exists(stop):
    t0 = time.perf_counter()
    s.sendall(b"*2\r\n$3\r\nGET\r\n$5\r\nprobe\r\n")
    s.recv(64)
    samples.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.001)
samples.sort()
with open(out, "w") as f:
    n = len(samples)
    f.write("%d %.3f %.3f %.3f\n" % (n, samples[n // 2], samples[int(n * 0.99)], samples[-1]))
PY
probe=$!
start=$(date +%s.%N)
bin/cachectl -C "redis://127.0.0.1:$port/0?key_prefix=site" clear --prefix --yes
end=$(date +%s.%N)
touch "$lat.stop"; wait $probe
read -r n p50 p99 max < "$lat"
left=$(redis-cli -p "$port" dbsize)
secs=$(python3 -c "print(round($end - $start, 2))")
echo "clear --prefix of $N keys: ${secs}s; concurrent GET latency over $n samples: p50 ${p50}ms p99 ${p99}ms max ${max}ms; $left keys left (1001 expected)"
printf '{"keys": %d, "clear_seconds": %s, "get_samples": %d, "p50_ms": %s, "p99_ms": %s, "max_ms": %s, "keys_left": %d}\n' \
  "$N" "$secs" "$n" "$p50" "$p99" "$max" "$left" > bench/results-redis-prefix.json
rm -f "$lat" "$lat.stop"
