#!/usr/bin/env bash
# Diffuse and PyTorch + diffusers on the four cases of ../shared/bench, side by side in one run,
# with the ratios the performance issue asks for (time ≤ 0.7× / 0.8×, peak memory ≤ 1×).
# Usage: scripts/bench-vs-torch.sh [TORCH_PYTHON] [CASE ...]
#   TORCH_PYTHON: a python with torch and diffusers 0.39 (default ../torchref/bin/python; the
#   README says how to make it). Run on a quiet machine: a second busy process on the same
#   cores slows oneDNN and PyTorch several-fold and makes every figure lie.
#   $DIFFUSE_BENCH: a diffuse-bench binary to use as it is (default: build .build/release/diffuse-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-../torchref/bin/python}
shift || true
cases=${*:-bench_unet_fwd bench_unet_train sd15_unet_fwd sd15_vae_decode}
[ -x "$python" ] || { echo "error: no python with torch at $python (see README: Performance)" >&2; exit 1; }
bench=${DIFFUSE_BENCH:-.build/release/diffuse-bench}
[ -n "${DIFFUSE_BENCH:-}" ] || swift build -c release --product diffuse-bench >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for name in $cases; do
  # Alternate the two sides case by case so that drift in machine speed hits both alike.
  "$bench" "$name" --shared ../shared | tee -a "$out/diffuse.jsonl"
  "$python" ../shared/bench/bench_torch.py --cases "$name" --jsonl | grep '^{' | tee -a "$out/torch.jsonl"
done
python3 - "$out/diffuse.jsonl" "$out/torch.jsonl" <<'EOF'
import json, sys
ours = {r["case"]: r for r in map(json.loads, open(sys.argv[1]))}
theirs = {r["case"]: r for r in map(json.loads, open(sys.argv[2]))}
target = {"bench_unet_fwd": 0.7, "bench_unet_train": 0.7, "sd15_unet_fwd": 0.8, "sd15_vae_decode": 0.8}
print(f"\n{'case':18} {'diffuse s':>10} {'torch s':>10} {'ratio':>6} {'target':>6}  {'diffuse MB':>10} {'torch MB':>9} {'ratio':>6}")
for case, a in ours.items():
    b = theirs.get(case)
    if not b: continue
    t, m = a["median_s"] / b["median_s"], a["peak_rss_mb"] / b["peak_rss_mb"]
    ok = "ok" if t <= target[case] and m <= 1 else "MISS"
    print(f"{case:18} {a['median_s']:10.4f} {b['median_s']:10.4f} {t:6.2f} {target[case]:6.1f}  "
          f"{a['peak_rss_mb']:10d} {round(b['peak_rss_mb']):9d} {m:6.2f}  {ok}")
EOF
