#!/usr/bin/env bash
# The tests of the C targets and the Swift code over them under sanitizers, in .build-asan:
# C (CKernels, CImageCodecs, CMPIShim) with -fsanitize=address,undefined (no recovery: the first
# finding fails the test), Swift with -sanitize=address (Swift has no UB sanitizer on Linux; its
# own overflow and bounds checks stay on). System libraries (oneDNN, libpng, libjpeg) are not
# instrumented, but every buffer we hand them is.
#   scripts/sanitize.sh                 the default filters below
#   scripts/sanitize.sh FILTER...       other test filters
set -euo pipefail
cd "$(dirname "$0")/.."

filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=(KernelTests ImagingTests TensorCoreTests NNTests FileIOTests)

flags=(-c release --scratch-path .build-asan
       -Xswiftc -sanitize=address -Xswiftc -enable-testing
       -Xcc -fsanitize=address,undefined -Xcc -fno-sanitize-recover=all -Xcc -fno-omit-frame-pointer)
# Leak checking is off: the Swift runtime's lifetime caches and XCTest read as leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The sanitizer reports the crash; Swift's own backtracer would linger holding the output open.
export SWIFT_BACKTRACE=enable=no

mkdir -p .build-asan
status=0
swift build "${flags[@]}" --build-tests >.build-asan/build.log 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    grep -v "Cannot export local symbol" .build-asan/build.log | tail -30 >&2
    echo "error: the sanitizer build failed (log: .build-asan/build.log)" >&2
    exit 1
fi
for filter in "${filters[@]}"; do
    echo "sanitize: $filter"
    # MemoryTests measure resident memory, which ASan's quarantine of freed blocks inflates by design.
    swift test "${flags[@]}" --skip-build --filter "$filter" --skip MemoryTests
done
echo "sanitize: clean (${filters[*]})"
