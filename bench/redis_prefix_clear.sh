#!/usr/bin/env bash
# The Redis listing cases of bench/run.sh alone: `keys`, `clear --prefix` and
# `delete-pattern` over N keys (default 1,000,000) under a prefix, 1,000 keys
# of another prefix kept, while a second client's GET latency is sampled
# (bench/latency.py; p50/p99/max), against `redis-cli --scan --pattern P |
# xargs -n 500 redis-cli unlink`. Writes bench/results-redis-scan.json
# (bench/results-redis-prefix.json is the single run of 2026-11-22).
#   N=1000000 bash bench/redis_prefix_clear.sh
cd "$(dirname "$0")/.."
N="${N:-1000000}" RUNS="${RUNS:-1}" ONLY=redis-scan OUT="${OUT:-bench/results-redis-scan.json}" exec bash bench/run.sh
