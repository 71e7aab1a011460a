#!/usr/bin/env bash
# Unpacks newer Django releases beside bookworm's python3 for the interop
# tests: Debian trixie's Django 4.2 (Django's own RedisCache is 4.0+) and
# sid's Django 5.2 with django-redis 7 and pymemcache 4 (bookworm ships
# Django 3.2, django-redis 5.2.0 and pymemcache 3.5.2; pylibmc is a C
# extension, so every Django uses bookworm's). Each goes to DEST/<suite>,
# with the Debian version of its Django in DEST/<suite>/DJANGO_VERSION,
# "package version" lines for every .deb in DEST/<suite>/VERSIONS and the
# package list it was made from in DEST/<suite>/PACKAGES. Uses a private
# apt sources list and state directory: nothing changes system-wide.
# Idempotent: a suite already unpacked from the same package list is left
# alone; one unpacked from another list (a package added here) is fetched
# again.
#   scripts/fetch-django.sh [DEST]   (default /var/cache/cachectl-django)
set -euo pipefail
DEST="${1:-/var/cache/cachectl-django}"
declare -A PACKAGES=(
  [trixie]="python3-django python3-asgiref python3-redis"
  [sid]="python3-django python3-asgiref python3-redis python3-django-redis python3-pymemcache"
)
# What must import under bookworm's /usr/bin/python3 for a suite to be used.
declare -A IMPORTS=(
  [trixie]="django asgiref redis"
  [sid]="django asgiref redis pymemcache"
)
# The machine's own mirror, read from its sources.
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$uri" ] || uri=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
# Byte-compiles an unpacked suite once (Debian does it at install time;
# dpkg -x does not), so that each test's Python does not recompile Django.
compile_suite() {
  [ -f "$1/.compiled" ] && return 0
  /usr/bin/python3 -m compileall -q -j 0 "$1/usr/lib/python3/dist-packages" >/dev/null 2>&1 || true
  touch "$1/.compiled"
}
for suite in trixie sid; do
  if [ -f "$DEST/$suite/DJANGO_VERSION" ] && [ -f "$DEST/$suite/usr/lib/python3/dist-packages/django/__init__.py" ] &&
     [ "$(cat "$DEST/$suite/PACKAGES" 2>/dev/null)" = "${PACKAGES[$suite]}" ]; then
    compile_suite "$DEST/$suite"
    continue
  fi
  # Found unusable today, from the same package list: not asked again.
  [ -f "$DEST/$suite.unusable" ] && [ -n "$(find "$DEST/$suite.unusable" -mtime -1)" ] &&
    [ "$(cat "$DEST/$suite.unusable-packages" 2>/dev/null)" = "${PACKAGES[$suite]}" ] && continue
  [ -n "$uri" ] || { echo "fetch-django: no Debian mirror configured" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT  # a failed download leaves nothing behind
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$DEST"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$work/sources.list"
  opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq >/dev/null
  (cd "$work" && apt-get "${opts[@]}" download ${PACKAGES[$suite]} >/dev/null)
  rm -rf "$DEST/$suite.new" && mkdir -p "$DEST/$suite.new"
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$DEST/$suite.new"; done
  dpkg-deb -f "$work"/python3-django_*.deb Version > "$DEST/$suite.new/DJANGO_VERSION"
  for deb in "$work"/*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"; done > "$DEST/$suite.new/VERSIONS"
  echo "${PACKAGES[$suite]}" > "$DEST/$suite.new/PACKAGES"
  # A rolling suite can move to a Django that needs a newer Python than
  # bookworm's: then record why ("python:" when Django itself does not
  # import), and the tests leave that suite out by name. Any other import
  # failure (a package beside Django missing a dependency) is recorded as
  # "dependency:", which the tests treat as a setup error under CI.
  rm -f "$DEST/$suite.unusable" "$DEST/$suite.unusable-packages"
  py=(env PYTHONPATH="$DEST/$suite.new/usr/lib/python3/dist-packages" /usr/bin/python3 -c)
  kind=""
  if ! "${py[@]}" "import django" 2>"$work/import.err"; then
    kind=python
  elif ! "${py[@]}" "import $(echo ${IMPORTS[$suite]} | tr ' ' ,)" 2>"$work/import.err"; then
    kind=dependency
  fi
  if [ -n "$kind" ]; then
    echo "$kind: $suite's python3-django $(cat "$DEST/$suite.new/DJANGO_VERSION") or a package beside it (${IMPORTS[$suite]}) does not import under $(/usr/bin/python3 -V): $(tail -1 "$work/import.err")" > "$DEST/$suite.unusable"
    echo "${PACKAGES[$suite]}" > "$DEST/$suite.unusable-packages"
    echo "fetch-django: warning: $(cat "$DEST/$suite.unusable")" >&2
    rm -rf "$DEST/$suite.new"
    continue
  fi
  rm -rf "$DEST/$suite" && mv "$DEST/$suite.new" "$DEST/$suite"
  compile_suite "$DEST/$suite"
  echo "fetch-django: unpacked $(cd "$work" && ls *.deb | tr '\n' ' ')into $DEST/$suite"
  rm -rf "$work"
done
