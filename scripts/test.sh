#!/usr/bin/env bash
# Builds in release mode (debug Swift is far too slow for numeric code) and runs every test.
# The tests read ../shared beside the repository and fail when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
