#!/usr/bin/env bash
# Memory and bulk speed over many keys: set-many/get-many of N JSON lines
# into a private redis-server and memcached (max RSS by /usr/bin/time),
# the prefix delete against `redis-cli --scan | xargs redis-cli unlink`,
# and database-cache stats over N rows in PostgreSQL (if it runs here).
#   N=1000000 bash bench/bulk_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
N="${N:-1000000}"
bash scripts/build.sh
. bench/lib.sh
bench_init bench
measure() { # label command... -> prints seconds and max RSS
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1 || true
  read -r secs kb < "$work/t"
  printf '%-46s %8ss  max RSS %6d MiB\n' "$1" "$secs" $((kb / 1024))
}
seq 1 "$N" | awk '{printf "{\"key\":\"k%d\",\"value\":\"v%d\"}\n",$1,$1}' > "$work/lines.jsonl"
seq 1 "$N" | awk '{print "k"$1}' > "$work/keys.txt"
rp=$(port)
redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no >/dev/null & pids+=($!)
until redis-cli -p "$rp" ping >/dev/null 2>&1; do sleep 0.05; done
R="redis://127.0.0.1:$rp/0"
echo "N=$N"
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$R" set-many "$work/lines.jsonl" >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "redis set-many" "$s" $((kb / 1024))
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$R" get-many - < "$work/keys.txt" >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "redis get-many" "$s" $((kb / 1024))
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$R" keys --quiet >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "redis keys (SCAN)" "$s" $((kb / 1024))
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$R" delete-pattern '*' --yes >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "redis delete-pattern" "$s" $((kb / 1024))
bin/cachectl -C "$R" set-many "$work/lines.jsonl" >/dev/null 2>&1
t0=$(date +%s.%N)
redis-cli -p "$rp" --scan --pattern ':1:*' | xargs -n 500 redis-cli -p "$rp" unlink >/dev/null
t1=$(date +%s.%N)
printf '%-46s %8.2fs\n' "redis-cli --scan | xargs redis-cli unlink" "$(python3 -c "print($t1-$t0)")"
mp=$(port)
memcached -l 127.0.0.1 -p "$mp" -U 0 -m 1024 $( [ "$(id -u)" = 0 ] && echo -u root ) & pids+=($!)
sleep 0.3
M="pymemcache://127.0.0.1:$mp"
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$M" set-many "$work/lines.jsonl" >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "memcached set-many" "$s" $((kb / 1024))
/usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$M" get-many - < "$work/keys.txt" >/dev/null 2>&1; read -r s kb < "$work/t"
printf '%-46s %8ss  max RSS %6d MiB\n' "memcached get-many" "$s" $((kb / 1024))
if psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
  db="cachectl_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "create database $db" >/dev/null
  P="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable&table=cache"
  bin/cachectl -C "$P" createcachetable >/dev/null 2>&1
  psql -h 127.0.0.1 -U postgres -d "$db" -qc "insert into cache select ':1:k'||g, 'gAVOLg==', now() + (g % 1000 - 500) * interval '1 second' from generate_series(1, $N) g; analyze cache;" >/dev/null
  /usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$P" stats >/dev/null 2>&1; read -r s kb < "$work/t"
  printf '%-46s %8ss\n' "postgres stats over $N rows" "$s"
  /usr/bin/time -f "%e %M" -o "$work/t" bin/cachectl -C "$P" prune-expired >/dev/null 2>&1; read -r s kb < "$work/t"
  printf '%-46s %8ss\n' "postgres prune-expired (about half the rows)" "$s"
  psql -h 127.0.0.1 -U postgres -qc "drop database $db" >/dev/null
fi
