#!/usr/bin/env bash
# Build the local base image without a registry: Debian bookworm (minbase) with python3, from
# Debian's packages, imported into the engine. Cached by tag: a second call returns at once.
# Example scenarios and `poc init` templates build FROM it (`ARG BASE=...`), so they run offline;
# a user with a registry can pass another base through the build args.
set -euo pipefail

TAG=${POC_BASE_IMAGE:-poc-runner/base:bookworm}
# debootstrap's own default mirror unless POC_DEBIAN_MIRROR names another (a local one, say).
MIRROR=(${POC_DEBIAN_MIRROR:+"$POC_DEBIAN_MIRROR"})

if docker image inspect "$TAG" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "sandbox: building $TAG needs root (debootstrap); run: sudo $0" >&2
  exit 3
fi
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

ROOT=$(mktemp -d /tmp/poc-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
echo "sandbox: building $TAG from Debian packages (one to two minutes, once)" >&2
debootstrap --variant=minbase --include=python3 bookworm "$ROOT" "${MIRROR[@]}" >"$ROOT.log" 2>&1 || {
  tail -20 "$ROOT.log" >&2
  exit 3
}
rm -f "$ROOT.log"
# The image only needs what is installed: drop caches that only make it bigger.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* \
  "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/*
tar -C "$ROOT" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1' \
  --change 'CMD ["python3"]' \
  - "$TAG" >/dev/null
echo "sandbox: $TAG ready" >&2
