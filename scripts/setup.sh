#!/usr/bin/env bash
# Installs the system libraries Diffuse needs (Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."
packages="libpng-dev libjpeg-dev libdnnl-dev pkg-config libopenmpi-dev openmpi-bin iproute2"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
