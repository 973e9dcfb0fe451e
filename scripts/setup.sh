#!/bin/sh
# Set-up shared by `npm test` and `npm run demo`: installs what a fresh Debian machine lacks.
# Idempotent and quick when everything is already there.
set -eu
cd "$(dirname "$0")/.."

missing=""
for pair in python3:python3-minimal etcd:etcd-server etcdctl:etcd-client arping:arping ip:iproute2 shellcheck:shellcheck \
  unshare:util-linux nsenter:util-linux curl:curl sudo:sudo systemd-analyze:systemd chromium:chromium haproxy:haproxy \
  prometheus:prometheus zsh:zsh; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing$missing"
    apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: missing$missing (install them as root; tests that need them will skip)" >&2
  fi
fi

# Install dependencies when node_modules is absent or older than the lockfile. `npm ci` installs exactly
# what package-lock.json says and never rewrites it, so a run leaves the checkout as it found it.
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] ||
  [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; then
  echo "setup: npm ci (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The web console (dist/console, served at /) and the agent bundle for this machine's arch (the
# coordinator serves it to the test world's nodes); each is rewritten only when its inputs changed.
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch="" ;;
esac
if [ -n "$arch" ]; then
  # The pinned Node 24: npm puts it first on PATH for npm scripts, but .ci/run calls this directly.
  node_modules/.bin/node scripts/build.ts --arch "$arch" --agent-only >/dev/null
fi
