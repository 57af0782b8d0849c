#!/usr/bin/env bash
# How `diffuse generate` shares the cores: a loop of generate runs alone, two such loops at once,
# and one loop beside a busy process (one spinning shell per core), with each loop's rate and
# its ratio to the solo rate (issue #23 asks for ≥ 0.4 each when two loops share the cores), and the
# CPU seconds each image cost (threads that spin while waiting make that grow under contention).
# Usage: scripts/bench-contention.sh [SECONDS] [ENV=VALUE ...]
#   SECONDS: how long each phase runs (default 20). ENV=VALUE: set for every diffuse process,
#   e.g. GOMP_SPINCOUNT=300000 for libgomp's default spinning (what diffuse did before it set
#   its own wait policy), or OMP_WAIT_POLICY=passive.
# Each run loads the shipped model and writes one 64×64 image: the whole CLI, as a user runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
settings=("$@")
diffuse=${DIFFUSE:-.build/release/diffuse}
[ -x "$diffuse" ] || { echo "error: no diffuse binary at $diffuse (swift build -c release)" >&2; exit 1; }
out=$(mktemp -d)
burners=()
cleanup() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

# loop NAME: generate images until SECONDS have passed; writes "runs elapsed" to $out/NAME and
# each run's user and system CPU seconds to $out/NAME.cpu (spinning threads inflate them).
loop() {
  local name=$1 runs=0 start now last TIMEFORMAT='%U %S'
  start=$(date +%s.%N)
  last=$start
  while :; do
    now=$(date +%s.%N)
    if awk -v a="$now" -v b="$start" -v s="$seconds" 'BEGIN { exit !(a - b >= s) }'; then break; fi
    { time env "${settings[@]}" "$diffuse" generate "red apple" --seed "$runs" --quiet -o "$out/$name.png" >/dev/null; } 2>> "$out/$name.cpu"
    runs=$((runs + 1))
    last=$(date +%s.%N)
  done
  echo "$runs $(awk -v a="$last" -v b="$start" 'BEGIN { print a - b }')" > "$out/$name"
}
rate() { awk '{ printf "%.3f", $1 / $2 }' "$out/$1"; }
cpu() { awk '{ s += $1 + $2; n++ } END { printf "%.2f", n ? s / n : 0 }' "$out/$1.cpu"; }

echo "settings: ${settings[*]:-(none)}; $seconds s per phase; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
env "${settings[@]}" "$diffuse" generate "red apple" --quiet -o "$out/warm.png" >/dev/null  # page cache
loop solo
loop pair_a & loop pair_b & wait
for _ in $(seq "$(nproc)"); do (while :; do :; done) & burners+=($!); done
loop busy
for pid in "${burners[@]}"; do kill "$pid"; done
burners=()

solo=$(rate solo)
printf '%-30s %6s %8s %7s %12s\n' phase runs "img/s" "x solo" "CPU s/img"
for name in solo pair_a pair_b busy; do
  case $name in
    solo) label="alone" ;;
    busy) label="beside $(nproc) spinning shells" ;;
    *) label="two loops at once ($name)" ;;
  esac
  printf '%-30s %6s %8s %7s %12s\n' "$label" "$(cut -d' ' -f1 "$out/$name")" "$(rate $name)" \
    "$(awk -v r="$(rate $name)" -v s="$solo" 'BEGIN { printf "%.2f", r / s }')" "$(cpu $name)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
