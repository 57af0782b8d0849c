#!/usr/bin/env bash
# Data-parallel figures on this machine: MPI_Allreduce on the gradients' sizes, and
# `train-vae` (default model, batch 24) as 2 ranks × 1 thread against 1 process × 2 threads.
# Usage: scripts/bench-mpi.sh [DATA] [STEPS] [REPEATS]   (default ../shared/datasets/emoji32, 12, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets/emoji32}; steps=${2:-12}; repeats=${3:-3}
mpirun="mpirun --allow-run-as-root --oversubscribe"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/allreduce-bench" scripts/allreduce-bench.c
echo "# MPI_Allreduce, 2 ranks on this host"
$mpirun -np 2 "$work/allreduce-bench" 10

# Images per second from the CSV's clock: steps 2..N (step 1 holds the first-step set-up).
rate() {
    awk -F, -v batch=24 'NR==3 {t0=$NF; s0=$1} END {printf "%.1f", ($1-s0)*batch/($NF-t0)}' "$1/training/vae.csv"
}
echo "# train-vae, default model, --batch-size 24, $steps steps (img/s over steps 2..$steps)"
args=(train-vae --data "$data" --steps 1000 --stop-after "$steps")
for r in $(seq "$repeats"); do
    rm -rf "$work/one" "$work/two"
    .build/release/diffuse "${args[@]}" --out "$work/one" --threads 2 --quiet
    $mpirun -np 2 --bind-to core .build/release/diffuse "${args[@]}" --out "$work/two" --threads 1 2> "$work/two.err"
    echo "run $r: 1 process x 2 threads $(rate "$work/one") img/s; 2 ranks x 1 thread $(rate "$work/two") img/s; $(grep all-reduce "$work/two.err" || true)"
done
