# Sourced by the train-emoji scripts: strict mode, the repository root, a release build, and
# `resume DIR`, the flag that continues an interrupted run in output folder DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >&2
diffuse=.build/release/diffuse

# `--resume` when DIR holds a checkpoint (a run was stopped there), else nothing.
resume() {
  if [ -f "$1/training/checkpoint.safetensors" ]; then echo --resume; fi
}

# True when output folder DIR's diffusion run has logged step STEP and written its pipeline.
finished() {
  local log="$1/training/diffusion.csv"
  [ -f "$1/unet/diffusion_pytorch_model.safetensors" ] && [ -f "$log" ] &&
    [ "$(tail -n 1 "$log" | cut -d, -f1)" -ge "$2" ] 2>/dev/null
}
