#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test suite
# (unit, conformance against real servers, Django interop, testscripts) and
# a short run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="/usr/local/go/bin:$PATH"
go vet ./...
go test -count=1 -timeout 20m ./...
# The packages with concurrent code again under the race detector (a race
# in the Redis cluster walk was found this way).
go test -race -count=1 -timeout 20m ./commands ./backends ./backends/redis ./backends/memcached/... ./backends/db ./backends/file
# Each fuzz target runs briefly; crashers land in testdata/fuzz and fail the run.
FUZZTIME="${FUZZTIME:-10s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target ($FUZZTIME)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >/dev/null
  done
done
echo "all tests passed"
