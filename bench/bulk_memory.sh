#!/usr/bin/env bash
# The bulk cases of bench/run.sh alone, at the issue's size by default:
# set-many/get-many/delete-many of N keys on Redis and memcached (with
# cachectl's max RSS at N and at N/10), keys / clear --prefix /
# delete-pattern against `redis-cli --scan | xargs redis-cli unlink` with a
# concurrent GET client, and the PostgreSQL database cache's stats and
# prune-expired. Writes bench/results-bulk.json.
#   N=1000000 bash bench/bulk_memory.sh
# (Until 2026-12-01 this was a script of its own, timing each case once.)
cd "$(dirname "$0")/.."
N="${N:-1000000}" RUNS="${RUNS:-1}" ONLY="${ONLY:-redis-bulk|redis-scan|memcached-bulk|db}" \
  OUT="${OUT:-bench/results-bulk.json}" exec bash bench/run.sh
