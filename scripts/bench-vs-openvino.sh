#!/usr/bin/env bash
# Diffuse and OpenVINO on the cases of ../shared/bench/bench_openvino.py, side by side in one run:
# float32 on both sides, then bf16 on both sides, case by case, with the ratios issue #23 asks for
# (float32 ≤ 1.0× OpenVINO f32; bf16 ≤ 0.9× OpenVINO bf16 on the SD 1.5 cases).
# Usage: scripts/bench-vs-openvino.sh [OPENVINO_PYTHON] [CASE ...]
#   OPENVINO_PYTHON: a python with openvino 2026.4.1, torch and diffusers 0.39 (default
#   /root/venvs/openvino/bin/python; the README says how to make it, outside the repository).
#   CASE: bench_unet_fwd sd15_unet_fwd sd15_vae_decode (default: all three).
#   $DIFFUSE_BENCH: a diffuse-bench binary to use as it is (default: build .build/release/diffuse-bench).
# Run on a quiet machine: a second busy process on the same cores makes every figure lie. On a
# CPU without AVX-512 BF16 both sides run their bf16 rows in float32 (Diffuse says so on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-/root/venvs/openvino/bin/python}
shift || true
cases=${*:-bench_unet_fwd sd15_unet_fwd sd15_vae_decode}
[ -x "$python" ] || { echo "error: no python with openvino at $python (see README: Performance)" >&2; exit 1; }
"$python" -c 'import openvino, diffusers, torch' || { echo "error: $python lacks openvino, diffusers or torch" >&2; exit 1; }
# DIFFUSE_BENCH: an already built diffuse-bench (e.g. the test build's, to skip a second build).
bench=${DIFFUSE_BENCH:-.build/release/diffuse-bench}
[ -n "${DIFFUSE_BENCH:-}" ] || swift build -c release --product diffuse-bench >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for name in $cases; do
  # Alternate the two sides case by case so that drift in machine speed hits both alike.
  for precision in fp32 bf16; do
    "$bench" "$name" --shared ../shared --precision "$precision" \
      | sed "s/^{/{\"asked\": \"$precision\", /" | tee -a "$out/diffuse.jsonl"
    ov=$([ "$precision" = fp32 ] && echo f32 || echo bf16)
    "$python" ../shared/bench/bench_openvino.py --cases "$name" --precision "$ov" | grep '^{' \
      | sed "s/^{/{\"asked\": \"$precision\", /" | tee -a "$out/openvino.jsonl"
  done
done
python3 - "$out/diffuse.jsonl" "$out/openvino.jsonl" <<'EOF'
import json, sys
def table(path):
    rows = {}
    for r in map(json.loads, open(path)):
        rows[(r["case"], r["asked"])] = r
    return rows
ours, theirs = table(sys.argv[1]), table(sys.argv[2])
target = {"fp32": {"bench_unet_fwd": 1.0, "sd15_unet_fwd": 1.0, "sd15_vae_decode": 1.0},
          "bf16": {"sd15_unet_fwd": 0.9, "sd15_vae_decode": 0.9}}
print(f"\n{'case':16} {'precision':9} {'diffuse s':>10} {'openvino s':>10} {'ratio':>6} {'target':>6}  "
      f"{'diffuse ran':>13} {'diffuse MB':>10}")
for (case, asked), a in ours.items():
    b = theirs.get((case, asked))
    if not b or "median_s" not in b:
        print(f"{case:16} {asked:9} {a['median_s']:10.4f} {'failed':>10}  {(b or {}).get('error', '')[-200:]}")
        continue
    ratio = a["median_s"] / b["median_s"]
    goal = target[asked].get(case)
    verdict = "" if goal is None else ("ok" if ratio <= goal else "MISS")
    print(f"{case:16} {asked:9} {a['median_s']:10.4f} {b['median_s']:10.4f} {ratio:6.2f} "
          f"{'' if goal is None else f'{goal:.1f}':>6}  {a.get('precision', '?'):>13} {a['peak_rss_mb']:10d}  {verdict}")
EOF
