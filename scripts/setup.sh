#!/usr/bin/env bash
# Installs the system libraries Diffuse needs (Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium, chromium-driver and python3 run the studio's browser test (Tests/ServerTests/BrowserTests.swift);
# Open MPI runs data-parallel training, and iproute2 its two-host check (scripts/test-mpi-netns.sh).
packages="libpng-dev libjpeg-dev libdnnl-dev pkg-config chromium chromium-driver python3 libopenmpi-dev openmpi-bin iproute2"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
