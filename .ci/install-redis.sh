#!/usr/bin/env bash
# Installs Debian's redis-server for the Redis limiter tests, unless it is already there.
# Idempotent and quiet; the tests fail (rather than skip) without it when CI=true.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
