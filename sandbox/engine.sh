#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and we are root on Debian, install Debian's
# docker.io (engine 20.10) and start dockerd in the background; otherwise say how to get one.
# Idempotent and quick when an engine already runs: `make test`, `make demo` and .ci/run call it.
set -euo pipefail

LOG=${POC_DOCKERD_LOG:-/var/log/poc-runner-dockerd.log}

answers() { timeout 5 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && answers; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  cat >&2 <<'MSG'
poc-runner needs a Docker engine and none answers.
Start Docker (Docker Desktop, or `sudo systemctl start docker`), or point DOCKER_HOST at one,
then try again. `poc doctor` shows what is missing.
MSG
  exit 3
fi

if ! command -v dockerd >/dev/null; then
  echo "sandbox: installing Debian's docker.io (about a minute, once)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io >/dev/null
fi

echo "sandbox: starting dockerd (log: $LOG)" >&2
# setsid: dockerd must outlive this script and the make that called it.
setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &

for _ in $(seq 1 60); do
  if answers; then
    exit 0
  fi
  sleep 0.5
done
echo "sandbox: dockerd did not answer within 30 s; see $LOG" >&2
exit 3
