#!/usr/bin/env bash
# Installs everything cachectl's tests need, idempotently: Debian packages
# (memcached, SASL tools, Django and the Python cache clients), the Go
# modules, and the local services the tests talk to when they are not up.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-typing-extensions  # sid's django-redis 7 (fetch-django.sh) imports it on Python < 3.13
  memcached sasl2-bin libmemcached-tools redis-server redis-tools
  python3-django python3-django-redis python3-pymemcache python3-pylibmc python3-memcache
  python3-psycopg2 python3-mysqldb python3-redis python3-lz4 python3-msgpack python3-tz
  tzdata gcc libc6-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian may start memcached as a service on install (where no policy-rc.d
# forbids it), on 127.0.0.1:11211: one test serves the server-selection
# vectors on their fixed addresses (11211, 21211-21215), so stop it there.
if [ -x /etc/init.d/memcached ] && (echo > /dev/tcp/127.0.0.1/11211) 2>/dev/null; then
  /etc/init.d/memcached stop >/dev/null 2>&1 || true
fi

# Newer Django releases (RedisCache needs 4.0+) unpacked beside bookworm's.
if [ -x scripts/fetch-django.sh ]; then
  scripts/fetch-django.sh || echo "setup: warning: could not fetch newer Django releases" >&2
fi

# Services this machine kind normally starts; start them if they are down.
if command -v pg_ctlcluster >/dev/null && ! (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v mariadbd >/dev/null && ! (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && break; sleep 0.2; done
fi

export PATH="/usr/local/go/bin:$PATH"
go mod download
