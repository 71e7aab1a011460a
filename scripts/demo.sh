#!/usr/bin/env bash
# Builds cachectl and runs it against an embedded default: a Django file
# cache in a fresh temporary directory, which needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
bash scripts/build.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/cachectl-demo.XXXXXX")
export CACHECTL_CACHE="filecache://$dir?key_prefix=demo&version=1"
echo "cache: $CACHECTL_CACHE"
set -x
bin/cachectl config show
bin/cachectl set greeting "hello"
bin/cachectl get greeting
bin/cachectl set --type json cart:42 '{"items": [1, 2, 3], "total": 9.5}'
bin/cachectl get --format repr cart:42
bin/cachectl incr-version greeting
bin/cachectl get --version 2 greeting
bin/cachectl make-fragment-key sidebar alice 42
bin/cachectl stats
bin/cachectl clear --yes
