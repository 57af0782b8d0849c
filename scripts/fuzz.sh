#!/usr/bin/env bash
# libFuzzer over every parser of untrusted files (Fuzz/), built with -sanitize=fuzzer,address.
#   scripts/fuzz.sh --list              the targets
#   scripts/fuzz.sh TARGET SECONDS      build (incremental) and fuzz one target
#   scripts/fuzz.sh all SECONDS         every target in turn, SECONDS each
# Seeds come from ../shared/corpora and ../shared/fixtures (or $DIFFUSE_SHARED); the corpus a run
# grows is kept in .build-fuzz/corpus/TARGET. A crash stops the run with a non-zero exit and
# leaves the input in .build-fuzz/crashes/TARGET/ (replay: scripts/fuzz.sh TARGET FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

targets="png jpeg safetensors config tokenizer-files tokenize checkpoint lora single-file"
scratch=${DIFFUSE_FUZZ_SCRATCH:-.build-fuzz}
binary=$scratch/release/diffuse-fuzz
shared=${DIFFUSE_SHARED:-../shared}
export DIFFUSE_SHARED=$shared
# Leak checking is off: the Swift runtime's lifetime caches read as leaks. Out-of-memory returns
# nil to the allocator's caller, so an oversized allocation shows as libFuzzer's malloc limit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
# The sanitizer reports the crash; Swift's own backtracer would linger holding the output open.
export SWIFT_BACKTRACE=enable=no

usage() { echo "usage: scripts/fuzz.sh --list | TARGET SECONDS | TARGET CRASH-FILE | all SECONDS" >&2; exit 2; }

build() {
    # Declared only when DIFFUSE_FUZZ=1 (Package.swift); own scratch path, so normal builds are untouched.
    mkdir -p "$scratch"
    # Cached: nothing to do when the binary is newer than every source.
    if [ -x "$binary" ] && [ -z "$(find Package.swift Sources Fuzz -newer "$binary" -print -quit)" ]; then return; fi
    local status=0
    DIFFUSE_FUZZ=1 swift build -c release --scratch-path "$scratch" --product diffuse-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
        -Xcc -fsanitize=fuzzer-no-link,address >"$scratch/build.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        # gold's "cannot export local symbol" lines about ASan's own symbols are noise.
        grep -v "Cannot export local symbol" "$scratch/build.log" | tail -30 >&2
        echo "error: the fuzz build failed (log: $scratch/build.log)" >&2
        exit 1
    fi
}

# Copies the shared files a target starts from into $1 (small files only: libFuzzer mutates whole inputs).
seed() {
    local target=$1 dir=$2
    rm -rf "$dir"; mkdir -p "$dir"
    [ -d "$shared/fixtures" ] || { echo "error: $shared/fixtures not found (set DIFFUSE_SHARED)" >&2; exit 1; }
    # find -L: models/ holds symbolic links; numbered backups keep files of the same name apart.
    local copy="cp --backup=numbered -t $dir"
    case $target in
        png) find -L "$shared/corpora/pngsuite" "$shared/corpora/bad" -name '*.png' -exec $copy {} + ;;
        jpeg) find -L "$shared/corpora/jpeg" "$shared/corpora/bad" \( -name '*.jpg' -o -name '*.jpeg' \) -exec $copy {} + ;;
        safetensors) find -L "$shared/fixtures" -name '*.safetensors' -size -300k -exec $copy {} + ;;
        config) find -L "$shared/fixtures" models -name '*.json' -size -20k -exec $copy {} + ;;
        lora) $copy "$shared"/fixtures/lora/lora_*.safetensors ;;
        tokenizer-files|tokenize|checkpoint|single-file) FUZZ_TARGET=$target FUZZ_WRITE_SEEDS=$dir "$binary" ;;
    esac
    # Inputs that once crashed the target start every run too.
    [ ! -d "Tests/FuzzRegressions/$target" ] || cp -t "$dir" "Tests/FuzzRegressions/$target"/*
}

run() {
    local target=$1 seconds=$2
    case " $targets " in *" $target "*) ;; *) echo "error: unknown fuzz target '$target' (scripts/fuzz.sh --list)" >&2; exit 2 ;; esac
    local corpus=$scratch/corpus/$target seeds=$scratch/seeds/$target crashes=$scratch/crashes/$target
    mkdir -p "$corpus" "$crashes"
    if [ -f "$seconds" ]; then  # replay one input
        FUZZ_TARGET=$target "$binary" "$seconds"
        return
    fi
    seed "$target" "$seeds"
    echo "fuzz: $target for ${seconds}s (corpus $corpus, crashes go to $crashes/)"
    # -rss_limit_mb: more than any legitimate small input needs; -timeout: one input may take 10 s at most.
    local status=0
    FUZZ_TARGET=$target "$binary" \
        -max_total_time="$seconds" -rss_limit_mb=3072 -malloc_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$seeds" \
        >"$scratch/$target.log" 2>&1 || status=$?
    grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$scratch/$target.log" >&2
        echo "error: fuzz target $target failed (exit $status); input in $crashes/, log $scratch/$target.log" >&2
        return "$status"
    fi
}

case "${1:-}" in
    --list) for t in $targets; do echo "$t"; done ;;
    all)
        [ $# -eq 2 ] || usage
        build
        failed=""
        for t in $targets; do run "$t" "$2" || failed="$failed $t"; done
        [ -z "$failed" ] || { echo "error: fuzz targets with findings:$failed" >&2; exit 1; }
        ;;
    "") usage ;;
    *)
        [ $# -eq 2 ] || usage
        case " $targets " in *" $1 "*) ;; *) echo "error: unknown fuzz target '$1' (scripts/fuzz.sh --list)" >&2; exit 2 ;; esac
        build
        run "$1" "$2"
        ;;
esac
